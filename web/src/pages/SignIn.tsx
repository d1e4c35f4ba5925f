import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { useApi } from "../api/ApiProvider";
import { ErrorMessage } from "../components/ErrorMessage";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";
import { PATHS, safeNext } from "../lib/paths";
import { useSubmit } from "../lib/useSubmit";

export function SignIn() {
  const { t } = useI18n();
  usePageTitle(t("signin.title"));
  const api = useApi();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [login, setLogin] = useState(params.get("username") ?? "");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useSubmit(async () => {
    await api.signin(login.trim(), password);
    navigate(safeNext(params.get("next")), { replace: true });
  });

  return (
    <section className="card narrow" aria-labelledby="signin-title">
      <h1 id="signin-title">{t("signin.title")}</h1>
      <form onSubmit={submit} data-testid="signin-form">
        <label htmlFor="signin-login">{t("signin.login")}</label>
        <input
          id="signin-login"
          name="username"
          autoComplete="username"
          required
          value={login}
          onChange={(e) => setLogin(e.target.value)}
        />
        <label htmlFor="signin-password">{t("field.password")}</label>
        <input
          id="signin-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy} data-testid="signin-submit">
          {busy ? t("signin.busy") : t("signin.submit")}
        </button>
      </form>
      <p>
        {t("signin.noAccount")} <Link to={PATHS.signUp}>{t("nav.signUp")}</Link>
      </p>
    </section>
  );
}
