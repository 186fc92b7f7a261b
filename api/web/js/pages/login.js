// Sign-in page: the OAuth2 password form; the service sets the session cookie.
import { addStrings, api, el, page, problem, render, session, t } from "../core.js";

addStrings({
  en: { login_title: "Sign in", username: "User name", password: "Password", sign_in: "Sign in",
        no_account: "No account yet? An administrator creates it; the first one with `carewatch users create-admin`." },
  zh: { login_title: "登录", username: "用户名", password: "密码", sign_in: "登录",
        no_account: "还没有账号？由管理员创建；第一个管理员用 `carewatch users create-admin` 创建。" },
});

page({
  path: "login",
  title: "login_title",
  render(main) {
    const message = el("p", { class: "error", role: "alert", "data-testid": "login-error" });
    const form = el("form", { class: "card narrow", "data-testid": "login-form" },
      el("h1", {}, t("login_title")),
      el("label", {}, t("username"),
        el("input", { name: "username", autocomplete: "username", required: true, "data-testid": "username" })),
      el("label", {}, t("password"),
        el("input", { name: "password", type: "password", autocomplete: "current-password", required: true,
                      "data-testid": "password" })),
      el("button", { type: "submit", class: "primary", "data-testid": "sign-in" }, t("sign_in")),
      message,
      el("p", { class: "muted" }, t("no_account")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      message.textContent = "";
      try {
        await api("/api/auth/login", { method: "POST", form: new FormData(form) });
        session.user = await api("/api/auth/me");
        location.hash = "#/alerts";
        render();
      } catch (err) {
        message.textContent = problem(err);
      }
    });
    main.append(form);
    form.querySelector("input").focus();
  },
});
