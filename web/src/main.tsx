import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { ApiClient, localSessionStore } from "./api/client";
import { ApiProvider } from "./api/ApiProvider";
import { App } from "./App";
import { I18nProvider } from "./i18n/I18nProvider";
import "./styles.css";

const api = new ApiClient({ store: localSessionStore(window.localStorage) });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ApiProvider api={api}>
      <I18nProvider api={api}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </I18nProvider>
    </ApiProvider>
  </StrictMode>,
);
