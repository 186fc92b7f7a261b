// Incident review: filter past alerts, then per alert its clip with the boxes and skeletons the
// model saw drawn over it in step with the video, the moment of detection on a timeline, why it
// fired in words, its history and deliveries, labelling (acknowledge / resolve with a
// disposition) and, for admins, the export.
import { addStrings, api, can, el, page, problem, t, toast, when } from "../core.js";
import {
  ACTIONS, ALL_DISPOSITIONS, DISPOSITIONS, KINDS, STATES, acknowledge, actionName, dispositionName,
  fill, kindName, needsAction, options, resolve, severityBadge, stateBadge, stateName,
} from "./alerts.js";

addStrings({
  en: {
    nav_incidents: "Incidents", incidents_title: "Incident review",
    from: "From", to: "To", any: "Any", apply: "Search", reset: "Reset", more: "Show more",
    results: "{n} shown", no_results: "No incidents match.",
    col_time: "Detected", col_kind: "Kind", col_severity: "Severity", col_camera: "Camera", col_camera_zone: "Camera / zone", col_zone: "Zone",
    col_state: "State", col_disposition: "Disposition",
    details: "Details", select_incident: "Choose an incident to review it.",
    clip_pending: "The clip is still being recorded; it appears here by itself.",
    clip_missing: "No clip for this alert.",
    show_overlay: "Draw boxes and skeletons", jump_detection: "Jump to detection",
    timeline: "Timeline", detection_at: "Detected at {at} s of {dur} s",
    why: "Why it fired", evidence_none: "No details were recorded.",
    thresholds: "Thresholds in force", peak: "Peaks during the incident", cues: "Signs seen",
    history: "History", deliveries: "Deliveries", no_deliveries: "No deliveries (no channels set up).",
    h_at: "When", h_action: "What", h_actor: "Who", h_version: "Version",
    d_channel: "Channel", d_status: "Status", d_attempts: "Attempts", d_error: "Last error",
    label: "Label", label_disposition: "Disposition", save_label: "Resolve with this label",
    labelled: "Resolved as “{disp}” by {who}, {at}.", note_was: "Note: {note}",
    real_title: "Real picture", real_hint: "This camera shows people as skeletons. Opening the real picture is recorded with your reason.",
    real_reason: "Reason", real_open: "Open the real picture", real_reason_needed: "Give a reason (at least 3 characters).",
    export: "Export (ZIP)", export_hint: "Alert, history, evidence and audit trail in one file.",
    ack_by: "Acknowledged by {who}, {at}.",
    context_none: "Not linked to a room.", track_ids: "Tracks",
    confidence: "Confidence", started: "Started", last_seen: "Last seen",
    yes: "yes", no: "no", needs_min: "needs ≥ {v}", needs_max: "needs ≤ {v}",
    unit_s: " s", unit_deg: "°", unit_px: " px", unit_bh: " body heights", unit_bh_s: " body heights/s",
    unit_per_s: "/s",
    ev_peak_drop_speed_body_heights_s: "Fastest drop", ev_torso_angle_deg: "Torso angle from upright",
    ev_time_to_ground_s: "Time to reach the ground", ev_down_s: "Stayed down for",
    ev_seen_lying: "Seen lying", ev_vanished: "Dropped out of view", ev_body_height_px: "Body height",
    ev_lying_s: "Lying still for", ev_box_aspect: "Box width / height",
    ev_movement_body_heights_s: "Movement", ev_fall_seen: "Fall seen",
    ev_drop_min_body_heights: "Minimum drop", ev_drop_speed_min_body_heights_s: "Minimum drop speed",
    ev_torso_down_deg: "Torso angle counted as down", ev_aspect_down: "Box width / height counted as down",
    ev_hip_down_body_heights: "Hip low by", ev_confirm_down_s: "Must stay down for",
    ev_max_descent_s: "Longest descent", ev_person_down_after_s: "Down counts as long after",
    ev_still_max_body_heights_s: "Still means moving under",
    ev_clinch: "Both in one box (clinch)", ev_tracks_swapped: "Track ids swapped", ev_violent_s: "Violent for",
    ev_duration_s: "Lasted", ev_speed_span_s: "Speed measured over",
    ev_distance_body_heights: "Distance between the two", ev_limb_speed_body_heights_s: "Limb speed",
    ev_jitter_body_heights_s: "Pose jitter", ev_box_change_per_s: "Box change",
    ev_relative_speed_body_heights_s: "Speed towards each other", ev_motion_energy: "Picture motion",
    ev_pair_max_distance_body_heights: "Pair at most this far apart", ev_box_change_support: "Box change support",
    ev_min_cues: "Signs needed", ev_min_motion_energy: "Picture motion needed",
    ev_min_keypoint_score: "Joint confidence needed", ev_confirm_s: "Must last", ev_window_s: "Window",
    ev_zone_type: "Zone type", ev_dwell_s: "Stayed for", ev_dwell_limit_s: "Allowed stay", ev_limit_from: "Limit set by",
    ev_inside_fraction: "Share of time inside", ev_zone_grace_s: "Grace for stepping out",
    ev_inside_s: "Inside for", ev_restricted_confirm_s: "Must be inside for", ev_entered: "Entered the exit zone",
    ev_distance_heights: "Distance to the exit", ev_approached_heights: "Came closer by",
    ev_exit_approach_s: "Approach window", ev_exit_approach_distance_heights: "Near the exit means within",
    ev_exit_min_approach_heights: "Must come closer by", ev_exit_confirm_s: "Must stay near for",
    ev_displacement_heights: "Moved", ev_night_min_displacement_heights: "Movement needed at night",
    ev_night_window_s: "Night movement window", ev_night_window: "Night hours", ev_local_time: "Local time",
    ev_reversals: "Turns back and forth", ev_path_ratio: "Path / distance ratio",
    ev_path_length_heights: "Path walked", ev_net_displacement_heights: "Net distance", ev_loops: "Loops",
    ev_mean_speed_heights_s: "Mean speed", ev_longest_leg_s: "Longest leg",
    ev_pacing_min_reversals: "Turns needed", ev_pacing_min_path_ratio: "Path ratio needed",
    ev_pacing_min_duration_s: "Must last", ev_pacing_min_leg_heights: "Shortest leg counted",
    ev_pacing_max_leg_s: "Longest leg counted", ev_continued_from: "Continues tracks",
    ev_seconds: "For", ev_frozen_s: "Frozen after", ev_frozen_pixel_delta: "Pixel change counted",
    cue_drop: "fast drop", cue_torso_level: "torso level", cue_box_wide: "box wider than tall",
    cue_low: "hips near the floor", cue_vanished: "dropped out of view", cue_seated: "ended seated",
    cue_reassociated: "track picked up again", cue_fast_limbs: "fast limbs", cue_pose_jitter: "jerky pose",
    cue_box_change: "box changing fast", cue_image_motion: "picture moving",
    status_pending: "pending", status_delivered: "delivered", status_failed: "failed",
  },
  zh: {
    nav_incidents: "事件", incidents_title: "事件回看",
    from: "开始", to: "结束", any: "全部", apply: "查询", reset: "重置", more: "显示更多",
    results: "显示 {n} 条", no_results: "没有符合条件的事件。",
    col_time: "发现时间", col_kind: "类型", col_severity: "严重程度", col_camera: "摄像头", col_camera_zone: "摄像头/区域", col_zone: "区域",
    col_state: "状态", col_disposition: "处理结论",
    details: "详情", select_incident: "选择一个事件进行回看。",
    clip_pending: "视频还在录制，完成后会自动显示。", clip_missing: "此警报没有视频。",
    show_overlay: "画出人框和骨架", jump_detection: "跳到发现时刻",
    timeline: "时间轴", detection_at: "在第 {at} 秒发现（共 {dur} 秒）",
    why: "为什么报警", evidence_none: "没有记录细节。",
    thresholds: "当时的阈值", peak: "事件中的峰值", cues: "看到的迹象",
    history: "经过", deliveries: "推送", no_deliveries: "没有推送（未设置推送渠道）。",
    h_at: "时间", h_action: "事项", h_actor: "操作人", h_version: "版本",
    d_channel: "渠道", d_status: "状态", d_attempts: "尝试次数", d_error: "最近错误",
    label: "标注", label_disposition: "处理结论", save_label: "按此结论处理",
    labelled: "{who} 于 {at} 处理为“{disp}”。", note_was: "备注：{note}",
    real_title: "真实画面", real_hint: "此摄像头以骨架显示人员。查看真实画面会连同理由记入审计日志。",
    real_reason: "理由", real_open: "查看真实画面", real_reason_needed: "请填写理由（至少 3 个字）。",
    export: "导出（ZIP）", export_hint: "警报、经过、证据和审计记录打包为一个文件。",
    ack_by: "{who} 于 {at} 确认。",
    context_none: "未关联房间。", track_ids: "轨迹",
    confidence: "置信度", started: "开始", last_seen: "最后一次",
    yes: "是", no: "否", needs_min: "需 ≥ {v}", needs_max: "需 ≤ {v}",
    unit_s: " 秒", unit_deg: "°", unit_px: " 像素", unit_bh: " 倍身高", unit_bh_s: " 倍身高/秒",
    unit_per_s: "/秒",
    ev_peak_drop_speed_body_heights_s: "最快下落速度", ev_torso_angle_deg: "躯干偏离直立角度",
    ev_time_to_ground_s: "落地用时", ev_down_s: "倒地持续", ev_seen_lying: "看到躺倒",
    ev_vanished: "跌出画面", ev_body_height_px: "身高", ev_lying_s: "静止躺倒", ev_box_aspect: "人框宽高比",
    ev_movement_body_heights_s: "活动量", ev_fall_seen: "看到跌倒",
    ev_drop_min_body_heights: "最小下落幅度", ev_drop_speed_min_body_heights_s: "最小下落速度",
    ev_torso_down_deg: "判为倒地的躯干角度", ev_aspect_down: "判为倒地的宽高比",
    ev_hip_down_body_heights: "髋部降低", ev_confirm_down_s: "须倒地持续", ev_max_descent_s: "最长下落时间",
    ev_person_down_after_s: "倒地多久算长时间", ev_still_max_body_heights_s: "静止指活动量低于",
    ev_clinch: "两人在同一框内（扭打）", ev_tracks_swapped: "轨迹编号互换", ev_violent_s: "激烈动作持续",
    ev_duration_s: "持续", ev_speed_span_s: "速度测量区间",
    ev_distance_body_heights: "两人距离", ev_limb_speed_body_heights_s: "肢体速度",
    ev_jitter_body_heights_s: "姿态抖动", ev_box_change_per_s: "人框变化",
    ev_relative_speed_body_heights_s: "相对速度", ev_motion_energy: "画面运动量",
    ev_pair_max_distance_body_heights: "两人最大距离", ev_box_change_support: "人框变化支持",
    ev_min_cues: "所需迹象数", ev_min_motion_energy: "所需画面运动量", ev_min_keypoint_score: "所需关节置信度",
    ev_confirm_s: "须持续", ev_window_s: "时间窗口",
    ev_zone_type: "区域类型", ev_dwell_s: "停留", ev_dwell_limit_s: "允许停留", ev_limit_from: "限制来源",
    ev_inside_fraction: "在区域内的时间占比", ev_zone_grace_s: "离开宽限", ev_inside_s: "在区域内",
    ev_restricted_confirm_s: "须在区域内", ev_entered: "进入出口区域", ev_distance_heights: "离出口距离",
    ev_approached_heights: "靠近了", ev_exit_approach_s: "靠近时间窗口",
    ev_exit_approach_distance_heights: "靠近出口指距离小于", ev_exit_min_approach_heights: "须靠近至少",
    ev_exit_confirm_s: "须在出口附近", ev_displacement_heights: "移动距离",
    ev_night_min_displacement_heights: "夜间所需移动", ev_night_window_s: "夜间活动窗口",
    ev_night_window: "夜间时段", ev_local_time: "当地时间",
    ev_reversals: "来回折返次数", ev_path_ratio: "路程/位移比", ev_path_length_heights: "走过的路程",
    ev_net_displacement_heights: "净位移", ev_loops: "圈数", ev_mean_speed_heights_s: "平均速度",
    ev_longest_leg_s: "最长一段", ev_pacing_min_reversals: "所需折返次数", ev_pacing_min_path_ratio: "所需路程比",
    ev_pacing_min_duration_s: "须持续", ev_pacing_min_leg_heights: "计入的最短一段",
    ev_pacing_max_leg_s: "计入的最长一段", ev_continued_from: "延续自轨迹",
    ev_seconds: "持续", ev_frozen_s: "冻结判定时间", ev_frozen_pixel_delta: "像素变化阈值",
    cue_drop: "快速下落", cue_torso_level: "躯干放平", cue_box_wide: "人框变宽", cue_low: "髋部接近地面",
    cue_vanished: "跌出画面", cue_seated: "最后坐着", cue_reassociated: "轨迹重新接上",
    cue_fast_limbs: "肢体快速运动", cue_pose_jitter: "姿态急剧变化", cue_box_change: "人框快速变化",
    cue_image_motion: "画面剧烈运动",
    status_pending: "待发送", status_delivered: "已送达", status_failed: "失败",
  },
});

/** COCO-17 joint pairs drawn as the skeleton. */
const SKELETON = [[15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7],
  [6, 8], [7, 9], [8, 10], [1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6]];
const TRACK_COLOURS = ["#5aa9ff", "#3ecf8e", "#ffb020", "#c792ea", "#4dd0e1", "#f78c6c"];

/** A feature and the threshold it is held against: [threshold key, "min" | "max"]. */
const AGAINST = {
  peak_drop_speed_body_heights_s: ["drop_speed_min_body_heights_s", "min"],
  torso_angle_deg: ["torso_down_deg", "min"],
  down_s: ["confirm_down_s", "min"],
  time_to_ground_s: ["max_descent_s", "max"],
  box_aspect: ["aspect_down", "min"],
  lying_s: ["person_down_after_s", "min"],
  movement_body_heights_s: ["still_max_body_heights_s", "max"],
  violent_s: ["confirm_s", "min"],
  distance_body_heights: ["pair_max_distance_body_heights", "max"],
  limb_speed_body_heights_s: ["limb_speed_body_heights_s", "min"],
  jitter_body_heights_s: ["jitter_body_heights_s", "min"],
  box_change_per_s: ["box_change_per_s", "min"],
  motion_energy: ["min_motion_energy", "min"],
  dwell_s: ["dwell_limit_s", "min"],
  inside_s: ["restricted_confirm_s", "min"],
  reversals: ["pacing_min_reversals", "min"],
  path_ratio: ["pacing_min_path_ratio", "min"],
  seconds: ["frozen_s", "min"],
};

function unitOf(key) {
  if (key.endsWith("_deg")) return t("unit_deg");
  if (key.endsWith("_body_heights_s") || key.endsWith("_heights_s")) return t("unit_bh_s");
  if (key.endsWith("_body_heights") || key.endsWith("_heights")) return t("unit_bh");
  if (key.endsWith("_px")) return t("unit_px");
  if (key.endsWith("_per_s")) return t("unit_per_s");
  if (key.endsWith("_s") || key === "seconds") return t("unit_s");
  return "";
}

function label(prefix, key) {
  const k = `${prefix}_${key}`;
  const text = t(k);
  return text === k ? key : text;
}

function valueText(key, value) {
  if (value === true) return t("yes");
  if (value === false) return t("no");
  if (value == null) return "—";
  if (typeof value === "number") return `${Number.isInteger(value) ? value : +value.toFixed(3)}${unitOf(key)}`;
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The evidence map as nested readable lists: features (with the threshold each is held
 *  against), the cues by name, peaks, and the thresholds in force; unknown keys as key: value. */
export function evidenceList(evidence) {
  const ev = evidence || {};
  const thresholds = (ev.thresholds && typeof ev.thresholds === "object") ? ev.thresholds : {};
  const item = (key, value, withLimit) => {
    const pair = withLimit ? AGAINST[key] : null;
    // Fight features share their threshold's name; the others look it up by its own name.
    const limit = pair ? (thresholds[pair[0]] ?? (pair[0] !== key ? ev[pair[0]] : null)) : null;
    return el("li", { "data-key": key },
      el("span", { class: "ev-key" }, label("ev", key)), ": ",
      el("strong", {}, valueText(key, value)),
      limit != null ? el("span", { class: "muted" }, ` (${t(pair[1] === "min" ? "needs_min" : "needs_max",
        { v: valueText(pair[0], limit) })})`) : null);
  };
  const lists = [];
  const main = [];
  for (const [key, value] of Object.entries(ev)) {
    if (key === "thresholds" || key === "peak" || key === "cues") continue;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      main.push(el("li", { "data-key": key }, el("span", { class: "ev-key" }, label("ev", key)),
        el("ul", {}, Object.entries(value).map(([k, v]) => item(k, v, false)))));
    } else {
      main.push(item(key, value, true));
    }
  }
  if (Array.isArray(ev.cues) && ev.cues.length) {
    lists.push(el("p", { class: "ev-cues", "data-key": "cues" }, el("span", { class: "ev-key" }, `${t("cues")}: `),
      ev.cues.map((c) => el("span", { class: "badge cue" }, label("cue", c)))));
  }
  if (main.length) lists.push(el("ul", { class: "ev-list" }, main));
  if (ev.peak && typeof ev.peak === "object" && Object.keys(ev.peak).length) {
    lists.push(el("h4", {}, t("peak")),
      el("ul", { class: "ev-list" }, Object.entries(ev.peak).map(([k, v]) => item(k, v, true))));
  }
  if (Object.keys(thresholds).length) {
    lists.push(el("h4", {}, t("thresholds")),
      el("ul", { class: "ev-list thresholds" }, Object.entries(thresholds).map(([k, v]) => item(k, v, false))));
  }
  return lists.length ? lists : [el("p", { class: "muted" }, t("evidence_none"))];
}

/** The value of an <input type="datetime-local"> (local time) as epoch seconds. */
function fromLocalInput(text) {
  if (!text) return null;
  const ms = new Date(text).getTime();
  return Number.isFinite(ms) ? ms / 1000 : null;
}

const PAGE_SIZE = 100;
/** How long after detection a missing clip is still expected (clip_after_s + finish_timeout_s
 *  by default, with room to spare). */
const CLIP_WAIT_S = 90;
/** Filters survive leaving the page and coming back. */
const filters = { from: "", to: "", camera: "", kind: "", state: "", disposition: "" };

// ---------------------------------------------------------------------------------------------
// The clip player with its overlay.

function clipPlayer(alert, { onCleanup }) {
  const id = encodeURIComponent(alert.id);
  const video = el("video", { controls: true, preload: "auto", playsinline: true, muted: true,
    "data-testid": "clip", src: `/api/alerts/${id}/clip.mp4?v=${encodeURIComponent(alert.clip)}` });
  const canvas = el("canvas", { class: "clip-overlay", "data-testid": "clip-overlay", "aria-hidden": "true" });
  const overlayBox = el("input", { type: "checkbox", id: "clip-overlay-toggle", checked: true, "data-testid": "overlay" });
  const jump = el("button", { type: "button", "data-testid": "jump-detection", disabled: true }, t("jump_detection"));
  const marker = el("span", { class: "tl-detect", "data-testid": "detection-marker", hidden: true });
  const head = el("span", { class: "tl-head" });
  const bar = el("div", { class: "timeline", "data-testid": "timeline", title: t("timeline") }, marker, head);
  const caption = el("p", { class: "muted", "data-testid": "detection-caption" });
  const box = el("div", { class: "clip-box" }, video, canvas);
  const root = el("div", { class: "clip-player" }, box, bar, caption,
    el("div", { class: "row" }, jump, el("label", { class: "check", for: "clip-overlay-toggle" }, overlayBox, t("show_overlay"))));

  let meta = null;
  let raf = 0;
  let dead = false;

  fetch(`/api/alerts/${id}/clip.json`, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (dead || !data) return;
      meta = data;
      jump.disabled = false;
      placeMarker();
      draw();
    })
    .catch(() => {});

  const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration
    : meta?.frames?.length ? meta.frames.length / meta.fps : 0);

  function placeMarker() {
    const dur = duration();
    if (!meta || !dur) return;
    const at = Math.min(Math.max(meta.detected_offset_s, 0), dur);
    marker.style.left = `${(100 * at) / dur}%`;
    marker.hidden = false;
    caption.textContent = t("detection_at", { at: at.toFixed(1), dur: dur.toFixed(1) });
  }

  /** The frame on screen at time `s`: the last one whose offset is not after it. */
  function frameAt(s) {
    const frames = meta?.frames || [];
    let lo = 0;
    let hi = frames.length - 1;
    let found = -1;
    const eps = 0.5 / (meta?.fps || 5);
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (frames[mid].offset_s <= s + eps) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found < 0 ? null : frames[found];
  }

  function draw() {
    const w = video.clientWidth;
    const h = video.clientHeight;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const dur = duration();
    if (dur) head.style.left = `${(100 * Math.min(video.currentTime, dur)) / dur}%`;
    if (!meta || !overlayBox.checked || !w || !h) return;
    const frame = frameAt(video.currentTime);
    if (!frame) return;
    // The picture as shown inside the element (object-fit: contain).
    const vw = video.videoWidth || meta.width;
    const vh = video.videoHeight || meta.height;
    const scale = Math.min(w / vw, h / vh);
    const ox = (w - vw * scale) / 2;
    const oy = (h - vh * scale) / 2;
    const sx = (scale * vw) / meta.width;
    const sy = (scale * vh) / meta.height;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 2;
    ctx.font = "12px system-ui, sans-serif";
    const mine = new Set(alert.track_ids || []);
    frame.xyxy.forEach((b, i) => {
      const tid = frame.track_ids?.[i];
      const colour = mine.has(tid) ? "#ff5c5c" : TRACK_COLOURS[(tid ?? i) % TRACK_COLOURS.length];
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      if (b && b.every((v) => v != null)) {
        const [x1, y1, x2, y2] = b;
        ctx.strokeRect(ox + x1 * sx, oy + y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
        if (tid != null) ctx.fillText(`#${tid}`, ox + x1 * sx + 2, oy + y1 * sy - 3);
      }
      const kp = frame.keypoints?.[i] || [];
      ctx.beginPath();
      for (const [a, c] of SKELETON) {
        const p = kp[a];
        const q = kp[c];
        if (!p || !q || p[0] == null || q[0] == null) continue;
        ctx.moveTo(ox + p[0] * sx, oy + p[1] * sy);
        ctx.lineTo(ox + q[0] * sx, oy + q[1] * sy);
      }
      ctx.stroke();
      for (const p of kp) {
        if (!p || p[0] == null) continue;
        ctx.fillRect(ox + p[0] * sx - 2, oy + p[1] * sy - 2, 4, 4);
      }
    });
  }

  function loop() {
    draw();
    if (!video.paused && !video.ended && !dead) raf = requestAnimationFrame(loop);
  }

  video.addEventListener("play", () => { cancelAnimationFrame(raf); raf = requestAnimationFrame(loop); });
  for (const name of ["loadeddata", "loadedmetadata", "seeked", "timeupdate", "pause", "ended"]) {
    video.addEventListener(name, () => { placeMarker(); draw(); });
  }
  overlayBox.addEventListener("change", () => { canvas.hidden = !overlayBox.checked; draw(); });
  const seekTo = (s) => {
    const dur = duration();
    video.currentTime = Math.min(Math.max(s, 0), dur || s);
  };
  jump.addEventListener("click", () => {
    if (!meta) return;
    video.pause();
    seekTo(meta.detected_offset_s);
  });
  bar.addEventListener("click", (e) => {
    const rect = bar.getBoundingClientRect();
    const dur = duration();
    if (dur && rect.width) seekTo(((e.clientX - rect.left) / rect.width) * dur);
  });
  const resized = new ResizeObserver(() => draw());
  resized.observe(video);

  onCleanup(() => {
    dead = true;
    cancelAnimationFrame(raf);
    resized.disconnect();
    video.pause();
    video.removeAttribute("src");
    video.load();
  });
  return root;
}

// ---------------------------------------------------------------------------------------------

page({
  path: "incidents",
  title: "nav_incidents",
  role: "guard",
  nav: true,
  render(main, params) {
    let closed = false;
    let cameras = [];
    let shown = [];
    let offset = 0;
    let searches = 0;
    let selected = params.id || null;
    let detailCleanups = [];
    let pollTimer = null;
    const cameraName = (id) => cameras.find((c) => c.id === id)?.name || id;

    // --- filters
    const field = (name, node) => { node.id = `f-${name}`; node.name = name; node.dataset.testid = `filter-${name}`; return node; };
    const from = field("from", el("input", { type: "datetime-local", value: filters.from }));
    const to = field("to", el("input", { type: "datetime-local", value: filters.to }));
    const camera = field("camera", el("select", {}, el("option", { value: "" }, t("any"))));
    const kind = field("kind", el("select", {}, options(KINDS, kindName, filters.kind, t("any"))));
    const state = field("state", el("select", {}, options(STATES, stateName, filters.state, t("any"))));
    const disposition = field("disposition", el("select", {}, options(ALL_DISPOSITIONS, dispositionName,
      filters.disposition, t("any"))));
    const lab = (text, node) => el("label", { for: node.id }, text, node);
    const form = el("form", { class: "card filters row", "data-testid": "filters", role: "search" },
      lab(t("from"), from), lab(t("to"), to), lab(t("col_camera"), camera), lab(t("col_kind"), kind),
      lab(t("col_state"), state), lab(t("col_disposition"), disposition),
      el("button", { type: "submit", class: "primary", "data-testid": "apply-filters" }, t("apply")),
      el("button", { type: "button", "data-testid": "reset-filters", onclick: () => {
        from.value = to.value = camera.value = kind.value = state.value = disposition.value = "";
        form.requestSubmit();
      } }, t("reset")));

    const tbody = el("tbody", {});
    const count = el("p", { class: "muted", role: "status", "data-testid": "result-count" });
    const more = el("button", { type: "button", hidden: true, "data-testid": "more" }, t("more"));
    const errorBox = el("p", { class: "error", role: "alert" });
    const table = el("table", { class: "incidents", "data-testid": "incidents" },
      el("thead", {}, el("tr", {}, ["col_time", "col_kind", "col_severity", "col_camera_zone", "col_state", "col_disposition"].map((k) => el("th", { scope: "col" }, t(k))))), tbody);
    const detail = el("section", { class: "incident-detail card", "data-testid": "incident-detail",
      "aria-live": "polite" }, el("p", { class: "muted" }, t("select_incident")));

    main.append(el("section", { class: "cw incidents-page" },
      el("h1", {}, t("incidents_title")), form, errorBox,
      el("div", { class: "incidents-layout" },
        el("div", { class: "incident-list card" }, el("div", { class: "table-scroll" }, table), count, more),
        detail)));

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      Object.assign(filters, { from: from.value, to: to.value, camera: camera.value, kind: kind.value,
        state: state.value, disposition: disposition.value });
      search(false);
    });
    more.addEventListener("click", () => search(true));

    async function search(append) {
      const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
      const since = fromLocalInput(filters.from);
      const until = fromLocalInput(filters.to);
      if (since != null) q.set("since", String(since));
      if (until != null) q.set("until", String(until));
      for (const k of ["camera", "kind", "state", "disposition"]) if (filters[k]) q.set(k, filters[k]);
      offset = append ? offset + PAGE_SIZE : 0;
      if (offset) q.set("offset", String(offset));
      const ticket = ++searches; // only the latest search may fill the table
      try {
        const data = await api(`/api/alerts?${q}`);
        if (closed || ticket !== searches) return;
        errorBox.textContent = "";
        shown = append ? [...shown, ...data.alerts] : data.alerts;
        more.hidden = data.alerts.length < PAGE_SIZE;
        drawRows();
      } catch (err) {
        if (!closed && ticket === searches) errorBox.textContent = problem(err);
      }
    }

    function drawRows() {
      count.textContent = shown.length ? t("results", { n: shown.length }) : t("no_results");
      tbody.replaceChildren(...shown.map((a) => {
        const open = el("button", { type: "button", class: "linkish", "data-testid": "open-incident" },
          when(a.detected_at));
        open.addEventListener("click", () => select(a.id));
        return el("tr", { "data-testid": "incident-row", "data-alert-id": a.id, "data-kind": a.kind,
          class: a.id === selected ? "selected" : null, "aria-selected": a.id === selected ? "true" : "false" },
        el("td", {}, open), el("td", {}, kindName(a.kind)), el("td", {}, severityBadge(a.severity)),
        el("td", {}, cameraName(a.camera_id), a.zone ? el("span", { class: "muted" }, ` · ${a.zone}`) : null),
        el("td", {}, stateBadge(a.state)),
        el("td", {}, a.disposition ? dispositionName(a.disposition) : ""));
      }));
    }

    function select(id) {
      selected = id;
      history.replaceState(null, "", `#/incidents?id=${encodeURIComponent(id)}`);
      drawRows();
      showDetail(id, true);
    }

    function clearDetail() {
      clearTimeout(pollTimer);
      for (const fn of detailCleanups) fn();
      detailCleanups = [];
    }

    async function showDetail(id, focus) {
      let data;
      try {
        data = await api(`/api/alerts/${encodeURIComponent(id)}`);
      } catch (err) {
        if (closed || selected !== id) return;
        clearDetail();
        detail.replaceChildren(el("p", { class: "error" }, problem(err)));
        return;
      }
      if (closed || selected !== id) return;
      clearDetail();
      const { alert, history: changes, deliveries } = data;
      shown = shown.map((a) => (a.id === alert.id ? alert : a));
      drawRows();
      const heading = el("h2", { tabindex: "-1", "data-testid": "incident-title" }, kindName(alert.kind));
      const evidence = evidenceBlock(alert);
      fill(detail,
        el("header", { class: "alert-head" }, heading,
          el("span", { class: "alert-badges" }, severityBadge(alert.severity), stateBadge(alert.state))),
        el("p", { class: "alert-meta" },
          `${t("col_camera")}: ${cameraName(alert.camera_id)}`, alert.zone ? ` · ${t("col_zone")}: ${alert.zone}` : "",
          ` · ${t("col_time")}: ${when(alert.detected_at)}`),
        el("p", { "data-testid": "context" }, alert.context?.summary || t("context_none")),
        el("p", { class: "muted" }, `${t("started")}: ${when(alert.started_at)} · ${t("last_seen")}: ${when(alert.last_seen_at)}`,
          ` · ${t("confidence")}: ${Math.round((alert.confidence || 0) * 100)}%`,
          alert.track_ids?.length ? ` · ${t("track_ids")}: ${alert.track_ids.map((x) => `#${x}`).join(", ")}` : "",
          alert.occurrences > 1 ? ` · ${t("occurrences")}: ${alert.occurrences}` : ""),
        evidence,
        el("section", { class: "why" }, el("h3", {}, t("why")), evidenceList(alert.evidence)),
        labelBlock(alert),
        el("section", { class: "history" }, el("h3", {}, t("history")), historyTable(changes)),
        el("section", { class: "deliveries" }, el("h3", {}, t("deliveries")), deliveryTable(deliveries)),
        can("admin") && alert.real_evidence?.snapshot ? realBlock(alert) : null,
        can("admin") ? el("section", { class: "export" },
          el("a", { class: "button", href: `/api/alerts/${encodeURIComponent(alert.id)}/export.zip`, download: "",
            "data-testid": "export" }, t("export")), el("span", { class: "muted" }, ` ${t("export_hint")}`)) : null,
      );
      if (focus) heading.focus();
      if (!alert.clip) waitForClip(alert, evidence);
    }

    /** Admins may open the real picture of a skeleton-only camera's alert, giving a reason that
     *  the service records in the audit log. */
    function realBlock(alert) {
      const reason = el("input", { "data-testid": "real-reason", maxlength: "500", required: true });
      const out = el("div", { "data-testid": "real-out" });
      const id = encodeURIComponent(alert.id);
      const open = el("button", { type: "button", "data-testid": "open-real" }, t("real_open"));
      open.addEventListener("click", () => {
        const why = reason.value.trim();
        if (why.length < 3) { reason.focus(); out.replaceChildren(t("real_reason_needed")); return; }
        const q = `reason=${encodeURIComponent(why)}`;
        out.replaceChildren(
          el("img", { src: `/api/alerts/${id}/real/snapshot.jpg?${q}`, alt: t("real_open"), "data-testid": "real-picture" }),
          alert.real_evidence.clip
            ? el("video", { src: `/api/alerts/${id}/real/clip.mp4?${q}`, controls: true, preload: "metadata" })
            : null);
      });
      return el("section", { class: "real" }, el("h3", {}, t("real_title")),
        el("p", { class: "muted" }, t("real_hint")),
        el("label", {}, t("real_reason"), reason), open, out);
    }

    /** Until the clip is attached (a few seconds after detection), look again now and then and
     *  put the player in place of the snapshot; the rest of the details stays as it is. */
    function waitForClip(alert, section) {
      if (Date.now() / 1000 - alert.detected_at > CLIP_WAIT_S) return;
      pollTimer = setTimeout(async () => {
        if (selected !== alert.id || closed) return;
        let fresh = alert;
        try { fresh = (await api(`/api/alerts/${encodeURIComponent(alert.id)}`)).alert; } catch { /* again later */ }
        if (selected !== alert.id || closed || !section.isConnected) return;
        if (fresh.clip) {
          section.replaceWith(evidenceBlock(fresh));
        } else {
          waitForClip(fresh, section);
        }
      }, 2000);
    }

    function evidenceBlock(alert) {
      if (alert.clip) {
        return el("section", { class: "evidence" }, clipPlayer(alert, { onCleanup: (fn) => detailCleanups.push(fn) }));
      }
      const pending = Date.now() / 1000 - alert.detected_at < CLIP_WAIT_S;
      return el("section", { class: "evidence" },
        alert.snapshot ? el("img", { class: "incident-snap", "data-testid": "incident-snapshot",
          src: `/api/alerts/${encodeURIComponent(alert.id)}/snapshot.jpg`,
          alt: t("snapshot_alt", { kind: kindName(alert.kind), camera: cameraName(alert.camera_id) }) }) : null,
        el("p", { class: "muted", "data-testid": "clip-status" }, pending ? t("clip_pending") : t("clip_missing")));
    }

    function labelBlock(alert) {
      const box = el("section", { class: "label-box" }, el("h3", {}, t("label")));
      if (alert.acknowledged_by) {
        box.append(el("p", { class: "muted" }, t("ack_by", { who: alert.acknowledged_by, at: when(alert.acknowledged_at) })));
      }
      if (alert.state === "resolved") {
        box.append(el("p", { "data-testid": "labelled" }, t("labelled", {
          disp: dispositionName(alert.disposition), who: alert.resolved_by || "?", at: when(alert.resolved_at) })));
        if (alert.note) box.append(el("p", { class: "muted" }, t("note_was", { note: alert.note })));
        return box;
      }
      const refresh = () => showDetail(alert.id, false);
      if (needsAction(alert)) {
        const ack = el("button", { type: "button", class: "primary", "data-testid": "ack" }, t("ack"));
        ack.addEventListener("click", async () => {
          ack.disabled = true;
          try { await acknowledge(alert.id); toast(t("acknowledged_ok")); } catch (err) { toast(problem(err)); }
          refresh();
        });
        box.append(el("p", {}, ack));
      }
      const dispSelect = el("select", { id: "label-disposition", "data-testid": "label-disposition" },
        options(DISPOSITIONS, dispositionName, "real_incident"));
      const note = el("input", { id: "label-note", type: "text", maxlength: "2000", "data-testid": "label-note",
        placeholder: t("note_placeholder") });
      const save = el("button", { type: "submit", class: "danger", "data-testid": "save-label" }, t("save_label"));
      const form = el("form", { class: "row" },
        el("label", { for: "label-disposition" }, t("label_disposition"), dispSelect),
        el("label", { for: "label-note", class: "grow" }, t("note"), note), save);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        save.disabled = true;
        try { await resolve(alert.id, dispSelect.value, note.value); toast(t("resolved_ok")); } catch (err) { toast(problem(err)); }
        refresh();
        search(false);
      });
      box.append(form);
      return box;
    }

    function historyTable(changes) {
      return el("table", { class: "compact", "data-testid": "history" },
        el("thead", {}, el("tr", {}, ["h_at", "h_action", "h_actor", "h_version"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, (changes || []).map((c) => el("tr", { "data-testid": "history-row", "data-action": c.action },
          el("td", {}, when(c.at)), el("td", {}, ACTIONS.includes(c.action) ? actionName(c.action) : c.action),
          el("td", {}, c.actor || ""), el("td", {}, String(c.version))))));
    }

    function deliveryTable(deliveries) {
      if (!deliveries?.length) return el("p", { class: "muted" }, t("no_deliveries"));
      return el("table", { class: "compact", "data-testid": "deliveries" },
        el("thead", {}, el("tr", {}, ["d_channel", "h_action", "d_status", "d_attempts", "d_error"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, deliveries.map((d) => el("tr", {},
          el("td", {}, d.sink), el("td", {}, actionName(d.action)), el("td", { class: `delivery-${d.status}` }, label("status", d.status)),
          el("td", {}, String(d.attempts)), el("td", {}, d.last_error || "")))));
    }

    (async () => {
      try {
        const data = await api("/api/cameras?limit=500&sort=name");
        cameras = data.cameras;
        camera.append(...cameras.map((c) => el("option", { value: c.id, selected: c.id === filters.camera }, c.name)));
      } catch { /* the filter offers "any" only */ }
      if (closed) return;
      await search(false);
      if (selected) showDetail(selected, false);
    })();

    return () => {
      closed = true;
      clearDetail();
    };
  },
});
