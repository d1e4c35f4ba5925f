import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useApi } from "../api/ApiProvider";
import { ApiError } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { useI18n, usePageTitle } from "../i18n/I18nProvider";
import { PATHS } from "../lib/paths";
import { useSubmit } from "../lib/useSubmit";

export function SignUp() {
  const { t } = useI18n();
  usePageTitle(t("signup.title"));
  const api = useApi();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useSubmit(async () => {
    const user = await api.signup(username.trim(), email.trim(), password);
    // Sign straight in: one step fewer for a new user.
    await api.signin(user.username, password);
    navigate(PATHS.upload, { replace: true });
  });
  const invalidField = error instanceof ApiError ? error.field : undefined;

  return (
    <section className="card narrow" aria-labelledby="signup-title">
      <h1 id="signup-title">{t("signup.title")}</h1>
      <form onSubmit={submit} data-testid="signup-form">
        <label htmlFor="signup-username">{t("field.username")}</label>
        <input
          id="signup-username"
          name="username"
          autoComplete="username"
          required
          minLength={3}
          maxLength={32}
          aria-describedby="signup-username-hint"
          aria-invalid={invalidField === "username"}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <p id="signup-username-hint" className="hint">
          {t("signup.usernameHint")}
        </p>
        <label htmlFor="signup-email">{t("field.email")}</label>
        <input
          id="signup-email"
          name="email"
          type="email"
          autoComplete="email"
          required
          aria-invalid={invalidField === "email"}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor="signup-password">{t("field.password")}</label>
        <input
          id="signup-password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          aria-describedby="signup-password-hint"
          aria-invalid={invalidField === "password"}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <p id="signup-password-hint" className="hint">
          {t("signup.passwordHint", { count: 10 })}
        </p>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy} data-testid="signup-submit">
          {busy ? t("signup.busy") : t("signup.submit")}
        </button>
      </form>
      <p>
        {t("signup.haveAccount")} <Link to={PATHS.signIn}>{t("nav.signIn")}</Link>
      </p>
    </section>
  );
}
