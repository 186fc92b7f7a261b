// The console's core: API calls, signed-in user, translations, routing and DOM helpers.
// Pages live in ./pages/*.js and register themselves with `page(...)`; no build step.

const strings = { en: {}, zh: {} };
let lang = localStorage.getItem("carewatch.lang") ||
  ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");

/** Add translations: addStrings({en: {key: "text"}, zh: {key: "文本"}}). */
export function addStrings(dict) {
  for (const code of Object.keys(dict)) Object.assign(strings[code] ||= {}, dict[code]);
}

/** The text of `key` in the current language ({name} placeholders filled from `vars`). */
export function t(key, vars = {}) {
  const text = strings[lang]?.[key] ?? strings.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
}

export function language() { return lang; }

export function setLanguage(code) {
  lang = code;
  localStorage.setItem("carewatch.lang", code);
  document.documentElement.lang = code === "zh" ? "zh-CN" : "en";
  render();
}

/** Format epoch seconds as local date and time. */
export function when(epoch) {
  if (epoch == null) return "";
  return new Date(epoch * 1000).toLocaleString(lang === "zh" ? "zh-CN" : undefined);
}

/** Create an element: el("button", {onclick, class: "x", "data-testid": "y"}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "html") node.innerHTML = v;
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

/** Call the API (the session cookie authenticates). JSON in and out; throws ApiError. */
export async function api(path, { method = "GET", body, form } = {}) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (form) init.body = new URLSearchParams(form);
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !path.startsWith("/api/auth/")) {
    session.user = null;
    location.hash = "#/login";
    throw new ApiError(401, t("signed_out"));
  }
  const type = res.headers.get("content-type") || "";
  const data = res.status !== 204 && type.includes("json") ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, data?.detail ?? res.statusText);
  return data;
}

/** A readable message for an error from `api` (FastAPI 422 lists included). */
export function problem(err) {
  if (Array.isArray(err.detail)) {
    return err.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return err.message || String(err);
}

export const session = { user: null };
const RANK = { guard: 0, operator: 1, admin: 2 };

/** Whether the signed-in user has `role` or a higher one. */
export function can(role) {
  return session.user != null && RANK[session.user.role] >= RANK[role];
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("show"), 4000);
}

const pages = [];

/** Register a page: page({path: "alerts", title: "nav_alerts", role: "guard", render}).
 *  `render(main, params)` fills `main`; it may return a cleanup function. */
export function page(spec) { pages.push(spec); }

let cleanup = null;

export async function render() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  document.getElementById("lang").value = lang;
  const [path, query] = (location.hash.replace(/^#\/?/, "") || "").split("?");
  const params = Object.fromEntries(new URLSearchParams(query || ""));
  if (session.user === null && path !== "login") {
    try { session.user = await api("/api/auth/me"); } catch { session.user = null; }
  }
  const name = path || (session.user ? "alerts" : "login");
  const spec = pages.find((p) => p.path === name) || pages.find((p) => p.path === "login");
  if (spec.role && !session.user) { location.hash = "#/login"; return; }
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  drawNav(name);
  const main = document.getElementById("main");
  main.replaceChildren();
  if (spec.role && !can(spec.role)) {
    main.append(el("section", { class: "card", "data-testid": "forbidden" },
      el("h1", {}, t("forbidden_title")), el("p", {}, t("forbidden_text"))));
    return;
  }
  document.title = `CareWatch — ${t(spec.title)}`;
  cleanup = await spec.render(main, params);
}

function drawNav(current) {
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  const who = document.getElementById("who");
  const out = document.getElementById("logout");
  if (!session.user) { who.textContent = ""; out.hidden = true; return; }
  who.textContent = `${session.user.display_name || session.user.username} · ${t("role_" + session.user.role)}`;
  out.hidden = false;
  for (const p of pages) {
    if (!p.role || !p.nav || !can(p.role)) continue;
    nav.append(el("a", {
      href: `#/${p.path}`, "data-testid": `nav-${p.path}`,
      "aria-current": p.path === current ? "page" : null,
    }, t(p.title)));
  }
}

addStrings({
  en: {
    language: "Language", logout: "Sign out", signed_out: "Please sign in again.",
    forbidden_title: "Not for your role", forbidden_text: "Ask an administrator if you need this page.",
    role_guard: "guard", role_operator: "operator", role_admin: "admin",
    save: "Save", cancel: "Cancel", loading: "Loading…", none: "Nothing here.", error: "Error",
  },
  zh: {
    language: "语言", logout: "退出", signed_out: "请重新登录。",
    forbidden_title: "您的角色无权访问", forbidden_text: "如需此页面，请联系管理员。",
    role_guard: "值班员", role_operator: "操作员", role_admin: "管理员",
    save: "保存", cancel: "取消", loading: "加载中…", none: "暂无内容。", error: "错误",
  },
});

export function start() {
  document.getElementById("lang").addEventListener("change", (e) => setLanguage(e.target.value));
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("/api/auth/logout", { method: "POST" }); } catch { /* already out */ }
    session.user = null;
    location.hash = "#/login";
  });
  window.addEventListener("hashchange", render);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  render();
}
