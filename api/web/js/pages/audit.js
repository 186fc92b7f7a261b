// The audit log (admins): who did what, when and from where, newest first. Read only: the API has
// no way to change or delete an entry, and this page offers none.
import { addStrings, api, el, page, t, when } from "../core.js";
import { field, option, pager, query, scroller, showProblem } from "./records.js";

/** Actions the service writes (api/audit.py), in words; others are shown as written. */
const ACTIONS = {
  "login.success": ["Signed in", "登录成功"],
  "login.failure": ["Sign-in failed", "登录失败"],
  "login.throttled": ["Sign-in locked out", "登录被暂时锁定"],
  "logout": ["Signed out", "退出登录"],
  "user.create": ["Account created", "创建账号"],
  "user.update": ["Account changed", "修改账号"],
  "user.password": ["Password changed", "修改密码"],
  "session.revoke": ["Session ended", "结束会话"],
  "alert.acknowledge": ["Alert acknowledged", "确认警报"],
  "alert.resolve": ["Alert resolved", "处理完毕警报"],
  "alert.export": ["Incident exported", "导出事件"],
  "alert.keep": ["Evidence held", "保留证据"],
  "alert.release": ["Evidence hold released", "解除证据保留"],
  "snapshot.view": ["Snapshot viewed", "查看快照"],
  "clip.view": ["Clip viewed", "查看视频片段"],
  "profile.apply": ["Thresholds or zones changed", "修改阈值或区域"],
  "profile.restore": ["Earlier thresholds restored", "恢复以前的阈值"],
  "profile.seed": ["Thresholds loaded from the config file", "从配置文件载入阈值"],
  "resident.create": ["Resident admitted", "登记住户"],
  "resident.update": ["Resident record changed", "修改住户档案"],
  "resident.view": ["Resident record viewed", "查看住户档案"],
  "resident.discharge": ["Resident discharged", "住户离站"],
  "room.create": ["Room added", "添加房间"],
  "room.update": ["Room changed", "修改房间"],
  "room.delete": ["Room deleted", "删除房间"],
  "bed.create": ["Bed added", "添加床位"],
  "bed.update": ["Bed changed", "修改床位"],
  "bed.delete": ["Bed deleted", "删除床位"],
  "camera.create": ["Camera added", "添加摄像头"],
  "camera.update": ["Camera changed", "修改摄像头"],
  "camera.delete": ["Camera deleted", "删除摄像头"],
  "camera.import": ["Camera imported from the config file", "从配置文件导入摄像头"],
  "retention.delete": ["Evidence deleted (retention)", "按保留期限删除证据"],
  "retention.run": ["Retention run", "执行保留期限清理"],
};
const AREAS = ["login.", "user.", "session.", "alert.", "snapshot.", "clip.", "profile.", "resident.", "room.",
               "bed.", "camera.", "retention."];
const TARGETS = ["user", "session", "alert", "resident", "room", "bed", "camera", "retention"];
const PAGE_SIZE = 50;

addStrings({
  en: {
    nav_audit: "Audit log",
    aud_filters: "Filter the audit log", aud_actor: "Actor (user name)", aud_actor_col: "Actor", aud_action: "Action",
    aud_action_hint: "Exact, or a prefix ending in a dot: login.", aud_target_type: "Target type",
    aud_target_id: "Target id", aud_from: "From", aud_to: "To", aud_apply: "Apply", aud_reset: "Clear",
    aud_time: "Time", aud_role: "Role", aud_target: "Target", aud_details: "Details", aud_address: "Address",
    aud_any: "any", aud_empty: "No entries match.", aud_read_only: "Entries cannot be changed or deleted.",
    aud_all_of: "all {area}",
    ...Object.fromEntries(Object.entries(ACTIONS).map(([k, [en]]) => [`act_${k}`, en])),
    ...Object.fromEntries(TARGETS.map((k) => [`aud_target_${k}`, k])),
  },
  zh: {
    nav_audit: "审计日志",
    aud_filters: "筛选审计日志", aud_actor: "操作人（用户名）", aud_actor_col: "操作人", aud_action: "操作",
    aud_action_hint: "完整名称，或以点结尾的前缀：login.", aud_target_type: "对象类型",
    aud_target_id: "对象编号", aud_from: "起始时间", aud_to: "截止时间", aud_apply: "应用", aud_reset: "清除",
    aud_time: "时间", aud_role: "角色", aud_target: "对象", aud_details: "详情", aud_address: "地址",
    aud_any: "全部", aud_empty: "没有符合条件的记录。", aud_read_only: "记录不能修改或删除。",
    aud_all_of: "全部 {area}",
    ...Object.fromEntries(Object.entries(ACTIONS).map(([k, [, zh]]) => [`act_${k}`, zh])),
    aud_target_user: "用户", aud_target_session: "会话", aud_target_alert: "警报", aud_target_resident: "住户",
    aud_target_room: "房间", aud_target_bed: "床位", aud_target_camera: "摄像头", aud_target_retention: "保留期限",
  },
});

const FILTERS = ["actor", "action", "target_type", "target_id", "from", "to"];
/** Kept while the console stays open; also written to the address (#/audit?actor=admin). */
const state = { actor: "", action: "", target_type: "", target_id: "", from: "", to: "", offset: 0 };

/** An action in words where known: "Resident discharged". */
function actionWords(action) {
  return ACTIONS[action] ? t(`act_${action}`) : action;
}

/** Details as one line: "changed: name, room_id; session_id: 3f…". */
function compact(value) {
  if (value == null) return "";
  if (Array.isArray(value)) return value.map(compact).join(", ");
  if (typeof value === "object") {
    return Object.entries(value).map(([k, v]) =>
      `${k}: ${v && typeof v === "object" && !Array.isArray(v) ? `{${compact(v)}}` : compact(v)}`).join("; ");
  }
  return String(value);
}

/** A datetime-local value ("2026-05-01T22:30", local time) as epoch seconds. */
function epoch(local) {
  const ms = new Date(local).getTime();
  return Number.isFinite(ms) ? ms / 1000 : "";
}

page({
  path: "audit",
  title: "nav_audit",
  role: "admin",
  nav: true,
  render(main, params) {
    if (FILTERS.some((k) => k in params)) {
      for (const k of FILTERS) state[k] = params[k] ?? "";
      state.offset = 0;
    }
    const error = el("p", { class: "error", role: "alert", "data-testid": "audit-error" });
    const list = el("div", { class: "list" }, el("p", { class: "muted" }, t("loading")));

    const actor = el("input", { name: "actor", maxlength: 64, autocomplete: "off", spellcheck: "false",
                                value: state.actor, "data-testid": "audit-filter-actor" });
    const action = el("input", { name: "action", maxlength: 64, autocomplete: "off", spellcheck: "false",
                                 list: "audit-actions", value: state.action, "data-testid": "audit-filter-action" });
    const actions = el("datalist", { id: "audit-actions" },
      AREAS.map((a) => option(a, t("aud_all_of", { area: a }))),
      Object.keys(ACTIONS).map((a) => option(a, actionWords(a))));
    const targetType = el("select", { name: "target_type", "data-testid": "audit-filter-target-type" },
      option("", t("aud_any")), TARGETS.map((k) => option(k, t(`aud_target_${k}`), k === state.target_type)));
    const targetId = el("input", { name: "target_id", maxlength: 64, autocomplete: "off", value: state.target_id,
                                   "data-testid": "audit-filter-target-id" });
    const from = el("input", { name: "since", type: "datetime-local", value: state.from, "data-testid": "audit-filter-from" });
    const to = el("input", { name: "until", type: "datetime-local", value: state.to, "data-testid": "audit-filter-to" });
    const form = el("form", { class: "card form filters", role: "search", "aria-label": t("aud_filters") },
      el("div", { class: "fields" },
        field(t("aud_actor"), actor), field(t("aud_action"), action, t("aud_action_hint")),
        field(t("aud_target_type"), targetType), field(t("aud_target_id"), targetId),
        field(t("aud_from"), from), field(t("aud_to"), to)),
      actions,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "primary", "data-testid": "audit-apply" }, t("aud_apply")),
        el("button", { type: "button", "data-testid": "audit-reset", onclick: () => {
          for (const input of [actor, action, targetType, targetId, from, to]) input.value = "";
          apply();
        } }, t("aud_reset"))));
    form.addEventListener("submit", (e) => { e.preventDefault(); apply(); });

    function apply() {
      Object.assign(state, { actor: actor.value.trim(), action: action.value.trim(), target_type: targetType.value,
                             target_id: targetId.value.trim(), from: from.value, to: to.value, offset: 0 });
      const shown = query(Object.fromEntries(FILTERS.map((k) => [k, state[k]])));
      history.replaceState(null, "", `#/audit${shown}`);
      load();
    }

    function row(e) {
      const target = e.target_type
        ? `${TARGETS.includes(e.target_type) ? t(`aud_target_${e.target_type}`) : e.target_type}${e.target_id != null ? ` ${e.target_id}` : ""}`
        : "—";
      const details = compact(e.details);
      return el("tr", { "data-testid": "audit-row", "data-action": e.action },
        el("td", { class: "nowrap" }, el("time", { datetime: new Date(e.at * 1000).toISOString() }, when(e.at))),
        el("td", { "data-testid": "audit-actor" }, e.actor ?? "—"),
        el("td", { class: "nowrap" }, e.role ? t(`role_${e.role}`) : "—"),
        el("td", { "data-testid": "audit-action" }, actionWords(e.action),
          ACTIONS[e.action] ? el("code", { class: "muted block" }, e.action) : null),
        el("td", { "data-testid": "audit-target" }, target),
        el("td", { class: "details", "data-testid": "audit-details" }, details || "—"),
        el("td", { class: "mono" }, e.address ?? "—"));
    }

    async function load() {
      const q = query({ actor: state.actor, action: state.action, target_type: state.target_type,
                        target_id: state.target_id, since: state.from && epoch(state.from),
                        until: state.to && epoch(state.to), limit: PAGE_SIZE, offset: state.offset });
      list.setAttribute("aria-busy", "true");
      try {
        const data = await api(`/api/audit${q}`);
        error.textContent = "";
        const table = el("table", { "data-testid": "audit-table" },
          el("thead", {}, el("tr", {}, ["aud_time", "aud_actor_col", "aud_role", "aud_action", "aud_target", "aud_details",
            "aud_address"].map((k) => el("th", { scope: "col" }, t(k))))),
          el("tbody", {}, data.entries.map(row)));
        list.replaceChildren(
          data.entries.length ? scroller(table, t("nav_audit")) : el("p", { class: "muted" }, t("aud_empty")),
          pager(data.total, state.offset, PAGE_SIZE, (offset) => { state.offset = offset; load(); }, "audit-pager"));
      } catch (err) {
        showProblem(error, err, form, { actor: "aud_actor", action: "aud_action", target_type: "aud_target_type",
                                        target_id: "aud_target_id", since: "aud_from", until: "aud_to" });
      } finally {
        list.removeAttribute("aria-busy");
      }
    }

    main.append(el("div", { class: "rec audit" }, el("h1", {}, t("nav_audit")),
      el("p", { class: "muted" }, t("aud_read_only")), form, error, list));
    load();
  },
});
