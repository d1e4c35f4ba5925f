import { Link, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { lazy, Suspense } from "react";
import type { ReactNode } from "react";
import { useApi, useSession } from "./api/ApiProvider";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { LanguageSwitcher } from "./components/LanguageSwitcher";
import { useI18n } from "./i18n/I18nProvider";
import { Gallery } from "./pages/Gallery";
import { MyVideos } from "./pages/MyVideos";
import { PATHS } from "./lib/paths";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";
import { SignUp } from "./pages/SignUp";

// hls.js and tus-js-client are most of the code: load them with the pages that need them.
const Upload = lazy(() => import("./pages/Upload").then((m) => ({ default: m.Upload })));
const Watch = lazy(() => import("./pages/Watch").then((m) => ({ default: m.Watch })));

function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (!session) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`${PATHS.signIn}?next=${next}`} replace />;
  }
  return <>{children}</>;
}

function Header() {
  const { t } = useI18n();
  const api = useApi();
  const session = useSession();
  const navigate = useNavigate();
  const signOut = async () => {
    await api.signout();
    navigate(PATHS.signIn);
  };
  return (
    <header className="site-header">
      <Link to={PATHS.gallery} className="brand" data-testid="brand">
        {t("app.name")}
      </Link>
      <nav aria-label={t("nav.label")}>
        <NavLink to={PATHS.gallery} end>
          {t("nav.gallery")}
        </NavLink>
        {session && <NavLink to={PATHS.upload}>{t("nav.upload")}</NavLink>}
        {session && <NavLink to={PATHS.mine}>{t("nav.mine")}</NavLink>}
      </nav>
      <div className="header-end">
        <LanguageSwitcher />
        {session ? (
          <>
            <span className="whoami" data-testid="whoami">
              {t("nav.signedInAs", { username: session.user.username })}
            </span>
            <button type="button" className="link-button" onClick={signOut} data-testid="signout">
              {t("nav.signOut")}
            </button>
          </>
        ) : (
          <>
            <NavLink to={PATHS.signIn}>{t("nav.signIn")}</NavLink>
            <NavLink to={PATHS.signUp}>{t("nav.signUp")}</NavLink>
          </>
        )}
      </div>
    </header>
  );
}

export function App() {
  const { t } = useI18n();
  const location = useLocation();
  return (
    <>
      <a href="#main" className="skip-link">
        {t("nav.skip")}
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <ErrorBoundary
          key={location.pathname}
          message={t("error.page")}
          reload={t("common.reload")}
        >
          <Suspense fallback={<p role="status">{t("common.loading")}</p>}>
            <Routes>
              <Route path={PATHS.gallery} element={<Gallery />} />
              <Route path={PATHS.signIn} element={<SignIn />} />
              <Route path={PATHS.signUp} element={<SignUp />} />
              <Route
                path={PATHS.upload}
                element={
                  <RequireSession>
                    <Upload />
                  </RequireSession>
                }
              />
              <Route
                path={PATHS.mine}
                element={
                  <RequireSession>
                    <MyVideos />
                  </RequireSession>
                }
              />
              <Route path="/watch/:id" element={<Watch />} />
              <Route path="*" element={<NotFound />} />
            </Routes>
          </Suspense>
        </ErrorBoundary>
      </main>
    </>
  );
}
