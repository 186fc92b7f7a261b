// Records (admins): residents, rooms and beds, cameras and staff accounts, one tab each.
// The admin API validates and audits every change; this page sends what the admin typed and shows
// the API's answers (422 per field, 409 in words) next to the form they belong to.
import { addStrings, api, ApiError, el, page, problem, session, t, toast, when } from "../core.js";

addStrings({
  en: {
    nav_records: "Records",
    rec_tab_residents: "Residents", rec_tab_rooms: "Rooms and beds", rec_tab_cameras: "Cameras",
    rec_tab_users: "Users",
    rec_edit: "Edit", rec_edit_named: "Edit {name}", rec_delete: "Delete", rec_delete_named: "Delete {name}",
    rec_yes_delete: "Yes, delete", rec_close: "Close", rec_prev: "Previous", rec_next: "Next",
    rec_pages: "Pages", rec_range: "{from}–{to} of {total}", rec_nothing_changed: "Nothing changed.",
    rec_saved: "Saved.", rec_yes: "yes", rec_no: "no", rec_none_option: "— none —", rec_any: "any",
    rec_table_scroll: "{name} (scrolls sideways)", rec_actions: "Actions",
    // residents
    rec_add_resident: "Add resident", rec_new_resident: "New resident", rec_edit_resident: "Edit {name}",
    rec_search_name: "Search by name", rec_status: "Status", rec_room: "Room", rec_bed: "Bed",
    rec_care_flag: "Care flag", rec_any_room: "any room", rec_any_flag: "any flag",
    rec_status_current: "current", rec_status_discharged: "discharged", rec_status_all: "all",
    rec_name: "Name", rec_id_number: "ID number", rec_sex: "Sex", rec_birth_year: "Birth year",
    rec_intake: "Intake", rec_intake_date: "Intake date", rec_room_bed: "Room / bed", rec_flags: "Care flags",
    rec_notes: "Notes", rec_no_bed: "— no bed —", rec_no_room: "— no room —",
    rec_bed_taken: "{label} (taken)", rec_choose_room_first: "Choose a room first.",
    rec_discharged_no_room: "Discharged: no room or bed.",
    sex_male: "male", sex_female: "female", sex_other: "other", sex_unknown: "unknown",
    flag_fall_risk: "fall risk", flag_epilepsy: "epilepsy", flag_mental_health_support: "mental health support",
    flag_disability: "disability", flag_elderly: "elderly",
    rec_discharge: "Discharge", rec_discharge_named: "Discharge {name}", rec_discharge_title: "Discharge {name}",
    rec_discharge_text: "The record stays; the room and bed become free.", rec_discharge_date: "Discharge date",
    rec_discharge_confirm: "Discharge", rec_discharged_on: "discharged {date}",
    rec_resident_saved: "Resident {name} saved.", rec_resident_discharged: "{name} discharged.",
    rec_no_residents: "No residents match.",
    // rooms and beds
    rec_add_room: "Add room", rec_new_room: "New room", rec_rename_room: "Rename {name}", rec_rename: "Rename",
    rec_floor: "Floor or wing", rec_capacity: "Capacity", rec_beds: "Beds", rec_residents: "Residents",
    rec_cameras: "Cameras", rec_beds_of: "Beds of {name}", rec_show_beds: "Beds",
    rec_delete_room_q: "Delete {name} and its beds?", rec_room_deleted: "Room {name} deleted.",
    rec_room_saved: "Room {name} saved.", rec_bed_label: "New bed label", rec_add_bed: "Add bed",
    rec_bed_free: "free", rec_bed_taken_by: "taken (resident {id})", rec_no_beds: "No beds yet.",
    rec_delete_bed_q: "Delete bed {label}?", rec_bed_added: "Bed {label} added.", rec_no_rooms: "No rooms yet.",
    // cameras
    rec_add_camera: "Add camera", rec_new_camera: "New camera", rec_edit_camera: "Edit camera {name}",
    rec_camera_id: "Camera id", rec_camera_name: "Name shown to guards", rec_source: "Source",
    rec_source_url: "Stream URL or file", rec_source_keep: "Leave empty to keep the stored source",
    rec_source_stored: "Stored: {masked}", rec_source_show: "Show what I type",
    rec_credentials: "with credentials", rec_enabled: "Enabled", rec_fps: "Analysis fps", rec_health: "Health",
    rec_delete_camera_q: "Delete camera {name}? Its alerts and profiles stay.",
    rec_camera_deleted: "Camera {name} deleted.",
    rec_camera_applied: "Camera {id} saved; the running service took the change.",
    rec_camera_not_applied: "Camera {id} saved; nothing to restart.",
    rec_camera_apply_error: "Camera {id} saved, but the running service did not take it: {error}",
    rec_no_cameras: "No cameras yet.",
    health_online: "online", health_starting: "starting", health_reconnecting: "reconnecting",
    health_ended: "ended", health_disabled: "disabled", health_none: "not running",
    rec_analysed_fps: "{fps} fps analysed",
    // users
    rec_add_user: "Add user", rec_new_user: "New user", rec_edit_user: "Edit {name}", rec_username: "User name",
    rec_display_name: "Display name", rec_role: "Role", rec_active: "Active", rec_last_login: "Last sign-in",
    rec_never: "never", rec_password: "Password (at least 10 characters)",
    rec_new_password: "New password (leave empty to keep)", rec_sessions: "Sessions",
    rec_sessions_of: "Sessions of {name}", rec_started: "Started", rec_last_seen: "Last seen",
    rec_address: "Address", rec_browser: "Browser", rec_state: "State", rec_revoke: "End session",
    rec_revoke_named: "End session {id}", rec_session_active: "active", rec_session_revoked: "ended",
    rec_session_expired: "expired", rec_this_session: "this session", rec_no_sessions: "No sessions.",
    rec_session_revoked_toast: "Session ended.", rec_user_saved: "User {name} saved.",
    rec_inactive: "inactive",
  },
  zh: {
    nav_records: "档案",
    rec_tab_residents: "住户", rec_tab_rooms: "房间和床位", rec_tab_cameras: "摄像头", rec_tab_users: "用户",
    rec_edit: "编辑", rec_edit_named: "编辑 {name}", rec_delete: "删除", rec_delete_named: "删除 {name}",
    rec_yes_delete: "确认删除", rec_close: "关闭", rec_prev: "上一页", rec_next: "下一页",
    rec_pages: "分页", rec_range: "第 {from}–{to} 条，共 {total} 条", rec_nothing_changed: "没有改动。",
    rec_saved: "已保存。", rec_yes: "是", rec_no: "否", rec_none_option: "— 无 —", rec_any: "全部",
    rec_table_scroll: "{name}（可横向滚动）", rec_actions: "操作",
    rec_add_resident: "添加住户", rec_new_resident: "新住户", rec_edit_resident: "编辑 {name}",
    rec_search_name: "按姓名搜索", rec_status: "状态", rec_room: "房间", rec_bed: "床位",
    rec_care_flag: "照护标记", rec_any_room: "全部房间", rec_any_flag: "全部标记",
    rec_status_current: "在站", rec_status_discharged: "已离站", rec_status_all: "全部",
    rec_name: "姓名", rec_id_number: "证件号码", rec_sex: "性别", rec_birth_year: "出生年份",
    rec_intake: "入站", rec_intake_date: "入站日期", rec_room_bed: "房间 / 床位", rec_flags: "照护标记",
    rec_notes: "备注", rec_no_bed: "— 不分配床位 —", rec_no_room: "— 不分配房间 —",
    rec_bed_taken: "{label}（已占用）", rec_choose_room_first: "请先选择房间。",
    rec_discharged_no_room: "已离站：没有房间和床位。",
    sex_male: "男", sex_female: "女", sex_other: "其他", sex_unknown: "未知",
    flag_fall_risk: "跌倒风险", flag_epilepsy: "癫痫", flag_mental_health_support: "心理健康支持",
    flag_disability: "残障", flag_elderly: "高龄",
    rec_discharge: "办理离站", rec_discharge_named: "为 {name} 办理离站", rec_discharge_title: "为 {name} 办理离站",
    rec_discharge_text: "档案会保留；房间和床位将被释放。", rec_discharge_date: "离站日期",
    rec_discharge_confirm: "确认离站", rec_discharged_on: "{date} 离站",
    rec_resident_saved: "住户 {name} 已保存。", rec_resident_discharged: "{name} 已办理离站。",
    rec_no_residents: "没有符合条件的住户。",
    rec_add_room: "添加房间", rec_new_room: "新房间", rec_rename_room: "重命名 {name}", rec_rename: "重命名",
    rec_floor: "楼层或区域", rec_capacity: "容量", rec_beds: "床位", rec_residents: "住户",
    rec_cameras: "摄像头", rec_beds_of: "{name} 的床位", rec_show_beds: "床位",
    rec_delete_room_q: "删除 {name} 及其床位？", rec_room_deleted: "房间 {name} 已删除。",
    rec_room_saved: "房间 {name} 已保存。", rec_bed_label: "新床位编号", rec_add_bed: "添加床位",
    rec_bed_free: "空闲", rec_bed_taken_by: "已占用（住户 {id}）", rec_no_beds: "还没有床位。",
    rec_delete_bed_q: "删除床位 {label}？", rec_bed_added: "床位 {label} 已添加。", rec_no_rooms: "还没有房间。",
    rec_add_camera: "添加摄像头", rec_new_camera: "新摄像头", rec_edit_camera: "编辑摄像头 {name}",
    rec_camera_id: "摄像头编号", rec_camera_name: "值班员看到的名称", rec_source: "视频源",
    rec_source_url: "视频流地址或文件", rec_source_keep: "留空则保留已存的视频源",
    rec_source_stored: "已存：{masked}", rec_source_show: "显示输入内容",
    rec_credentials: "含登录凭据", rec_enabled: "启用", rec_fps: "分析帧率", rec_health: "运行状态",
    rec_delete_camera_q: "删除摄像头 {name}？其警报和配置会保留。",
    rec_camera_deleted: "摄像头 {name} 已删除。",
    rec_camera_applied: "摄像头 {id} 已保存，运行中的服务已采用。",
    rec_camera_not_applied: "摄像头 {id} 已保存，无需重启。",
    rec_camera_apply_error: "摄像头 {id} 已保存，但运行中的服务未能采用：{error}",
    rec_no_cameras: "还没有摄像头。",
    health_online: "在线", health_starting: "启动中", health_reconnecting: "重新连接中",
    health_ended: "已结束", health_disabled: "已停用", health_none: "未运行",
    rec_analysed_fps: "分析 {fps} 帧/秒",
    rec_add_user: "添加用户", rec_new_user: "新用户", rec_edit_user: "编辑 {name}", rec_username: "用户名",
    rec_display_name: "显示名称", rec_role: "角色", rec_active: "启用", rec_last_login: "最近登录",
    rec_never: "从未", rec_password: "密码（至少 10 个字符）",
    rec_new_password: "新密码（留空则不变）", rec_sessions: "会话",
    rec_sessions_of: "{name} 的会话", rec_started: "开始时间", rec_last_seen: "最近活动",
    rec_address: "地址", rec_browser: "浏览器", rec_state: "状态", rec_revoke: "结束会话",
    rec_revoke_named: "结束会话 {id}", rec_session_active: "有效", rec_session_revoked: "已结束",
    rec_session_expired: "已过期", rec_this_session: "当前会话", rec_no_sessions: "没有会话。",
    rec_session_revoked_toast: "会话已结束。", rec_user_saved: "用户 {name} 已保存。",
    rec_inactive: "已停用",
  },
});

const FLAGS = ["fall_risk", "epilepsy", "mental_health_support", "disability", "elderly"];
const SEXES = ["unknown", "female", "male", "other"];
const ROLES = ["guard", "operator", "admin"];
const TABS = ["residents", "rooms", "cameras", "users"];
const PAGE_SIZE = 20;
const HEALTH_POLL_MS = 5000;

/** Kept between visits (and language switches) while the console stays open. */
const state = {
  tab: "residents",
  residents: { q: "", status: "current", room_id: "", flag: "", sort: "name", order: "asc", offset: 0 },
  openRooms: new Set(),
  openUsers: new Set(),
};

// --- small shared pieces (audit.js uses them too) ------------------------------------------------

/** A labelled control: the label wraps it, so clicking the text focuses it. */
export function field(label, control, hint) {
  return el("label", {}, el("span", {}, label), control, hint ? el("small", { class: "hint" }, hint) : null);
}

/** A checkbox with its label after it. */
function check(label, input) {
  return el("label", { class: "check" }, input, el("span", {}, label));
}

export function option(value, text, selected = false) {
  return el("option", { value, selected }, text);
}

/** A wide table inside a region that scrolls sideways on a phone (and by keyboard). */
export function scroller(table, name) {
  return el("div", { class: "table-wrap", role: "region", tabindex: "0",
                     "aria-label": t("rec_table_scroll", { name }) }, table);
}

/** "?a=1&b=2" from the non-empty values of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v != null) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** Previous / next buttons and "21–40 of 53"; `go(offset)` loads another page. */
export function pager(total, offset, limit, go, id) {
  const from = total ? offset + 1 : 0;
  const to = Math.min(offset + limit, total);
  return el("nav", { class: "pager", "aria-label": t("rec_pages") },
    el("button", { type: "button", disabled: offset <= 0, "data-testid": `${id}-prev`,
                   onclick: () => go(Math.max(0, offset - limit)) }, t("rec_prev")),
    el("span", { "data-testid": `${id}-info` }, t("rec_range", { from, to, total })),
    el("button", { type: "button", disabled: offset + limit >= total, "data-testid": `${id}-next`,
                   onclick: () => go(offset + limit) }, t("rec_next")));
}

/** Show an API error in `box`; a 422 names each wrong field by its label and marks its control. */
export function showProblem(box, err, form, labels = {}) {
  for (const node of form?.querySelectorAll("[aria-invalid]") || []) node.removeAttribute("aria-invalid");
  if (!Array.isArray(err.detail)) { box.textContent = problem(err); return; }
  let first = null;
  box.textContent = err.detail.map((d) => {
    const name = String((d.loc || []).slice(1)[0] ?? "");
    const control = form?.querySelector(`[name="${CSS.escape(name)}"]`);
    if (control) { control.setAttribute("aria-invalid", "true"); first ||= control; }
    return `${labels[name] ? t(labels[name]) : name || t("error")}: ${d.msg}`;
  }).join("; ");
  first?.focus();
}

/** Swap the contents of `cell` for "message [yes] [cancel]" until answered; `yes` runs `action`. */
function confirmInline(cell, message, yesText, action, testid) {
  const before = [...cell.childNodes];
  const restore = () => cell.replaceChildren(...before);
  const no = el("button", { type: "button", onclick: () => { restore(); before.find((n) => n.focus)?.focus(); } },
    t("cancel"));
  const yes = el("button", { type: "button", class: "danger", "data-testid": testid, onclick: async () => {
    yes.disabled = true;
    const done = await action();
    if (!done && cell.isConnected) restore();
  } }, yesText);
  cell.replaceChildren(el("span", { class: "confirm" }, message), yes, no);
  no.focus();
}

function errorBox(testid) {
  return el("p", { class: "error", role: "alert", "data-testid": testid });
}

function todayIso() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** DELETE `path`. The API answers 204 with a JSON content type and no body, which `api` would
 *  try to parse; errors come back as from `api`. */
async function remove(path) {
  const res = await fetch(path, { method: "DELETE", credentials: "same-origin" });
  if (res.ok) return;
  if (res.status === 401) return api(path, { method: "DELETE" }); // api() signs the console out
  const data = (res.headers.get("content-type") || "").includes("json") ? await res.json().catch(() => null) : null;
  throw new ApiError(res.status, data?.detail ?? res.statusText);
}

async function allRooms() {
  return (await api("/api/rooms?limit=500&sort=name")).rooms;
}

function roomSelect(rooms, selected, attrs, emptyText) {
  return el("select", attrs, option("", emptyText),
    rooms.map((r) => option(r.id, r.name, String(r.id) === String(selected ?? ""))));
}

function yesNo(value) {
  return el("span", { class: `badge ${value ? "yes" : "no"}` }, t(value ? "rec_yes" : "rec_no"));
}

/** Open a form in `box` (replacing any other), scrolled into view with its first field focused. */
function openIn(box, form) {
  box.replaceChildren(form);
  form.scrollIntoView({ block: "nearest" });
  form.querySelector("input:not([disabled]), select:not([disabled]), textarea")?.focus();
}

// --- residents ------------------------------------------------------------------------------------

const RESIDENT_LABELS = {
  name: "rec_name", id_number: "rec_id_number", sex: "rec_sex", birth_year: "rec_birth_year",
  intake_date: "rec_intake_date", room_id: "rec_room", bed_id: "rec_bed", notes: "rec_notes",
  date: "rec_discharge_date", discharge_date: "rec_discharge_date",
  ...Object.fromEntries(FLAGS.map((f) => [f, `flag_${f}`])),
};

function residentsTab(root) {
  const s = state.residents;
  const error = errorBox("residents-error");
  const formBox = el("div");
  const list = el("div", { class: "list" }, el("p", { class: "muted" }, t("loading")));
  let rooms = [];
  let timer = null;

  const search = el("input", { type: "search", name: "q", value: s.q, autocomplete: "off",
                               "data-testid": "resident-search" });
  const status = el("select", { name: "status", "data-testid": "resident-status" },
    ["current", "discharged", "all"].map((v) => option(v, t(`rec_status_${v}`), v === s.status)));
  const roomFilter = el("select", { name: "room_id", "data-testid": "resident-room-filter" },
    option("", t("rec_any_room")));
  const flagFilter = el("select", { name: "flag", "data-testid": "resident-flag-filter" },
    option("", t("rec_any_flag")), FLAGS.map((f) => option(f, t(`flag_${f}`), f === s.flag)));
  const filters = el("form", { class: "row filters", role: "search", "aria-label": t("rec_tab_residents") },
    field(t("rec_search_name"), search), field(t("rec_status"), status), field(t("rec_room"), roomFilter),
    field(t("rec_care_flag"), flagFilter),
    el("span", { class: "spacer" }),
    el("button", { type: "button", class: "primary", "data-testid": "add-resident", onclick: () => openForm(null) },
      t("rec_add_resident")));
  filters.addEventListener("submit", (e) => { e.preventDefault(); apply(); });
  search.addEventListener("input", () => {
    s.q = search.value.trim(); // kept even if the tab is left before the search runs
    clearTimeout(timer);
    timer = setTimeout(apply, 300);
  });
  for (const select of [status, roomFilter, flagFilter]) select.addEventListener("change", apply);

  function apply() {
    clearTimeout(timer);
    Object.assign(s, { q: search.value.trim(), status: status.value, room_id: roomFilter.value,
                       flag: flagFilter.value, offset: 0 });
    load();
  }

  function sortHeader(key, label) {
    const on = s.sort === key;
    return el("th", { scope: "col", "aria-sort": on ? (s.order === "asc" ? "ascending" : "descending") : "none" },
      el("button", { type: "button", class: "sort", "data-testid": `sort-${key}`, onclick: () => {
        s.order = on && s.order === "asc" ? "desc" : "asc";
        s.sort = key;
        s.offset = 0;
        load(`[data-testid="sort-${key}"]`);
      } }, t(label), el("span", { class: "arrow", "aria-hidden": "true" }, on ? (s.order === "asc" ? "▲" : "▼") : "")));
  }

  function row(r) {
    const place = r.room ? `${r.room.name}${r.bed ? ` / ${r.bed.label}` : ""}` : "—";
    return el("tr", { "data-testid": "resident-row", "data-id": r.id, class: r.status },
      el("th", { scope: "row" }, r.name),
      el("td", { class: "mono", "data-testid": "resident-id-number" }, r.id_number ?? "—"),
      el("td", {}, t(`sex_${r.sex}`)),
      el("td", {}, r.birth_year ?? "—"),
      el("td", {}, r.intake_date),
      el("td", {}, place),
      el("td", {}, el("span", { class: "flags" },
        FLAGS.filter((f) => r[f]).map((f) => el("span", { class: `badge flag flag-${f}` }, t(`flag_${f}`))))),
      el("td", { "data-testid": "resident-status-cell" },
        el("span", { class: `badge status-${r.status}` }, t(`rec_status_${r.status}`)),
        r.discharge_date ? el("small", { class: "muted block" }, t("rec_discharged_on", { date: r.discharge_date })) : null),
      el("td", { class: "actions" },
        el("button", { type: "button", "data-testid": "resident-edit", "aria-label": t("rec_edit_named", { name: r.name }),
                       onclick: () => openForm(r.id) }, t("rec_edit")),
        r.status === "current" ? el("button", { type: "button", "data-testid": "discharge",
          "aria-label": t("rec_discharge_named", { name: r.name }), onclick: () => openDischarge(r) },
        t("rec_discharge")) : null));
  }

  async function load(focus) {
    const q = query({ q: s.q, status: s.status, room_id: s.room_id, flag: s.flag, sort: s.sort,
                      order: s.order, limit: PAGE_SIZE, offset: s.offset });
    list.setAttribute("aria-busy", "true");
    try {
      const data = await api(`/api/residents${q}`);
      if (!data.residents.length && s.offset > 0) { // the last page emptied (a discharge): step back
        s.offset = Math.max(0, s.offset - PAGE_SIZE);
        return load(focus);
      }
      error.textContent = "";
      const table = el("table", { "data-testid": "residents-table" },
        el("thead", {}, el("tr", {},
          sortHeader("name", "rec_name"), el("th", { scope: "col" }, t("rec_id_number")),
          el("th", { scope: "col" }, t("rec_sex")), sortHeader("birth_year", "rec_birth_year"),
          sortHeader("intake_date", "rec_intake"), sortHeader("room", "rec_room_bed"),
          el("th", { scope: "col" }, t("rec_flags")), el("th", { scope: "col" }, t("rec_status")),
          el("th", { scope: "col" }, t("rec_actions")))),
        el("tbody", {}, data.residents.map(row)));
      list.replaceChildren(
        data.residents.length ? scroller(table, t("rec_tab_residents")) : el("p", { class: "muted" }, t("rec_no_residents")),
        pager(data.total, s.offset, PAGE_SIZE, (offset) => { s.offset = offset; load(); }, "residents-pager"));
      if (focus) list.querySelector(focus)?.focus();
    } catch (err) {
      showProblem(error, err);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  async function openForm(id) {
    error.textContent = "";
    let r = null;
    try {
      [rooms, r] = await Promise.all([allRooms(), id == null ? null : api(`/api/residents/${id}`)]);
    } catch (err) { showProblem(error, err); return; }
    const discharged = r?.status === "discharged";
    const formError = errorBox("resident-error");
    const name = el("input", { name: "name", required: true, maxlength: 120, autocomplete: "off",
                               value: r?.name ?? "", "data-testid": "resident-name" });
    const idNumber = el("input", { name: "id_number", maxlength: 64, autocomplete: "off", spellcheck: "false",
                                   value: r?.id_number ?? "", "data-testid": "resident-id-number-input" });
    const sex = el("select", { name: "sex", "data-testid": "resident-sex" },
      SEXES.map((v) => option(v, t(`sex_${v}`), v === (r?.sex ?? "unknown"))));
    const birth = el("input", { name: "birth_year", type: "number", inputmode: "numeric", min: 1900,
                                max: new Date().getFullYear(), value: r?.birth_year ?? "",
                                "data-testid": "resident-birth-year" });
    const intake = el("input", { name: "intake_date", type: "date", required: true,
                                 value: r?.intake_date ?? todayIso(), "data-testid": "resident-intake" });
    const room = roomSelect(rooms, r?.room?.id, { name: "room_id", disabled: discharged,
                                                  "data-testid": "resident-room" }, t("rec_no_room"));
    const bed = el("select", { name: "bed_id", disabled: true, "data-testid": "resident-bed" },
      option("", t("rec_no_bed")));
    const flags = Object.fromEntries(FLAGS.map((f) => [f, el("input", { type: "checkbox", name: f,
      checked: Boolean(r?.[f]), "data-testid": `flag-${f}` })]));
    const notes = el("textarea", { name: "notes", rows: 3, maxlength: 4000, "data-testid": "resident-notes" },
      r?.notes ?? "");

    async function loadBeds(roomId, selected) {
      bed.replaceChildren(option("", t("rec_no_bed")));
      bed.disabled = !roomId || discharged;
      if (!roomId) return;
      try {
        const { beds } = await api(`/api/rooms/${roomId}/beds`);
        if (room.value !== String(roomId)) return; // another room was chosen meanwhile
        for (const b of beds) {
          const taken = b.occupied && b.resident_id !== r?.id;
          bed.append(el("option", { value: b.id, disabled: taken, selected: String(b.id) === String(selected ?? "") },
            taken ? t("rec_bed_taken", { label: b.label }) : b.label));
        }
      } catch (err) { showProblem(formError, err); }
    }
    room.addEventListener("change", () => loadBeds(room.value, null));

    const title = r ? t("rec_edit_resident", { name: r.name }) : t("rec_new_resident");
    const form = el("form", { class: "card form", "data-testid": "resident-form", "aria-label": title },
      el("h2", {}, title),
      el("div", { class: "fields" },
        field(t("rec_name"), name), field(t("rec_id_number"), idNumber), field(t("rec_sex"), sex),
        field(t("rec_birth_year"), birth), field(t("rec_intake_date"), intake),
        field(t("rec_room"), room, discharged ? t("rec_discharged_no_room") : null),
        field(t("rec_bed"), bed, discharged ? null : t("rec_choose_room_first"))),
      el("fieldset", { class: "flags-set" }, el("legend", {}, t("rec_flags")),
        FLAGS.map((f) => check(t(`flag_${f}`), flags[f]))),
      field(t("rec_notes"), notes),
      formError,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "primary", "data-testid": "resident-save" }, t("save")),
        el("button", { type: "button", onclick: () => formBox.replaceChildren() }, t("cancel"))));

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {
        name: name.value, id_number: idNumber.value.trim() || null, sex: sex.value,
        birth_year: birth.value === "" ? null : Number(birth.value), intake_date: intake.value,
        notes: notes.value, ...Object.fromEntries(FLAGS.map((f) => [f, flags[f].checked])),
      };
      if (!discharged) {
        body.room_id = room.value ? Number(room.value) : null;
        body.bed_id = bed.value ? Number(bed.value) : null;
      }
      let send = body;
      if (r) {
        const before = { ...r, room_id: r.room?.id ?? null, bed_id: r.bed?.id ?? null };
        send = Object.fromEntries(Object.entries(body).filter(([k, v]) => v !== before[k]));
        if ("room_id" in send || "bed_id" in send) Object.assign(send, { room_id: body.room_id, bed_id: body.bed_id });
        if (!Object.keys(send).length) { toast(t("rec_nothing_changed")); formBox.replaceChildren(); return; }
      }
      try {
        const saved = await api(r ? `/api/residents/${r.id}` : "/api/residents",
          { method: r ? "PATCH" : "POST", body: send });
        toast(t("rec_resident_saved", { name: saved.name }));
        formBox.replaceChildren();
        load();
      } catch (err) {
        showProblem(formError, err, form, RESIDENT_LABELS);
      }
    });
    openIn(formBox, form);
    if (r?.room) loadBeds(r.room.id, r.bed?.id);
  }

  function openDischarge(r) {
    error.textContent = "";
    const formError = errorBox("discharge-error");
    const date = el("input", { type: "date", name: "date", required: true, value: todayIso(),
                               "data-testid": "discharge-date" });
    const title = t("rec_discharge_title", { name: r.name });
    const form = el("form", { class: "card form", "data-testid": "discharge-form", "aria-label": title },
      el("h2", {}, title), el("p", { class: "muted" }, t("rec_discharge_text")),
      field(t("rec_discharge_date"), date), formError,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "danger", "data-testid": "discharge-confirm" }, t("rec_discharge_confirm")),
        el("button", { type: "button", onclick: () => formBox.replaceChildren() }, t("cancel"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api(`/api/residents/${r.id}/discharge`, { method: "POST", body: { date: date.value } });
        toast(t("rec_resident_discharged", { name: r.name }));
        formBox.replaceChildren();
        load();
      } catch (err) {
        showProblem(formError, err, form, RESIDENT_LABELS);
      }
    });
    openIn(formBox, form);
  }

  root.append(filters, error, formBox, list);
  allRooms().then((found) => {
    rooms = found;
    roomFilter.append(...rooms.map((r) => option(r.id, r.name, String(r.id) === s.room_id)));
  }).catch((err) => showProblem(error, err));
  load();
  return () => clearTimeout(timer);
}

// --- rooms and beds -------------------------------------------------------------------------------

const ROOM_LABELS = { name: "rec_name", floor: "rec_floor", capacity: "rec_capacity", label: "rec_bed_label" };

function roomsTab(root) {
  const error = errorBox("rooms-error");
  const formBox = el("div");
  const list = el("div", { class: "list" }, el("p", { class: "muted" }, t("loading")));

  function openForm(room) {
    error.textContent = "";
    const formError = errorBox("room-error");
    const name = el("input", { name: "name", required: true, maxlength: 64, autocomplete: "off",
                               value: room?.name ?? "", "data-testid": "room-name" });
    const floor = el("input", { name: "floor", maxlength: 32, value: room?.floor ?? "", "data-testid": "room-floor" });
    const capacity = el("input", { name: "capacity", type: "number", min: 0, max: 10000, inputmode: "numeric",
                                   value: room?.capacity ?? "", "data-testid": "room-capacity" });
    const title = room ? t("rec_rename_room", { name: room.name }) : t("rec_new_room");
    const form = el("form", { class: "card form", "data-testid": "room-form", "aria-label": title },
      el("h2", {}, title),
      el("div", { class: "fields" }, field(t("rec_name"), name), field(t("rec_floor"), floor),
        field(t("rec_capacity"), capacity)),
      formError,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "primary", "data-testid": "room-save" }, t("save")),
        el("button", { type: "button", onclick: () => formBox.replaceChildren() }, t("cancel"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { name: name.value, floor: floor.value.trim() || null,
                     capacity: capacity.value === "" ? null : Number(capacity.value) };
      let send = body;
      if (room) {
        send = Object.fromEntries(Object.entries(body).filter(([k, v]) => v !== room[k]));
        if (!Object.keys(send).length) { formBox.replaceChildren(); toast(t("rec_nothing_changed")); return; }
      }
      try {
        const saved = await api(room ? `/api/rooms/${room.id}` : "/api/rooms",
          { method: room ? "PATCH" : "POST", body: send });
        toast(t("rec_room_saved", { name: saved.name }));
        formBox.replaceChildren();
        load();
      } catch (err) {
        showProblem(formError, err, form, ROOM_LABELS);
      }
    });
    openIn(formBox, form);
  }

  async function deleteRoom(room) {
    try {
      await remove(`/api/rooms/${room.id}`);
      toast(t("rec_room_deleted", { name: room.name }));
      state.openRooms.delete(room.id);
      load();
      return true;
    } catch (err) {
      showProblem(error, err);
      return false;
    }
  }

  function bedsPanel(room) {
    const panelError = errorBox("beds-error");
    const body = el("div", {}, el("p", { class: "muted" }, t("loading")));
    const label = el("input", { name: "label", required: true, maxlength: 32, autocomplete: "off",
                                "data-testid": "bed-label" });
    const add = el("form", { class: "row", "aria-label": t("rec_add_bed") },
      field(t("rec_bed_label"), label),
      el("button", { type: "submit", "data-testid": "add-bed" }, t("rec_add_bed")));
    async function loadBeds() {
      try {
        const { beds } = await api(`/api/rooms/${room.id}/beds`);
        body.replaceChildren(beds.length
          ? el("ul", { class: "beds" }, beds.map((b) => {
            const actions = el("span", { class: "actions" },
              el("button", { type: "button", "data-testid": "bed-delete", disabled: b.occupied,
                             "aria-label": t("rec_delete_named", { name: b.label }),
                             onclick: () => confirmInline(actions, t("rec_delete_bed_q", { label: b.label }),
                               t("rec_yes_delete"), () => deleteBed(b), "bed-delete-confirm") }, t("rec_delete")));
            return el("li", { "data-testid": "bed-row" }, el("strong", {}, b.label), " ",
              el("span", { class: "muted" }, b.occupied ? t("rec_bed_taken_by", { id: b.resident_id }) : t("rec_bed_free")),
              actions);
          }))
          : el("p", { class: "muted" }, t("rec_no_beds")));
      } catch (err) { showProblem(panelError, err); }
    }
    async function deleteBed(b) {
      try {
        await remove(`/api/beds/${b.id}`);
        panelError.textContent = "";
        load();
        return true;
      } catch (err) { showProblem(panelError, err); return false; }
    }
    add.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const b = await api(`/api/rooms/${room.id}/beds`, { method: "POST", body: { label: label.value } });
        toast(t("rec_bed_added", { label: b.label }));
        panelError.textContent = "";
        await load(`#beds-${room.id} [data-testid="bed-label"]`);
      } catch (err) { showProblem(panelError, err, add, ROOM_LABELS); }
    });
    loadBeds();
    return el("div", { class: "beds-panel", "data-testid": "beds-panel", role: "group",
                       "aria-label": t("rec_beds_of", { name: room.name }) }, body, add, panelError);
  }

  async function load(focus) {
    try {
      const data = await api("/api/rooms?limit=500&sort=name");
      error.textContent = "";
      const rows = data.rooms.flatMap((room) => {
        const open = state.openRooms.has(room.id);
        const actions = el("td", { class: "actions" },
          el("button", { type: "button", "data-testid": "room-beds", "aria-expanded": String(open),
                         "aria-controls": `beds-${room.id}`, "aria-label": t("rec_beds_of", { name: room.name }),
                         onclick: () => { open ? state.openRooms.delete(room.id) : state.openRooms.add(room.id);
                                          load(`[data-testid="room-row"][data-id="${room.id}"] [data-testid="room-beds"]`); } },
          t("rec_show_beds")),
          el("button", { type: "button", "data-testid": "room-rename", "aria-label": t("rec_rename_room", { name: room.name }),
                         onclick: () => openForm(room) }, t("rec_rename")),
          el("button", { type: "button", class: "danger", "data-testid": "room-delete",
                         "aria-label": t("rec_delete_named", { name: room.name }),
                         onclick: () => confirmInline(actions, t("rec_delete_room_q", { name: room.name }),
                           t("rec_yes_delete"), () => deleteRoom(room), "room-delete-confirm") }, t("rec_delete")));
        const main = el("tr", { "data-testid": "room-row", "data-id": room.id },
          el("th", { scope: "row" }, room.name), el("td", {}, room.floor ?? "—"), el("td", {}, room.capacity ?? "—"),
          el("td", {}, room.beds), el("td", {}, room.residents), el("td", {}, room.cameras), actions);
        if (!open) return [main];
        return [main, el("tr", { class: "sub", id: `beds-${room.id}` }, el("td", { colspan: 7 }, bedsPanel(room)))];
      });
      const table = el("table", { "data-testid": "rooms-table" },
        el("thead", {}, el("tr", {}, ["rec_name", "rec_floor", "rec_capacity", "rec_beds", "rec_residents",
          "rec_cameras", "rec_actions"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, rows));
      list.replaceChildren(data.rooms.length ? scroller(table, t("rec_tab_rooms")) : el("p", { class: "muted" }, t("rec_no_rooms")));
      if (focus) list.querySelector(focus)?.focus();
    } catch (err) { showProblem(error, err); }
  }

  root.append(
    el("div", { class: "row toolbar" }, el("span", { class: "spacer" }),
      el("button", { type: "button", class: "primary", "data-testid": "add-room", onclick: () => openForm(null) },
        t("rec_add_room"))),
    error, formBox, list);
  load();
}

// --- cameras --------------------------------------------------------------------------------------

const CAMERA_LABELS = { id: "rec_camera_id", name: "rec_camera_name", source: "rec_source_url",
                        room_id: "rec_room", enabled: "rec_enabled", analysis_fps: "rec_fps" };

function healthView(h) {
  const stateName = h?.state ?? "none";
  return [
    el("span", { class: `badge health-${stateName}` }, t(`health_${stateName}`)),
    h && h.analysed_fps != null ? el("small", { class: "muted block" }, t("rec_analysed_fps", { fps: h.analysed_fps })) : null,
    h?.last_error ? el("small", { class: "error block" }, h.last_error) : null,
  ];
}

function camerasTab(root) {
  const error = errorBox("cameras-error");
  const result = el("p", { role: "status", class: "result", "data-testid": "camera-result" });
  const formBox = el("div");
  const list = el("div", { class: "list" }, el("p", { class: "muted" }, t("loading")));
  const healthCells = new Map();

  async function openForm(cam) {
    error.textContent = "";
    let rooms;
    try { rooms = await allRooms(); } catch (err) { showProblem(error, err); return; }
    const formError = errorBox("camera-error");
    const id = el("input", { name: "id", required: true, maxlength: 64, autocomplete: "off", spellcheck: "false",
                             value: cam?.id ?? "", disabled: Boolean(cam), "data-testid": "camera-id" });
    const name = el("input", { name: "name", maxlength: 120, value: cam?.name ?? "", "data-testid": "camera-name" });
    // The stored URL may hold a password: the field starts empty and is masked while typing.
    const source = el("input", { name: "source", type: "password", autocomplete: "off", spellcheck: "false",
                                 required: !cam, placeholder: cam ? t("rec_source_keep") : "rtsp://user:password@host/stream",
                                 "data-testid": "camera-source" });
    const show = el("input", { type: "checkbox", "data-testid": "camera-source-show",
                               onchange: () => { source.type = show.checked ? "text" : "password"; } });
    const room = roomSelect(rooms, cam?.room?.id, { name: "room_id", "data-testid": "camera-room" }, t("rec_no_room"));
    const enabled = el("input", { type: "checkbox", name: "enabled", checked: cam ? cam.enabled : true,
                                  "data-testid": "camera-enabled" });
    const fps = el("input", { name: "analysis_fps", type: "number", step: "any", min: 0.01, max: 60, required: true,
                              inputmode: "decimal", value: cam?.analysis_fps ?? 5, "data-testid": "camera-fps" });
    const title = cam ? t("rec_edit_camera", { name: cam.name || cam.id }) : t("rec_new_camera");
    const form = el("form", { class: "card form", "data-testid": "camera-form", "aria-label": title },
      el("h2", {}, title),
      el("div", { class: "fields" },
        field(t("rec_camera_id"), id), field(t("rec_camera_name"), name),
        el("div", { class: "wide" },
          field(t("rec_source_url"), source, cam ? t("rec_source_stored", { masked: cam.source_masked }) : null),
          check(t("rec_source_show"), show)),
        field(t("rec_room"), room), field(t("rec_fps"), fps), check(t("rec_enabled"), enabled)),
      formError,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "primary", "data-testid": "camera-save" }, t("save")),
        el("button", { type: "button", onclick: () => formBox.replaceChildren() }, t("cancel"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { name: name.value, room_id: room.value ? Number(room.value) : null, enabled: enabled.checked,
                     analysis_fps: Number(fps.value) };
      let send;
      if (cam) {
        const before = { ...cam, room_id: cam.room?.id ?? null };
        send = Object.fromEntries(Object.entries(body).filter(([k, v]) => v !== before[k]));
        if (source.value.trim()) send.source = source.value;
      } else {
        send = { id: id.value, source: source.value, ...body };
      }
      if (!Object.keys(send).length) { formBox.replaceChildren(); toast(t("rec_nothing_changed")); return; }
      try {
        const saved = await api(cam ? `/api/cameras/${encodeURIComponent(cam.id)}` : "/api/cameras",
          { method: cam ? "PATCH" : "POST", body: send });
        source.value = "";
        result.classList.toggle("error", Boolean(saved.apply_error));
        result.textContent = saved.apply_error
          ? t("rec_camera_apply_error", { id: saved.id, error: saved.apply_error })
          : t(saved.applied ? "rec_camera_applied" : "rec_camera_not_applied", { id: saved.id });
        formBox.replaceChildren();
        load();
      } catch (err) {
        showProblem(formError, err, form, CAMERA_LABELS);
      }
    });
    openIn(formBox, form);
  }

  async function deleteCamera(cam) {
    try {
      await remove(`/api/cameras/${encodeURIComponent(cam.id)}`);
      result.classList.remove("error");
      result.textContent = t("rec_camera_deleted", { name: cam.name || cam.id });
      load();
      return true;
    } catch (err) { showProblem(error, err); return false; }
  }

  async function load() {
    try {
      const data = await api("/api/cameras?limit=500");
      error.textContent = "";
      healthCells.clear();
      const rows = data.cameras.map((cam) => {
        const health = el("td", { "data-testid": "camera-health" }, healthView(cam.health));
        healthCells.set(cam.id, health);
        const actions = el("td", { class: "actions" },
          el("button", { type: "button", "data-testid": "camera-edit",
                         "aria-label": t("rec_edit_named", { name: cam.name || cam.id }), onclick: () => openForm(cam) },
          t("rec_edit")),
          el("button", { type: "button", class: "danger", "data-testid": "camera-delete",
                         "aria-label": t("rec_delete_named", { name: cam.name || cam.id }),
                         onclick: () => confirmInline(actions, t("rec_delete_camera_q", { name: cam.name || cam.id }),
                           t("rec_yes_delete"), () => deleteCamera(cam), "camera-delete-confirm") }, t("rec_delete")));
        return el("tr", { "data-testid": "camera-row", "data-id": cam.id },
          el("th", { scope: "row", class: "mono" }, cam.id), el("td", {}, cam.name),
          el("td", {}, el("code", { class: "source", "data-testid": "camera-source-masked" }, cam.source_masked),
            cam.has_credentials ? el("small", { class: "muted block" }, t("rec_credentials")) : null),
          el("td", {}, cam.room?.name ?? "—"), el("td", {}, yesNo(cam.enabled)),
          el("td", { "data-testid": "camera-fps-value" }, cam.analysis_fps),
          health, actions);
      });
      const table = el("table", { "data-testid": "cameras-table" },
        el("thead", {}, el("tr", {}, ["rec_camera_id", "rec_name", "rec_source", "rec_room", "rec_enabled",
          "rec_fps", "rec_health", "rec_actions"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, rows));
      list.replaceChildren(data.cameras.length ? scroller(table, t("rec_tab_cameras")) : el("p", { class: "muted" }, t("rec_no_cameras")));
    } catch (err) { showProblem(error, err); }
  }

  /** Only the health cells change, so focus and open confirmations stay where they are. */
  async function refreshHealth() {
    try {
      const data = await api("/api/cameras?limit=500");
      for (const cam of data.cameras) healthCells.get(cam.id)?.replaceChildren(...healthView(cam.health).filter(Boolean));
    } catch { /* the next poll tries again; a signed-out session is sent to the login page by api() */ }
  }

  root.append(
    el("div", { class: "row toolbar" }, el("span", { class: "spacer" }),
      el("button", { type: "button", class: "primary", "data-testid": "add-camera", onclick: () => openForm(null) },
        t("rec_add_camera"))),
    error, result, formBox, list);
  load();
  const poll = setInterval(refreshHealth, HEALTH_POLL_MS);
  return () => clearInterval(poll);
}

// --- users ----------------------------------------------------------------------------------------

const USER_LABELS = { username: "rec_username", display_name: "rec_display_name", role: "rec_role",
                      active: "rec_active", password: "rec_password" };

function usersTab(root) {
  const error = errorBox("users-error");
  const formBox = el("div");
  const list = el("div", { class: "list" }, el("p", { class: "muted" }, t("loading")));

  function openForm(user) {
    error.textContent = "";
    const formError = errorBox("user-error");
    const username = el("input", { name: "username", required: !user, minlength: 3, maxlength: 64, autocomplete: "off",
                                   spellcheck: "false", value: user?.username ?? "", disabled: Boolean(user),
                                   "data-testid": "user-username" });
    const display = el("input", { name: "display_name", maxlength: 120, value: user?.display_name ?? "",
                                  "data-testid": "user-display-name" });
    const role = el("select", { name: "role", "data-testid": "user-role" },
      ROLES.map((r) => option(r, t(`role_${r}`), r === (user?.role ?? "guard"))));
    const active = el("input", { type: "checkbox", name: "active", checked: user ? user.active : true,
                                 disabled: !user, "data-testid": "user-active" });
    const password = el("input", { name: "password", type: "password", autocomplete: "new-password", minlength: 10,
                                   required: !user, "data-testid": "user-password" });
    const title = user ? t("rec_edit_user", { name: user.username }) : t("rec_new_user");
    const form = el("form", { class: "card form", "data-testid": "user-form", "aria-label": title },
      el("h2", {}, title),
      el("div", { class: "fields" },
        field(t("rec_username"), username), field(t("rec_display_name"), display), field(t("rec_role"), role),
        field(t(user ? "rec_new_password" : "rec_password"), password),
        user ? check(t("rec_active"), active) : null),
      formError,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "primary", "data-testid": "user-save" }, t("save")),
        el("button", { type: "button", onclick: () => formBox.replaceChildren() }, t("cancel"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      let send;
      if (user) {
        send = {};
        if (display.value !== user.display_name) send.display_name = display.value;
        if (role.value !== user.role) send.role = role.value;
        if (active.checked !== user.active) send.active = active.checked;
        if (password.value) send.password = password.value;
        if (!Object.keys(send).length) { formBox.replaceChildren(); toast(t("rec_nothing_changed")); return; }
      } else {
        send = { username: username.value, display_name: display.value, role: role.value, password: password.value };
      }
      try {
        const saved = await api(user ? `/api/users/${user.id}` : "/api/users",
          { method: user ? "PATCH" : "POST", body: send });
        password.value = "";
        toast(t("rec_user_saved", { name: saved.username }));
        formBox.replaceChildren();
        load();
      } catch (err) {
        password.value = "";
        showProblem(formError, err, form, USER_LABELS);
      }
    });
    openIn(formBox, form);
  }

  function sessionsPanel(user) {
    const panelError = errorBox("sessions-error");
    const body = el("div", {}, el("p", { class: "muted" }, t("loading")));
    async function loadSessions() {
      try {
        const { sessions } = await api(`/api/users/${user.id}/sessions?limit=50`);
        if (!sessions.length) { body.replaceChildren(el("p", { class: "muted" }, t("rec_no_sessions"))); return; }
        const table = el("table", {},
          el("thead", {}, el("tr", {}, ["rec_started", "rec_last_seen", "rec_address", "rec_browser", "rec_state",
            "rec_actions"].map((k) => el("th", { scope: "col" }, t(k))))),
          el("tbody", {}, sessions.map((s) => {
            const mine = s.id === session.user?.session_id;
            const actions = el("td", { class: "actions" }, s.state === "active"
              ? el("button", { type: "button", class: "danger", "data-testid": "session-revoke",
                               "aria-label": t("rec_revoke_named", { id: s.id.slice(0, 8) }),
                               onclick: () => confirmInline(actions, t("rec_revoke") + "?", t("rec_revoke"),
                                 () => revoke(s), "session-revoke-confirm") }, t("rec_revoke"))
              : null);
            return el("tr", { "data-testid": "session-row" },
              el("td", {}, when(s.created_at)), el("td", {}, when(s.last_seen_at)), el("td", {}, s.address ?? "—"),
              el("td", { class: "agent", title: s.user_agent ?? "" }, s.user_agent ?? "—"),
              el("td", {}, el("span", { class: `badge session-${s.state}` }, t(`rec_session_${s.state}`)),
                mine ? el("small", { class: "muted block" }, t("rec_this_session")) : null),
              actions);
          })));
        body.replaceChildren(scroller(table, t("rec_sessions_of", { name: user.username })));
      } catch (err) { showProblem(panelError, err); }
    }
    async function revoke(s) {
      try {
        await remove(`/api/users/sessions/${s.id}`);
        toast(t("rec_session_revoked_toast"));
        loadSessions();
        return true;
      } catch (err) { showProblem(panelError, err); return false; }
    }
    loadSessions();
    return el("div", { class: "sessions-panel", "data-testid": "sessions-panel", role: "group",
                       "aria-label": t("rec_sessions_of", { name: user.username }) }, body, panelError);
  }

  async function load(focus) {
    try {
      const data = await api("/api/users?limit=1000");
      error.textContent = "";
      const rows = data.users.flatMap((user) => {
        const open = state.openUsers.has(user.id);
        const main = el("tr", { "data-testid": "user-row", "data-id": user.id, class: user.active ? null : "inactive" },
          el("th", { scope: "row" }, user.username), el("td", {}, user.display_name),
          el("td", {}, t(`role_${user.role}`)), el("td", {}, yesNo(user.active)),
          el("td", {}, user.last_login_at ? when(user.last_login_at) : t("rec_never")),
          el("td", { class: "actions" },
            el("button", { type: "button", "data-testid": "user-edit", "aria-label": t("rec_edit_user", { name: user.username }),
                           onclick: () => openForm(user) }, t("rec_edit")),
            el("button", { type: "button", "data-testid": "user-sessions", "aria-expanded": String(open),
                           "aria-controls": `sessions-${user.id}`,
                           "aria-label": t("rec_sessions_of", { name: user.username }),
                           onclick: () => { open ? state.openUsers.delete(user.id) : state.openUsers.add(user.id);
                                            load(`[data-testid="user-row"][data-id="${user.id}"] [data-testid="user-sessions"]`); } },
            t("rec_sessions"))));
        if (!open) return [main];
        return [main, el("tr", { class: "sub", id: `sessions-${user.id}` }, el("td", { colspan: 6 }, sessionsPanel(user)))];
      });
      const table = el("table", { "data-testid": "users-table" },
        el("thead", {}, el("tr", {}, ["rec_username", "rec_display_name", "rec_role", "rec_active", "rec_last_login",
          "rec_actions"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, rows));
      list.replaceChildren(scroller(table, t("rec_tab_users")));
      if (focus) list.querySelector(focus)?.focus();
    } catch (err) { showProblem(error, err); }
  }

  root.append(
    el("div", { class: "row toolbar" }, el("span", { class: "spacer" }),
      el("button", { type: "button", class: "primary", "data-testid": "add-user", onclick: () => openForm(null) },
        t("rec_add_user"))),
    error, formBox, list);
  load();
}

// --- the page -------------------------------------------------------------------------------------

const RENDER = { residents: residentsTab, rooms: roomsTab, cameras: camerasTab, users: usersTab };

page({
  path: "records",
  title: "nav_records",
  role: "admin",
  nav: true,
  render(main, params) {
    if (TABS.includes(params.tab)) state.tab = params.tab;
    const panel = el("section", { id: "records-panel", role: "tabpanel", class: "tabpanel" });
    const tabs = TABS.map((name) => el("button", {
      type: "button", role: "tab", id: `tab-${name}`, "aria-controls": "records-panel", "data-testid": `tab-${name}`,
      onclick: () => show(name),
    }, t(`rec_tab_${name}`)));
    const list = el("div", { role: "tablist", class: "tabs", "aria-label": t("nav_records") }, tabs);
    // Arrow keys move between tabs (the selected one alone is in the Tab order).
    list.addEventListener("keydown", (e) => {
      const at = TABS.indexOf(state.tab);
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: TABS.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      show(TABS[(to + TABS.length) % TABS.length], true);
    });
    let stop = null;
    function show(name, focus = false) {
      state.tab = name;
      history.replaceState(null, "", `#/records?tab=${name}`);
      for (const [i, tab] of tabs.entries()) {
        const on = TABS[i] === name;
        tab.setAttribute("aria-selected", String(on));
        tab.tabIndex = on ? 0 : -1;
        if (on && focus) tab.focus();
      }
      panel.setAttribute("aria-labelledby", `tab-${name}`);
      if (typeof stop === "function") stop();
      const root = el("div");
      panel.replaceChildren(root);
      stop = RENDER[name](root);
    }
    main.append(el("div", { class: "rec" }, el("h1", {}, t("nav_records")), list, panel));
    show(state.tab);
    return () => { if (typeof stop === "function") stop(); };
  },
});
