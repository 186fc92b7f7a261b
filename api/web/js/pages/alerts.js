// The guard console: open alerts live over the WebSocket, an audible and visible alarm until
// every new or escalated alert is acknowledged, one- or two-click acknowledge and resolve, and a
// camera health strip. Also exports the alert vocabulary (kinds, severities, states,
// dispositions) that the live and incident pages share.
import { addStrings, api, el, page, problem, t, toast, when } from "../core.js";

export const KINDS = ["fall", "person_down", "fight", "loitering", "pacing", "restricted_entry",
  "night_movement", "exit_approach", "camera_offline", "camera_frozen", "camera_covered"];
export const CAMERA_KINDS = ["camera_offline", "camera_frozen", "camera_covered"];
export const SEVERITIES = ["info", "warning", "critical"];
export const STATES = ["new", "escalated", "acknowledged", "resolved"];
export const OPEN_STATES = ["new", "escalated", "acknowledged"];
/** What staff choose when resolving (`cleared` is the system's own, for cameras that recovered). */
export const DISPOSITIONS = ["real_incident", "false_alarm", "duplicate"];
const ALL_DISPOSITIONS = [...DISPOSITIONS, "cleared"];
const ACTIONS = ["created", "updated", "reopened", "escalated", "acknowledged", "resolved", "evidence",
  "retention"];

addStrings({
  en: {
    nav_alerts: "Console",
    kind_fall: "Fall", kind_person_down: "Person down for long", kind_fight: "Fight",
    kind_loitering: "Loitering", kind_pacing: "Pacing", kind_restricted_entry: "Restricted area entered",
    kind_night_movement: "Night movement", kind_exit_approach: "Approaching an exit",
    kind_camera_offline: "Camera offline", kind_camera_frozen: "Picture frozen",
    kind_camera_covered: "Lens covered",
    sev_info: "info", sev_warning: "warning", sev_critical: "critical",
    state_new: "new", state_escalated: "escalated", state_acknowledged: "acknowledged",
    state_resolved: "resolved",
    disp_real_incident: "Real incident", disp_false_alarm: "False alarm", disp_duplicate: "Duplicate",
    disp_cleared: "Cleared by the system",
    act_created: "created", act_updated: "happened again", act_reopened: "reopened",
    act_escalated: "escalated", act_acknowledged: "acknowledged", act_resolved: "resolved",
    act_evidence: "clip attached", act_retention: "evidence deleted (retention)",
    cam_online: "online", cam_starting: "starting", cam_reconnecting: "reconnecting",
    cam_ended: "ended", cam_disabled: "disabled", cam_unknown: "unknown",
    console_title: "Guard console", open_alerts: "Open alerts ({n})", no_open: "No open alerts. All quiet.",
    recently_resolved: "Recently resolved ({n})", no_resolved: "Nothing resolved yet.",
    camera: "Camera", zone: "Zone", detected: "Detected", state: "State", occurrences: "Occurrences",
    severity: "Severity", kind: "Kind", disposition: "Disposition", note: "Note",
    note_placeholder: "What happened (optional)",
    escalation_level: "escalation {n}",
    ack: "Acknowledge", resolve: "Resolve", confirm_resolve: "Confirm resolve",
    open_incident: "Review incident", snapshot_alt: "Snapshot of {kind} on {camera}",
    no_snapshot: "No snapshot",
    acked_by: "Acknowledged by {who}, {at}", resolved_by: "Resolved by {who}, {at}: {disp}",
    ws_connecting: "Connecting…", ws_live: "Live", ws_offline: "Connection lost — retrying in {s} s",
    ws_label: "Alert feed",
    enable_sound: "Click to enable sound", sound_blocked: "Sound is off: the browser needs a click first.",
    mute: "Mute alarm", unmute: "Unmute alarm", muted_note: "Alarm sound muted",
    alarm_sr: "Alarm: {n} alert(s) waiting for acknowledgement.",
    new_alert_sr: "New alert: {kind}, {camera}",
    cameras_label: "Cameras", camera_alerts: "open: {kinds}", fps: "{fps} fps", no_cameras: "No cameras.",
    health_failed: "Camera health unavailable: {err}",
    acknowledged_ok: "Acknowledged.", resolved_ok: "Resolved.",
  },
  zh: {
    nav_alerts: "值班台",
    kind_fall: "跌倒", kind_person_down: "长时间倒地", kind_fight: "打架", kind_loitering: "徘徊逗留",
    kind_pacing: "来回踱步", kind_restricted_entry: "进入禁区", kind_night_movement: "夜间活动",
    kind_exit_approach: "靠近出口", kind_camera_offline: "摄像头离线", kind_camera_frozen: "画面冻结",
    kind_camera_covered: "镜头被遮挡",
    sev_info: "提示", sev_warning: "警告", sev_critical: "严重",
    state_new: "新", state_escalated: "已升级", state_acknowledged: "已确认", state_resolved: "已处理",
    disp_real_incident: "真实事件", disp_false_alarm: "误报", disp_duplicate: "重复",
    disp_cleared: "系统已自动解除",
    act_created: "创建", act_updated: "再次发生", act_reopened: "重新打开", act_escalated: "升级",
    act_acknowledged: "确认", act_resolved: "处理完毕", act_evidence: "附上视频",
    act_retention: "证据已按保留期删除",
    cam_online: "在线", cam_starting: "启动中", cam_reconnecting: "重连中", cam_ended: "已结束",
    cam_disabled: "已停用", cam_unknown: "未知",
    console_title: "值班台", open_alerts: "未处理警报（{n}）", no_open: "没有未处理的警报，一切正常。",
    recently_resolved: "最近处理的（{n}）", no_resolved: "还没有处理过的警报。",
    camera: "摄像头", zone: "区域", detected: "发现时间", state: "状态", occurrences: "发生次数",
    severity: "严重程度", kind: "类型", disposition: "处理结论", note: "备注",
    note_placeholder: "发生了什么（可选）",
    escalation_level: "第 {n} 次升级",
    ack: "确认", resolve: "处理", confirm_resolve: "确认处理",
    open_incident: "查看事件", snapshot_alt: "{camera} 的{kind}快照", no_snapshot: "没有快照",
    acked_by: "{who} 于 {at} 确认", resolved_by: "{who} 于 {at} 处理：{disp}",
    ws_connecting: "连接中…", ws_live: "实时", ws_offline: "连接中断，{s} 秒后重试",
    ws_label: "警报推送",
    enable_sound: "点击开启声音", sound_blocked: "声音未开启：浏览器需要先点击一次。",
    mute: "警报静音", unmute: "取消静音", muted_note: "警报声已静音",
    alarm_sr: "警报：{n} 条警报等待确认。",
    new_alert_sr: "新警报：{kind}，{camera}",
    cameras_label: "摄像头", camera_alerts: "未处理：{kinds}", fps: "{fps} 帧/秒", no_cameras: "没有摄像头。",
    health_failed: "无法获取摄像头状态：{err}",
    acknowledged_ok: "已确认。", resolved_ok: "已处理。",
  },
});

/** Replace `node`'s children, skipping null ones (replaceChildren would write "null"). */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
  return node;
}

/** A translated name, falling back to the raw value for anything new. */
function named(prefix, value) {
  if (value == null) return "";
  const key = `${prefix}_${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}
export const kindName = (kind) => named("kind", kind);
export const severityName = (sev) => named("sev", sev);
export const stateName = (state) => named("state", state);
export const dispositionName = (disp) => named("disp", disp);
export const actionName = (action) => named("act", action);
export const cameraStateName = (state) => named("cam", state || "unknown");

export function severityBadge(severity) {
  return el("span", { class: `badge sev-${severity}`, "data-testid": "severity" }, severityName(severity));
}

export function stateBadge(state) {
  return el("span", { class: `badge state state-badge-${state}`, "data-testid": "state" }, stateName(state));
}

/** `<select>` options for one of the vocabularies, with an optional empty "any" first. */
export function options(values, name, selected, anyLabel) {
  const list = anyLabel != null ? [el("option", { value: "" }, anyLabel)] : [];
  for (const v of values) list.push(el("option", { value: v, selected: v === selected }, name(v)));
  return list;
}

export { ALL_DISPOSITIONS, ACTIONS };

/** Open alerts first by severity, then those still waiting for someone, then newest. */
export function alertOrder(a, b) {
  const sev = SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity);
  if (sev) return sev;
  const waiting = Number(b.state !== "acknowledged") - Number(a.state !== "acknowledged");
  if (waiting) return waiting;
  return b.detected_at - a.detected_at;
}

export const needsAction = (alert) => alert.state === "new" || alert.state === "escalated";

/** POST acknowledge; returns the alert as it is afterwards. */
export async function acknowledge(id) {
  const change = await api(`/api/alerts/${encodeURIComponent(id)}/acknowledge`, { method: "POST", body: {} });
  return change.alert;
}

/** POST resolve with a disposition and an optional note; returns the alert afterwards. */
export async function resolve(id, disposition, note) {
  const change = await api(`/api/alerts/${encodeURIComponent(id)}/resolve`, {
    method: "POST", body: { disposition, note: note?.trim() || null },
  });
  return change.alert;
}

// ---------------------------------------------------------------------------------------------
// The alarm: Web Audio beeps every ~2 s while an alert waits, and the red flash of #flash.

class Alarm {
  constructor(onChange) {
    this.onChange = onChange;
    this.on = false;
    this.muted = false;
    this.severity = "info";
    this.ctx = null;
    this.timer = null;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx) {
      try {
        this.ctx = new Ctx();
        this.ctx.onstatechange = () => this.onChange();
      } catch { this.ctx = null; }
    }
  }

  get running() { return this.ctx?.state === "running"; }

  /** Resume audio after a user gesture (browsers start it suspended). */
  async enable() {
    if (!this.ctx) return;
    try { await this.ctx.resume(); } catch { /* stays suspended */ }
    this.onChange();
    if (this.on) this.beep();
  }

  set(on, severity, count) {
    if (this.dead) return;
    const was = this.on;
    this.on = on;
    this.severity = severity;
    document.body.dataset.alarm = on ? "on" : "off";
    const flash = document.getElementById("flash");
    if (flash) {
      flash.hidden = !on;
      flash.setAttribute("aria-hidden", on ? "false" : "true");
      flash.replaceChildren(on ? el("span", { class: "sr" }, t("alarm_sr", { n: count })) : "");
    }
    if (on && !was) {
      this.beep();
      this.timer = setInterval(() => this.beep(), 2000);
    } else if (!on && was) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** One burst: three high tones for critical, two for warning, one soft one for info. */
  beep() {
    if (!this.on || this.muted || !this.running) return;
    const ctx = this.ctx;
    const pattern = { critical: [988, 740, 988], warning: [740, 740], info: [523] }[this.severity] || [740];
    const start = ctx.currentTime + 0.02;
    pattern.forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      const t0 = start + i * 0.25;
      osc.type = this.severity === "critical" ? "square" : "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0);
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0);
      osc.stop(t0 + 0.2);
    });
  }

  close() {
    this.set(false, "info", 0);
    this.dead = true;
    if (this.ctx) {
      this.ctx.onstatechange = null;
      this.ctx.close().catch(() => {});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One alert card, updated in place so an open resolve form survives other alerts arriving.

function alertCard(alert, { cameraName, onAck, onResolve }) {
  const card = el("article", { class: "alert-card", "data-testid": "alert-card", tabindex: "-1" });
  const title = el("h3", { class: "alert-kind" });
  const badges = el("span", { class: "alert-badges" });
  const meta = el("p", { class: "alert-meta" });
  const summary = el("p", { class: "alert-summary", "data-testid": "context" });
  const times = el("p", { class: "alert-times muted" });
  const figure = el("div", { class: "alert-snap" });
  const ackBtn = el("button", { type: "button", class: "primary", "data-testid": "ack" }, t("ack"));
  const resolveBtn = el("button", { type: "button", "data-testid": "resolve", "aria-expanded": "false" },
    t("resolve"));
  const link = el("a", { class: "incident-link", "data-testid": "incident-link" }, t("open_incident"));
  const actions = el("div", { class: "alert-actions" }, ackBtn, resolveBtn, link);

  const uid = `r-${alert.id}`;
  const select = el("select", { id: `${uid}-disp`, "data-testid": "disposition" },
    options(DISPOSITIONS, dispositionName, "real_incident"));
  const note = el("input", { id: `${uid}-note`, type: "text", maxlength: "2000", "data-testid": "note",
    placeholder: t("note_placeholder") });
  const confirm = el("button", { type: "submit", class: "danger", "data-testid": "confirm-resolve" },
    t("confirm_resolve"));
  const cancel = el("button", { type: "button", "data-testid": "cancel-resolve" }, t("cancel"));
  const form = el("form", { class: "resolve-form", hidden: true, "data-testid": "resolve-form" },
    el("label", { for: `${uid}-disp` }, t("disposition"), select),
    el("label", { for: `${uid}-note` }, t("note"), note),
    el("div", { class: "row" }, confirm, cancel));

  const openForm = (open) => {
    form.hidden = !open;
    resolveBtn.setAttribute("aria-expanded", String(open));
    if (open) select.focus();
  };
  resolveBtn.addEventListener("click", () => openForm(form.hidden));
  cancel.addEventListener("click", () => { openForm(false); resolveBtn.focus(); });
  ackBtn.addEventListener("click", async () => {
    ackBtn.disabled = true;
    try { await onAck(card.alert); } finally { ackBtn.disabled = false; }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    confirm.disabled = true;
    try { await onResolve(card.alert, select.value, note.value); } finally { confirm.disabled = false; }
  });

  card.append(el("header", { class: "alert-head" }, title, badges), meta, summary, times, figure,
    actions, form);

  card.update = (a) => {
    card.alert = a;
    card.dataset.alertId = a.id;
    card.dataset.kind = a.kind;
    card.dataset.state = a.state;
    card.dataset.severity = a.severity;
    card.className = `alert-card sev-edge-${a.severity} state-${a.state}`;
    title.textContent = kindName(a.kind);
    fill(badges, severityBadge(a.severity), stateBadge(a.state),
      a.escalation_level > 0 ? el("span", { class: "badge" }, t("escalation_level", { n: a.escalation_level })) : null);
    fill(meta,
      el("span", { "data-testid": "camera" }, `${t("camera")}: ${cameraName(a.camera_id)}`),
      a.zone ? el("span", { "data-testid": "zone" }, ` · ${t("zone")}: ${a.zone}`) : null);
    summary.textContent = a.context?.summary || "";
    summary.hidden = !a.context?.summary;
    fill(times,
      el("span", {}, `${t("detected")}: `, el("time", { datetime: new Date(a.detected_at * 1000).toISOString() },
        when(a.detected_at))),
      a.occurrences > 1 ? el("span", { "data-testid": "occurrences" }, ` · ${t("occurrences")}: ${a.occurrences}`) : null,
      a.acknowledged_by ? el("span", {}, ` · ${t("acked_by", { who: a.acknowledged_by, at: when(a.acknowledged_at) })}`) : null,
    );
    const src = a.snapshot ? `/api/alerts/${encodeURIComponent(a.id)}/snapshot.jpg?v=${encodeURIComponent(a.snapshot)}` : null;
    if (figure.dataset.src !== (src || "")) {
      figure.dataset.src = src || "";
      figure.replaceChildren(src
        ? el("img", { src, loading: "lazy", width: "320", height: "180", "data-testid": "snapshot",
          alt: t("snapshot_alt", { kind: kindName(a.kind), camera: cameraName(a.camera_id) }) })
        : el("span", { class: "muted" }, t("no_snapshot")));
    }
    ackBtn.hidden = !needsAction(a);
    resolveBtn.hidden = a.state === "resolved";
    if (a.state === "resolved") form.hidden = true;
    link.href = `#/incidents?id=${encodeURIComponent(a.id)}`;
  };
  card.update(alert);
  return card;
}

function resolvedRow(a, cameraName) {
  return el("li", { class: "resolved-row", "data-testid": "resolved-card", "data-alert-id": a.id, "data-kind": a.kind },
    el("a", { href: `#/incidents?id=${encodeURIComponent(a.id)}` }, kindName(a.kind)),
    " ", severityBadge(a.severity), " ",
    el("span", {}, `${cameraName(a.camera_id)}${a.zone ? ` · ${a.zone}` : ""} · ${when(a.detected_at)}`),
    el("span", { class: "muted" }, ` — ${t("resolved_by", {
      who: a.resolved_by || "?", at: when(a.resolved_at), disp: dispositionName(a.disposition) })}`),
    a.note ? el("span", { class: "muted" }, ` “${a.note}”`) : null);
}

// ---------------------------------------------------------------------------------------------

const RESOLVED_SHOWN = 25;
const HEALTH_EVERY_MS = 5000;

page({
  path: "alerts",
  title: "nav_alerts",
  role: "guard",
  nav: true,
  render(main) {
    const alerts = new Map();       // id -> alert (with context where known)
    const cards = new Map();        // id -> card element
    const contexts = new Map();     // camera id -> records context
    const cameraNames = new Map();  // camera id -> name (from /health)
    let lastSeq = 0;    // the last change applied (the resume cursor)
    let serverSeq = 0;  // the highest cursor the service reported
    let socket = null;
    let closed = false;
    let retryTimer = null;
    let countdownTimer = null;
    let healthTimer = null;
    let attempt = 0;
    let loadedOnce = false;
    const cameraName = (id) => cameraNames.get(id) || id;

    // --- layout
    const wsState = el("span", { class: "ws-state", "data-testid": "ws-status", "data-state": "connecting",
      role: "status", title: t("ws_label") }, el("span", { class: "dot", "aria-hidden": "true" }),
    el("span", { class: "ws-text" }, t("ws_connecting")));
    const enableSound = el("button", { type: "button", class: "primary", "data-testid": "enable-sound", hidden: true },
      "🔈 ", t("enable_sound"));
    const mute = el("button", { type: "button", "data-testid": "mute", "aria-pressed": "false" }, t("mute"));
    const strip = el("ul", { class: "camera-strip", "data-testid": "camera-strip", "aria-label": t("cameras_label") });
    const announce = el("div", { class: "sr", role: "alert", "aria-live": "assertive" });
    const openHeading = el("h2", { id: "open-alerts-h" });
    const list = el("div", { class: "alert-list", "data-testid": "open-alerts", "aria-labelledby": "open-alerts-h" });
    const empty = el("p", { class: "muted empty", "data-testid": "no-open" }, t("no_open"));
    const resolvedSummary = el("summary", {});
    const resolvedList = el("ul", { class: "resolved-list" });
    const resolved = el("details", { class: "resolved card", "data-testid": "resolved" }, resolvedSummary, resolvedList);
    const errorBox = el("p", { class: "error", role: "alert", "data-testid": "console-error" });

    main.append(el("section", { class: "cw console", "data-testid": "guard-console" },
      el("div", { class: "console-bar" },
        el("h1", {}, t("console_title")),
        el("span", { class: "spacer" }),
        wsState, enableSound, mute),
      strip, errorBox, announce,
      openHeading, empty, list, resolved));

    // --- alarm
    const alarm = new Alarm(() => updateSound());
    document.body.dataset.alarm = "off";
    function updateSound() {
      enableSound.hidden = !alarm.ctx || alarm.running;
      document.body.dataset.sound = !alarm.ctx ? "none" : alarm.muted ? "muted" : alarm.running ? "on" : "blocked";
    }
    enableSound.addEventListener("click", () => alarm.enable());
    const anyGesture = () => { if (alarm.ctx && !alarm.running) alarm.enable(); };
    document.addEventListener("pointerdown", anyGesture, true);
    document.addEventListener("keydown", anyGesture, true);
    mute.addEventListener("click", () => {
      alarm.muted = !alarm.muted;
      mute.setAttribute("aria-pressed", String(alarm.muted));
      mute.textContent = alarm.muted ? t("unmute") : t("mute");
      mute.classList.toggle("muted", alarm.muted);
      updateSound();
    });
    updateSound();

    // --- drawing
    function draw() {
      const open = [...alerts.values()].filter((a) => a.state !== "resolved").sort(alertOrder);
      openHeading.textContent = t("open_alerts", { n: open.length });
      empty.hidden = open.length > 0;
      const keep = new Set(open.map((a) => a.id));
      for (const [id, card] of cards) {
        if (!keep.has(id)) { card.remove(); cards.delete(id); }
      }
      open.forEach((a, i) => {
        let card = cards.get(a.id);
        if (!card) {
          card = alertCard(a, { cameraName, onAck, onResolve });
          cards.set(a.id, card);
        } else if (card.alert !== a) {
          card.update(a);
        }
        if (list.children[i] !== card) list.insertBefore(card, list.children[i] || null);
      });
      const allDone = [...alerts.values()].filter((a) => a.state === "resolved")
        .sort((a, b) => (b.resolved_at || 0) - (a.resolved_at || 0));
      const done = allDone.slice(0, RESOLVED_SHOWN);
      for (const a of allDone.slice(RESOLVED_SHOWN)) alerts.delete(a.id); // a night's worth stays small
      resolvedSummary.textContent = t("recently_resolved", { n: done.length });
      resolvedList.replaceChildren(...(done.length ? done.map((a) => resolvedRow(a, cameraName))
        : [el("li", { class: "muted" }, t("no_resolved"))]));
      const waiting = open.filter(needsAction);
      const worst = waiting.reduce((s, a) => (SEVERITIES.indexOf(a.severity) > SEVERITIES.indexOf(s) ? a.severity : s), "info");
      alarm.set(waiting.length > 0, worst, waiting.length);
      drawStrip();
    }

    function store(alert) {
      const old = alerts.get(alert.id);
      if (old && old.version > alert.version) return false;
      const context = alert.context !== undefined ? alert.context : (old?.context ?? contexts.get(alert.camera_id));
      if (alert.context !== undefined) contexts.set(alert.camera_id, alert.context);
      alerts.set(alert.id, { ...alert, context });
      if (context === undefined) fetchContext(alert.id);
      return true;
    }

    const fetching = new Set();
    async function fetchContext(id) {
      if (fetching.has(id)) return;
      fetching.add(id);
      try {
        const { alert } = await api(`/api/alerts/${encodeURIComponent(id)}`);
        contexts.set(alert.camera_id, alert.context);
        const current = alerts.get(id);
        if (current && !closed) { alerts.set(id, { ...current, context: alert.context }); draw(); }
      } catch { /* shown without context */ }
    }

    async function onAck(a) {
      try {
        const after = await acknowledge(a.id);
        if (!closed && store(after)) draw();
        toast(t("acknowledged_ok"));
      } catch (err) {
        toast(problem(err));
        refreshOne(a.id);
      }
    }

    async function onResolve(a, disposition, note) {
      try {
        const after = await resolve(a.id, disposition, note);
        if (!closed && store(after)) draw();
        toast(t("resolved_ok"));
      } catch (err) {
        toast(problem(err));
        refreshOne(a.id);
      }
    }

    async function refreshOne(id) {
      try {
        const { alert } = await api(`/api/alerts/${encodeURIComponent(id)}`);
        if (!closed && store(alert)) draw();
      } catch { /* keep what we have */ }
    }

    // --- loading and the live feed
    async function load() {
      const openLists = OPEN_STATES.map((s) => api(`/api/alerts?state=${s}&limit=500`));
      const pages = await Promise.all([api("/api/alerts?limit=100"), ...openLists]);
      if (closed) return;
      const seqs = pages.map((p) => p.last_seq);
      alerts.clear();
      for (const p of pages) for (const a of p.alerts) store(a);
      lastSeq = Math.min(...seqs);
      serverSeq = Math.max(...seqs);
      wsState.dataset.seq = String(lastSeq);
      loadedOnce = true;
      draw();
    }

    function setWs(state, text) {
      wsState.dataset.state = state;
      wsState.querySelector(".ws-text").textContent = text;
    }

    function connect() {
      if (closed) return;
      setWs("connecting", t("ws_connecting"));
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      // Without a first load there is nothing to resume from: take only new changes then.
      const query = loadedOnce ? `?since=${lastSeq}` : "";
      const ws = new WebSocket(`${proto}//${location.host}/api/alerts/ws${query}`);
      socket = ws;
      ws.onmessage = (event) => {
        let msg;
        try { msg = JSON.parse(event.data); } catch { return; }
        if (msg.type === "hello") {
          attempt = 0;
          const before = serverSeq;
          serverSeq = Math.max(serverSeq, msg.last_seq);
          setWs("live", t("ws_live"));
          // The service's cursor never goes back while it runs; lower means another database
          // now answers at this address (compare with what the service said, not with change
          // seqs, which can run a moment ahead of its cursor): start over.
          if (msg.last_seq < before) {
            load().catch((err) => { errorBox.textContent = problem(err); }).finally(() => ws.close());
          }
          return;
        }
        if (msg.type !== "change") return;
        if (msg.seq <= lastSeq) return;
        lastSeq = msg.seq;
        wsState.dataset.seq = String(lastSeq);
        const changed = store(msg.alert);
        if (changed && ["created", "reopened", "escalated"].includes(msg.action)) {
          announce.textContent = t("new_alert_sr", { kind: kindName(msg.alert.kind), camera: cameraName(msg.alert.camera_id) });
        }
        if (changed) draw();
      };
      ws.onclose = (event) => {
        if (socket === ws) socket = null;
        if (closed) return;
        if (event.code === 4401) { location.hash = "#/login"; return; }
        const delay = Math.min(30, 2 ** attempt) * (0.75 + Math.random() * 0.5);
        attempt += 1;
        let left = Math.ceil(delay);
        setWs("offline", t("ws_offline", { s: left }));
        clearInterval(countdownTimer);
        countdownTimer = setInterval(() => {
          left = Math.max(0, left - 1);
          setWs("offline", t("ws_offline", { s: left }));
        }, 1000);
        retryTimer = setTimeout(() => {
          clearInterval(countdownTimer);
          connect();
        }, delay * 1000);
      };
    }

    // --- the camera strip
    let cams = null;
    function drawStrip() {
      if (cams === null) return;
      const problems = new Map();
      for (const a of alerts.values()) {
        if (a.state !== "resolved" && CAMERA_KINDS.includes(a.kind)) {
          problems.set(a.camera_id, [...(problems.get(a.camera_id) || []), a.kind]);
        }
      }
      if (!cams.length) { strip.replaceChildren(el("li", { class: "muted" }, t("no_cameras"))); return; }
      strip.replaceChildren(...cams.map((c) => {
        const kinds = problems.get(c.camera_id) || [];
        const bad = c.state !== "online" && c.state !== "disabled";
        const red = bad || kinds.includes("camera_offline") || kinds.includes("camera_frozen");
        const cls = red ? "cam-bad" : kinds.length ? "cam-warn" : c.state === "disabled" ? "cam-off" : "cam-ok";
        return el("li", { class: `cam-chip ${cls}`, "data-testid": "camera-chip", "data-camera": c.camera_id,
          "data-state": c.state, "data-problem": kinds.join(" ") || null },
        el("span", { class: "dot", "aria-hidden": "true" }),
        el("strong", {}, c.name || c.camera_id), " ",
        el("span", {}, cameraStateName(c.state)),
        c.state === "online" && c.analysed_fps != null ? el("span", { class: "muted" }, ` · ${t("fps", { fps: c.analysed_fps })}`) : null,
        kinds.length ? el("span", { class: "cam-problem" }, ` · ${t("camera_alerts", { kinds: kinds.map(kindName).join(", ") })}`) : null);
      }));
    }

    async function health() {
      try {
        const res = await fetch("/health", { credentials: "same-origin" });
        const data = await res.json();
        if (closed) return;
        cams = data.cameras || [];
        for (const c of cams) cameraNames.set(c.camera_id, c.name || c.camera_id);
        drawStrip();
      } catch (err) {
        if (closed) return;
        strip.replaceChildren(el("li", { class: "cam-chip cam-bad" }, t("health_failed", { err: err.message || err })));
      }
    }

    health();
    healthTimer = setInterval(health, HEALTH_EVERY_MS);
    load().catch((err) => { errorBox.textContent = problem(err); }).finally(() => connect());
    // A failed first load is tried again until it works (the feed resumes from what it got).
    const reloadTimer = setInterval(() => {
      if (!loadedOnce && !closed) load().then(() => { errorBox.textContent = ""; }).catch(() => {});
    }, 10_000);

    return () => {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(countdownTimer);
      clearInterval(healthTimer);
      clearInterval(reloadTimer);
      document.removeEventListener("pointerdown", anyGesture, true);
      document.removeEventListener("keydown", anyGesture, true);
      if (socket) socket.close(1000);
      alarm.close();
      delete document.body.dataset.sound;
    };
  },
});
