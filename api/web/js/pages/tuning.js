// Tuning (operators): a camera's behaviour thresholds as a form built from the settings' schema
// (description, unit, bounds, default), "what if" scoring of a change on the camera's labelled
// alerts, applying it as a new profile version, the version history with restore, and a zone
// editor that draws relative (0-1) polygons over the camera's picture: zones, and for admins the
// privacy masks (blacked out in the live view and in evidence).
import { addStrings, api, can, el, page, problem, t, toast, when } from "../core.js";

const BEHAVIOURS = ["fall", "fight", "wandering"];
const ZONE_TYPES = ["bed", "corridor", "room", "restricted", "exit", "bathroom", "other"];
const ZONE_COLOURS = {
  bed: "#5aa9ff", corridor: "#3ecf8e", room: "#a7b1bd", restricted: "#ff5c5c", exit: "#ffb020",
  bathroom: "#c58cff", other: "#e8edf2",
};
const HISTORY_LIMIT = 20;
const MASK = "mask"; // the zone editor's "type" of a privacy mask (stored apart from the zones)

/** Units from the setting's name, longest suffix first. */
const UNITS = [
  ["_body_heights_s", "tun_u_bh_s"], ["_heights_s", "tun_u_bh_s"], ["_px_s", "tun_u_px_s"],
  ["_per_s", "tun_u_per_s"], ["_body_heights", "tun_u_bh"], ["_heights", "tun_u_bh"],
  ["_deg", "tun_u_deg"], ["_px", "tun_u_px"], ["_frac", "tun_u_frac"], ["_s", "tun_u_s"],
];

/** Short names of the settings, [English, Chinese]; the detailed description comes from the
 *  server's schema. A setting added later without a name here shows its key. */
const NAMES = {
  "fall.enabled": ["Detect falls", "检测跌倒"],
  "fall.min_body_height_frac": ["Smallest person judged", "判断的最小人体高度"],
  "fall.min_upright_s": ["Upright before judging", "判断前需站立时长"],
  "fall.border_margin_frac": ["Image border margin", "画面边缘宽度"],
  "fall.reference_window_s": ["Body height reference window", "身高参考时段"],
  "fall.drop_window_s": ["Drop measuring window", "下落测量时段"],
  "fall.drop_min_body_heights": ["Minimum drop", "最小下落幅度"],
  "fall.drop_speed_min_body_heights_s": ["Minimum drop speed", "最小下落速度"],
  "fall.torso_down_deg": ["Torso angle counted as lying", "视为躺倒的躯干角度"],
  "fall.aspect_down": ["Box width/height counted as lying", "视为躺倒的人框宽高比"],
  "fall.hip_down_body_heights": ["Hips lowered by", "髋部下降幅度"],
  "fall.hip_floor_body_heights": ["Hips above the floor at most", "髋部离地高度上限"],
  "fall.low_down_body_heights": ["Head lowered by", "头部下降幅度"],
  "fall.low_max_height_ratio": ["Box height ratio, head low", "头低时的人框高度比"],
  "fall.cut_max_height_ratio": ["Box height ratio at the image edge", "画面边缘处的人框高度比"],
  "fall.vanish_counts_as_down": ["Vanishing after a drop counts as down", "下落后消失视为倒地"],
  "fall.near_body_heights": ["Nearby distance", "附近距离"],
  "fall.reassociate_s": ["Continue a person on a new track within", "新轨迹接续时限"],
  "fall.max_vanished_s": ["Wait for a vanished person", "消失人员等待时长"],
  "fall.confirm_down_s": ["Confirm time on the floor", "倒地确认时间"],
  "fall.confirm_seated_s": ["Confirm time seated on the floor", "坐地确认时间"],
  "fall.max_descent_s": ["Longest descent of a fall", "跌倒最长下降时间"],
  "fall.controlled_pause_s": ["Pause marking a controlled lie-down", "有控制躺下的停顿时长"],
  "fall.recover_s": ["Upright again to re-arm", "重新站立后复位时长"],
  "fall.person_down": ["Report a person down without a fall", "报告未见跌倒的倒地者"],
  "fall.person_down_after_s": ["Report a person down after", "倒地报告时限"],
  "fall.still_max_body_heights_s": ["Lying still: hips slower than", "静止躺卧的速度上限"],
  "fall.rules": ["Rules judge falls", "规则判断跌倒"],
  "fall.model.enabled": ["Learned classifier judges falls", "学习模型判断跌倒"],
  "fall.model.threshold": ["Classifier score for a fall", "判为跌倒的模型分数"],
  "fight.enabled": ["Detect fights", "检测打架"],
  "fight.pair_max_distance_body_heights": ["Pair distance", "两人配对距离"],
  "fight.min_keypoint_score": ["Minimum joint score", "关节最低置信度"],
  "fight.limb_speed_body_heights_s": ["Fast limb speed", "快速肢体速度"],
  "fight.jitter_body_heights_s": ["Pose jitter", "姿态抖动"],
  "fight.box_change_per_s": ["Box shape change", "人框形变速度"],
  "fight.box_change_support": ["Box change support", "人框形变的佐证比例"],
  "fight.min_cues": ["Cues needed per person", "每人所需线索数"],
  "fight.min_motion_energy": ["Image motion needed", "所需画面运动量"],
  "fight.motion_pixel_grey": ["Moving pixel grey level", "运动像素灰度阈值"],
  "fight.speed_span_s": ["Speed measuring span", "速度测量跨度"],
  "fight.max_step_s": ["Longest step between observations", "观测间最大间隔"],
  "fight.confirm_s": ["Violent time to confirm", "剧烈动作确认时间"],
  "fight.window_s": ["Confirmation window", "确认时段"],
  "fight.rearm_s": ["Calm time before another alert", "再次报警前的平静时长"],
  "fight.min_body_height_frame": ["Smallest person judged (share of frame height)", "判断的最小人体高度（占画面高度）"],
  "fight.clinch_min_aspect": ["Clinch box width/height", "扭打人框宽高比"],
  "fight.clinch_motion_energy": ["Clinch image motion", "扭打画面运动量"],
  "fight.clinch_min_cues": ["Clinch cues needed", "扭打所需线索数"],
  "fight.clinch_confirm_s": ["Clinch confirm time", "扭打确认时间"],
  "fight.rules": ["Rules judge fights", "规则判断打架"],
  "fight.model.enabled": ["Learned classifier judges fights", "学习模型判断打架"],
  "fight.model.threshold": ["Classifier score for a fight", "判为打架的模型分数"],
  "wandering.enabled": ["Detect wandering", "检测徘徊"],
  "wandering.events": ["Events reported", "报告的事件"],
  "wandering.zone_grace_s": ["Zone grace time", "区域宽限时间"],
  "wandering.default_dwell_limit_s": ["Default dwell limit", "默认逗留时限"],
  "wandering.default_dwell_zone_types": ["Zone types with the default limit", "适用默认时限的区域类型"],
  "wandering.restricted_confirm_s": ["Restricted zone confirm time", "禁区确认时间"],
  "wandering.pacing_window_s": ["Pacing window", "踱步观察时段"],
  "wandering.pacing_min_reversals": ["Turns needed for pacing", "踱步所需折返次数"],
  "wandering.pacing_min_leg_heights": ["Shortest pacing leg", "最短踱步距离"],
  "wandering.pacing_max_leg_s": ["Longest pacing leg", "最长单程时间"],
  "wandering.pacing_min_path_ratio": ["Path to displacement ratio", "路程与位移之比"],
  "wandering.pacing_min_duration_s": ["Pacing duration to report", "报告所需踱步时长"],
  "wandering.smoothing_s": ["Ground point smoothing", "落脚点平滑"],
  "wandering.night_window_s": ["Night movement window", "夜间活动测量时段"],
  "wandering.night_min_displacement_heights": ["Night movement distance", "夜间活动距离"],
  "wandering.exit_confirm_s": ["Exit zone confirm time", "出口区域确认时间"],
  "wandering.exit_approach_distance_heights": ["Exit approach distance", "靠近出口距离"],
  "wandering.exit_approach_s": ["Exit approach window", "靠近出口测量时段"],
  "wandering.exit_min_approach_heights": ["Exit approach amount", "靠近出口幅度"],
  "wandering.rearm_s": ["Quiet time before another event", "再次报警前的间隔"],
  "wandering.handover_max_gap_s": ["Track handover gap", "轨迹接续间隔"],
  "wandering.handover_max_distance_heights": ["Track handover distance", "轨迹接续距离"],
  "wandering.handover_max_speed_heights_s": ["Walking speed while unseen", "未见期间的步行速度"],
};

const names = { en: {}, zh: {} };
for (const [path, [en, zh]] of Object.entries(NAMES)) {
  names.en[`tun_set_${path}`] = en;
  names.zh[`tun_set_${path}`] = zh;
}
addStrings(names);

addStrings({
  en: {
    nav_tuning: "Tuning", tun_title: "Tuning", tun_camera: "Camera", tun_no_cameras: "No cameras are set up.",
    tun_beh_fall: "Falls", tun_beh_fight: "Fights", tun_beh_wandering: "Wandering",
    tun_settings: "Thresholds", tun_version: "Active version {v}", tun_version_none: "From the configuration file (no version stored yet)",
    tun_range: "{min} to {max}", tun_range_above: "above {min}", tun_default: "default {value}",
    tun_default_off: "default off", tun_empty_off: "empty = off", tun_yes: "yes", tun_no: "no",
    tun_changed: "{n} setting(s) changed", tun_unchanged: "No changes yet",
    tun_reset: "Undo changes", tun_invalid: "Check these values: {names}",
    tun_u_s: "s", tun_u_deg: "°", tun_u_px: "px", tun_u_px_s: "px/s", tun_u_bh: "body heights",
    tun_u_bh_s: "body heights/s", tun_u_per_s: "per s", tun_u_frac: "share of the frame",
    tun_whatif_title: "What if", tun_whatif_text: "Replays the clips of this camera's alerts that staff resolved as real incident or false alarm, with the active thresholds and with your changes. It shows detections that would be lost and false alarms that would go away; it cannot show new alerts elsewhere.",
    tun_whatif: "What if", tun_whatif_running: "Replaying the clips…",
    tun_now: "Now", tun_proposed: "With changes",
    tun_caught: "Real incidents caught", tun_missed: "Real incidents missed",
    tun_false_alarms: "False alarms raised", tun_quiet: "False alarms kept quiet",
    tun_labelled: "{n} labelled alert(s), {r} replayed, {s} skipped",
    tun_no_labelled: "No labelled alerts yet: resolve alerts as real incident or false alarm to score changes.",
    tun_differs: "Alerts that change", tun_fired: "alerts", tun_quiet_short: "quiet",
    tun_skipped: "Skipped", tun_metric: "Result",
    tun_apply_title: "Apply", tun_comment: "Why (shown in the history)",
    tun_comment_hint: "e.g. fewer false alarms at night",
    tun_apply: "Apply as new version", tun_applied: "Version {v} is active.",
    tun_nothing: "Nothing changed.",
    tun_history: "History", tun_col_version: "Version", tun_col_when: "When", tun_col_who: "Who",
    tun_col_comment: "Comment", tun_col_changes: "Changes", tun_active: "active",
    tun_restore: "Restore", tun_restore_label: "Restore version {v}", tun_restored: "Version {v} restored as version {n}.",
    tun_restored_from: "restored from version {v}", tun_history_more: "The {n} newest of {total} versions.",
    tun_zone_added: "added", tun_zone_removed: "removed", tun_default_value: "default",
    tun_zones: "Zones", tun_zones_text: "Click the picture to place the corners of a new zone, or type them as x,y pairs (0 to 1 of the width and height).",
    tun_refresh: "Refresh picture", tun_no_picture: "No picture (camera not running)",
    tun_picture: "Picture of {camera} with its zones; click to add a corner",
    tun_zone_list: "Zones of this camera", tun_no_zones: "No zones yet.",
    tun_zone_delete: "Delete", tun_zone_delete_label: "Delete zone {name}",
    tun_zone_deleted: "Zone {name} deleted (restore the previous version to undo).",
    tun_new_zone: "New zone", tun_zone_name: "Name", tun_zone_type: "Type",
    tun_zone_dwell: "Dwell limit (s, optional)", tun_zone_night_start: "Night from (optional)",
    tun_zone_night_end: "Night until (optional)", tun_zone_points: "Corners (x,y x,y …)",
    tun_zone_undo: "Remove last corner", tun_zone_clear: "Clear corners", tun_zone_save: "Save zone",
    tun_zone_saved: "Zone {name} saved as version {v}.", tun_zone_need_points: "A zone needs at least 3 corners.",
    tun_zone_need_name: "Give the zone a name.", tun_zone_taken: "A zone named {name} exists already.",
    tun_zone_bad_points: "Type corners as x,y pairs between 0 and 1, separated by spaces.",
    tun_zone_night_both: "Give both ends of the night window, or neither.",
    tun_zone_comment_add: "zone {name} added", tun_zone_comment_delete: "zone {name} deleted",
    tun_zone_dwell_short: "dwell {s} s", tun_zone_night_short: "night {start}–{end}",
    tun_zone_corners: "{n} corner(s)",
    tun_zt_mask: "Privacy mask (blacked out)", tun_mask_detect: "Detection still sees this area (e.g. a fall in a bathroom doorway)",
    tun_mask_hidden: "hidden from detection too", tun_mask_seen: "detection sees it",
    tun_mask_delete_label: "Delete mask {name}", tun_mask_taken: "A mask named {name} exists already.",
    tun_mask_saved: "Mask {name} saved as version {v}: blacked out from the next frame.",
    tun_mask_deleted: "Mask {name} deleted (restore the previous version to undo).",
    tun_mask_comment_add: "privacy mask {name} added", tun_mask_comment_delete: "privacy mask {name} deleted",
    tun_masks_text: "Privacy masks (black) hide an area in the live view, snapshots and clips; only admins change them.",
    tun_zt_bed: "Bed", tun_zt_corridor: "Corridor", tun_zt_room: "Room", tun_zt_restricted: "Restricted",
    tun_zt_exit: "Exit", tun_zt_bathroom: "Bathroom", tun_zt_other: "Other",
    tun_kind_fall: "Fall", tun_kind_person_down: "Person down", tun_kind_fight: "Fight",
    tun_kind_loitering: "Loitering", tun_kind_pacing: "Pacing", tun_kind_restricted_entry: "Restricted entry",
    tun_kind_night_movement: "Night movement", tun_kind_exit_approach: "Exit approach",
    tun_disp_real_incident: "real incident", tun_disp_false_alarm: "false alarm",
  },
  zh: {
    nav_tuning: "参数调整", tun_title: "参数调整", tun_camera: "摄像头", tun_no_cameras: "还没有设置摄像头。",
    tun_beh_fall: "跌倒", tun_beh_fight: "打架", tun_beh_wandering: "徘徊",
    tun_settings: "阈值", tun_version: "当前版本 {v}", tun_version_none: "来自配置文件（尚未保存版本）",
    tun_range: "{min} 至 {max}", tun_range_above: "大于 {min}", tun_default: "默认 {value}",
    tun_default_off: "默认关闭", tun_empty_off: "留空 = 关闭", tun_yes: "是", tun_no: "否",
    tun_changed: "已修改 {n} 项", tun_unchanged: "尚未修改",
    tun_reset: "撤销修改", tun_invalid: "请检查这些数值：{names}",
    tun_u_s: "秒", tun_u_deg: "度", tun_u_px: "像素", tun_u_px_s: "像素/秒", tun_u_bh: "倍身高",
    tun_u_bh_s: "倍身高/秒", tun_u_per_s: "每秒", tun_u_frac: "占画面比例",
    tun_whatif_title: "假设检验", tun_whatif_text: "用当前阈值和您修改后的阈值，分别重放本摄像头已被处理为“真实事件”或“误报”的警报视频。它能显示会漏掉的检测和会消除的误报，但无法显示其他时间可能新增的警报。",
    tun_whatif: "假设检验", tun_whatif_running: "正在重放视频…",
    tun_now: "当前", tun_proposed: "修改后",
    tun_caught: "检出的真实事件", tun_missed: "漏掉的真实事件",
    tun_false_alarms: "产生的误报", tun_quiet: "避免的误报",
    tun_labelled: "已标注警报 {n} 条，重放 {r} 条，跳过 {s} 条",
    tun_no_labelled: "还没有已标注的警报：把警报处理为“真实事件”或“误报”后即可评估修改。",
    tun_differs: "结果有变化的警报", tun_fired: "报警", tun_quiet_short: "不报警",
    tun_skipped: "已跳过", tun_metric: "结果",
    tun_apply_title: "应用", tun_comment: "原因（显示在历史记录中）",
    tun_comment_hint: "例如：减少夜间误报",
    tun_apply: "应用为新版本", tun_applied: "版本 {v} 已生效。",
    tun_nothing: "没有任何修改。",
    tun_history: "历史记录", tun_col_version: "版本", tun_col_when: "时间", tun_col_who: "修改人",
    tun_col_comment: "说明", tun_col_changes: "修改内容", tun_active: "生效中",
    tun_restore: "恢复", tun_restore_label: "恢复版本 {v}", tun_restored: "版本 {v} 已恢复为版本 {n}。",
    tun_restored_from: "恢复自版本 {v}", tun_history_more: "显示最新 {n} 个版本，共 {total} 个。",
    tun_zone_added: "新增", tun_zone_removed: "删除", tun_default_value: "默认",
    tun_zones: "区域", tun_zones_text: "点击画面放置新区域的各个角点，或以 x,y 形式输入（占宽度和高度的 0 到 1）。",
    tun_refresh: "刷新画面", tun_no_picture: "无画面（摄像头未运行）",
    tun_picture: "{camera} 的画面及其区域；点击可添加角点",
    tun_zone_list: "本摄像头的区域", tun_no_zones: "还没有区域。",
    tun_zone_delete: "删除", tun_zone_delete_label: "删除区域 {name}",
    tun_zone_deleted: "区域 {name} 已删除（恢复上一个版本即可撤销）。",
    tun_new_zone: "新区域", tun_zone_name: "名称", tun_zone_type: "类型",
    tun_zone_dwell: "逗留时限（秒，可选）", tun_zone_night_start: "夜间开始（可选）",
    tun_zone_night_end: "夜间结束（可选）", tun_zone_points: "角点（x,y x,y …）",
    tun_zone_undo: "删除最后一个角点", tun_zone_clear: "清除角点", tun_zone_save: "保存区域",
    tun_zone_saved: "区域 {name} 已保存为版本 {v}。", tun_zone_need_points: "区域至少需要 3 个角点。",
    tun_zone_need_name: "请为区域命名。", tun_zone_taken: "已有名为 {name} 的区域。",
    tun_zone_bad_points: "请以 x,y 形式输入 0 到 1 之间的角点，用空格分隔。",
    tun_zone_night_both: "夜间时段请同时填写开始和结束，或都不填。",
    tun_zone_comment_add: "新增区域 {name}", tun_zone_comment_delete: "删除区域 {name}",
    tun_zone_dwell_short: "逗留 {s} 秒", tun_zone_night_short: "夜间 {start}–{end}",
    tun_zone_corners: "{n} 个角点",
    tun_zt_mask: "隐私遮挡（涂黑）", tun_mask_detect: "检测仍可看到此区域（例如浴室门口的跌倒）",
    tun_mask_hidden: "检测也看不到", tun_mask_seen: "检测可看到",
    tun_mask_delete_label: "删除遮挡 {name}", tun_mask_taken: "已有名为 {name} 的遮挡。",
    tun_mask_saved: "遮挡 {name} 已保存为版本 {v}：从下一帧起涂黑。",
    tun_mask_deleted: "遮挡 {name} 已删除（恢复上一个版本即可撤销）。",
    tun_mask_comment_add: "新增隐私遮挡 {name}", tun_mask_comment_delete: "删除隐私遮挡 {name}",
    tun_masks_text: "隐私遮挡（黑色）在实时画面、快照和视频中隐藏某个区域；只有管理员可以修改。",
    tun_zt_bed: "床位", tun_zt_corridor: "走廊", tun_zt_room: "房间", tun_zt_restricted: "禁区",
    tun_zt_exit: "出口", tun_zt_bathroom: "卫生间", tun_zt_other: "其他",
    tun_kind_fall: "跌倒", tun_kind_person_down: "倒地", tun_kind_fight: "打架",
    tun_kind_loitering: "徘徊逗留", tun_kind_pacing: "来回踱步", tun_kind_restricted_entry: "进入禁区",
    tun_kind_night_movement: "夜间活动", tun_kind_exit_approach: "靠近出口",
    tun_disp_real_incident: "真实事件", tun_disp_false_alarm: "误报",
  },
});

/** The translation of `prefix_value`, or the value itself for anything new. */
function named(prefix, value) {
  const key = `${prefix}_${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

function unitOf(key) {
  const found = UNITS.find(([suffix]) => key.endsWith(suffix));
  return found ? t(found[1]) : "";
}

const enc = encodeURIComponent;
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const round = (v) => Math.round(v * 1000) / 1000;

/** A setting's schema, whichever way pydantic wrote it: {kind, min, minExclusive, max, ...}. */
function describe(prop) {
  let p = prop;
  let nullable = false;
  if (Array.isArray(prop.anyOf)) {
    const some = prop.anyOf.filter((x) => x.type !== "null");
    nullable = some.length < prop.anyOf.length;
    p = { ...some[0], description: prop.description, default: prop.default };
  }
  const base = { description: p.description || "", default: prop.default, nullable };
  if (p.type === "boolean") return { ...base, kind: "bool" };
  if (p.type === "number" || p.type === "integer") {
    return {
      ...base, kind: "number", integer: p.type === "integer",
      min: p.minimum ?? p.exclusiveMinimum, minExclusive: p.minimum == null && p.exclusiveMinimum != null,
      max: p.maximum ?? p.exclusiveMaximum,
    };
  }
  if (p.type === "array" && Array.isArray(p.items?.enum)) return { ...base, kind: "set", values: p.items.enum };
  return null;
}

/** The settings of each behaviour from GET /api/behaviours/schema. A nested section (a learned
 *  classifier's `model`) shows as dotted keys, `model.threshold`, with the parent's defaults. */
function settingsOf(schema) {
  const root = schema.behaviours;
  const defOf = (prop) => root.$defs?.[(prop?.$ref || prop?.allOf?.[0]?.$ref || "").split("/").pop()];
  const out = {};
  for (const b of BEHAVIOURS) {
    const section = defOf(root.properties?.[b]) || { properties: {} };
    out[b] = Object.entries(section.properties).flatMap(([key, prop]) => {
      const nested = defOf(prop);
      if (!nested) return [{ key, path: `${b}.${key}`, ...describe(prop) }];
      return Object.entries(nested.properties).map(([sub, p]) => ({
        key: `${key}.${sub}`, path: `${b}.${key}.${sub}`,
        ...describe({ ...p, default: prop.default?.[sub] ?? p.default }),
      }));
    }).filter((s) => s.kind);
  }
  return out;
}

/** `obj` at a dotted key (`model.threshold`). */
const at = (obj, key) => key.split(".").reduce((o, k) => o?.[k], obj);

/** `value` put at a dotted key of `obj`, making the sections on the way. */
function putAt(obj, key, value) {
  const parts = key.split(".");
  let o = obj;
  for (const k of parts.slice(0, -1)) o = o[k] ||= {};
  o[parts[parts.length - 1]] = value;
}

function valueText(value, setting) {
  if (value == null) return t("tun_default_off");
  if (typeof value === "boolean") return value ? t("tun_yes") : t("tun_no");
  if (Array.isArray(value)) {
    const prefix = setting?.key === "events" ? "tun_kind" : "tun_zt";
    return value.map((v) => named(prefix, v)).join(", ");
  }
  return String(value);
}

page({
  path: "tuning",
  title: "nav_tuning",
  role: "operator",
  nav: true,
  async render(main, params) {
    const root = el("section", { class: "tuning", "data-testid": "tuning" });
    main.append(root);
    root.append(el("p", { class: "muted" }, t("loading")));

    let cameras, schema;
    try {
      [cameras, schema] = await Promise.all([api("/api/cameras?limit=500"), api("/api/behaviours/schema")]);
    } catch (err) {
      root.replaceChildren(el("p", { class: "error", role: "alert" }, problem(err)));
      return;
    }
    const list = cameras.cameras || [];
    const cameraSelect = el("select", { id: "tun-camera", "data-testid": "tuning-camera", onchange: () => {
      location.hash = `#/tuning?camera=${enc(cameraSelect.value)}`;
    } }, list.map((c) => el("option", { value: c.id }, c.name || c.id)));
    const head = el("div", { class: "tun-head" }, el("h1", {}, t("tun_title")),
      list.length ? el("label", { class: "tun-camera", for: "tun-camera" }, t("tun_camera"), cameraSelect) : null);
    if (!list.length) {
      root.replaceChildren(head, el("p", { class: "muted" }, t("tun_no_cameras")));
      return;
    }
    const camera = list.find((c) => c.id === params.camera) || list[0];
    cameraSelect.value = camera.id;
    const base = `/api/cameras/${enc(camera.id)}`;
    const settings = settingsOf(schema);
    const zoneTypes = schema.zone?.properties?.type?.enum || ZONE_TYPES;

    // ------------------------------------------------------------------ state
    let profile = null; // GET .../profile
    let fields = []; // {setting, behaviour, get(), set(v), input, row}

    const versionNote = el("p", { class: "muted", "data-testid": "active-version" });
    const settingsBox = el("div", { class: "tun-behaviours" });
    const changedNote = el("span", { class: "muted", role: "status", "data-testid": "changed-count" });
    const formError = el("p", { class: "error", role: "alert", "data-testid": "settings-error" });
    const resetBtn = el("button", { type: "button", "data-testid": "reset-settings", onclick: () => {
      fillForm(); updateChanged();
    } }, t("tun_reset"));

    const whatifBtn = el("button", { type: "button", class: "primary", "data-testid": "whatif", onclick: runWhatIf },
      t("tun_whatif"));
    const whatifOut = el("div", { class: "tun-whatif-out", "aria-live": "polite" });
    const comment = el("input", { id: "tun-comment", "data-testid": "apply-comment", maxlength: "500",
      placeholder: t("tun_comment_hint") });
    const applyBtn = el("button", { type: "button", class: "primary", "data-testid": "apply", onclick: apply },
      t("tun_apply"));
    const historyBox = el("div", { "data-testid": "history" });

    let points = []; // the new zone's corners, [x, y] in 0-1
    let picture = null; // a loaded Image, or null
    const canvas = el("canvas", { width: 640, height: 480, class: "tun-canvas", "data-testid": "zone-canvas",
      role: "img", "aria-label": t("tun_picture", { camera: camera.name || camera.id }) });
    const zoneList = el("ul", { class: "tun-zones", "data-testid": "zone-list", "aria-label": t("tun_zone_list") });
    const zoneError = el("p", { class: "error", role: "alert", "data-testid": "zone-error" });
    const zName = el("input", { id: "tun-zone-name", "data-testid": "zone-name", maxlength: "64", autocomplete: "off" });
    const zType = el("select", { id: "tun-zone-type", "data-testid": "zone-type", onchange: () => showKindFields() },
      [...zoneTypes, ...(can("admin") ? [MASK] : [])].map((z) => el("option", { value: z }, named("tun_zt", z))));
    const zDetect = el("input", { id: "tun-mask-detect", "data-testid": "mask-detect", type: "checkbox", checked: true });
    const zDwell = el("input", { id: "tun-zone-dwell", "data-testid": "zone-dwell", type: "number", min: "1",
      max: "86400", step: "any", inputmode: "decimal" });
    const zStart = el("input", { id: "tun-zone-start", "data-testid": "zone-night-start", type: "time" });
    const zEnd = el("input", { id: "tun-zone-end", "data-testid": "zone-night-end", type: "time" });
    const zPoints = el("input", { id: "tun-zone-points", "data-testid": "zone-points", autocomplete: "off",
      spellcheck: "false", placeholder: "0.1,0.5 0.4,0.5 0.4,0.9", oninput: () => {
        const parsed = parsePoints(zPoints.value);
        zoneError.textContent = parsed ? "" : t("tun_zone_bad_points");
        if (parsed) { points = parsed; draw(); }
      } });

    root.replaceChildren(
      head,
      el("div", { class: "tun-grid" },
        el("section", { class: "card tun-settings", "aria-labelledby": "tun-settings-h" },
          el("h2", { id: "tun-settings-h" }, t("tun_settings")), versionNote, settingsBox),
        el("div", { class: "tun-side" },
          el("section", { class: "card", "aria-labelledby": "tun-whatif-h" },
            el("h2", { id: "tun-whatif-h" }, t("tun_whatif_title")),
            el("p", { class: "muted tun-small" }, t("tun_whatif_text")),
            el("div", { class: "row" }, whatifBtn, resetBtn, changedNote), formError, whatifOut),
          el("section", { class: "card", "aria-labelledby": "tun-apply-h" },
            el("h2", { id: "tun-apply-h" }, t("tun_apply_title")),
            el("label", { for: "tun-comment" }, t("tun_comment"), comment),
            el("div", { class: "row" }, applyBtn)))),
      el("section", { class: "card", "aria-labelledby": "tun-history-h" },
        el("h2", { id: "tun-history-h" }, t("tun_history")), historyBox),
      zoneEditor());

    // ------------------------------------------------------------------ the settings form
    function settingRow(b, s) {
      const id = `tun-set-${b}-${s.key.replaceAll(".", "-")}`;
      const descId = `${id}-desc`;
      const testid = `setting-${s.path}`;
      const unit = unitOf(s.key);
      const name = named("tun_set", s.path) === s.path ? s.key : named("tun_set", s.path);
      const bits = [];
      if (s.kind === "number") {
        if (s.min != null && s.max != null && !s.minExclusive) bits.push(t("tun_range", { min: s.min, max: s.max }));
        else if (s.min != null) bits.push(t("tun_range_above", { min: s.min }) + (s.max != null ? `, ≤ ${s.max}` : ""));
        if (s.nullable) bits.push(t("tun_empty_off"));
      }
      bits.push(s.default == null ? t("tun_default_off") : t("tun_default", { value: valueText(s.default, s) }));
      const help = el("small", { class: "tun-help", id: descId },
        el("span", { lang: "en" }, s.description), " ", el("span", { class: "tun-range" }, `(${bits.join("; ")})`));
      let get, set, control;
      if (s.kind === "bool") {
        const input = el("input", { type: "checkbox", id, "data-testid": testid, "aria-describedby": descId });
        get = () => input.checked;
        set = (v) => { input.checked = Boolean(v); };
        control = el("label", { class: "tun-check", for: id }, input, el("span", {}, name));
        input.addEventListener("change", updateChanged);
        const row = el("div", { class: "tun-setting tun-bool" }, control, help);
        return { setting: s, behaviour: b, get, set, input, row, name };
      }
      if (s.kind === "set") {
        const boxes = s.values.map((v) => el("input", { type: "checkbox", value: v,
          "data-testid": `${testid}.${v}`, onchange: updateChanged }));
        get = () => boxes.filter((x) => x.checked).map((x) => x.value);
        set = (v) => { for (const x of boxes) x.checked = (v || []).includes(x.value); };
        control = el("fieldset", { class: "tun-set", "data-testid": testid, "aria-describedby": descId },
          el("legend", {}, name),
          boxes.map((x) => el("label", { class: "tun-check" }, x,
            el("span", {}, named(s.key === "events" ? "tun_kind" : "tun_zt", x.value)))));
        const row = el("div", { class: "tun-setting" }, control, help);
        return { setting: s, behaviour: b, get, set, input: boxes[0], row, name };
      }
      const input = el("input", { type: "number", id, "data-testid": testid, "aria-describedby": descId,
        inputmode: "decimal", step: s.integer ? "1" : "any", min: s.minExclusive ? null : s.min, max: s.max,
        required: !s.nullable, oninput: updateChanged });
      get = () => (input.value.trim() === "" ? null : Number(input.value));
      set = (v) => { input.value = v == null ? "" : String(v); };
      const valid = () => {
        const v = get();
        if (v == null) return s.nullable;
        if (!Number.isFinite(v) || (s.integer && !Number.isInteger(v))) return false;
        if (s.min != null && (s.minExclusive ? v <= s.min : v < s.min)) return false;
        return !(s.max != null && v > s.max);
      };
      control = el("label", { for: id, class: "tun-number" },
        el("span", { class: "tun-name" }, name, unit ? el("span", { class: "tun-unit" }, ` (${unit})`) : null), input);
      const row = el("div", { class: "tun-setting" }, control, help);
      return { setting: s, behaviour: b, get, set, input, row, name, valid };
    }

    function buildForm() {
      fields = [];
      settingsBox.replaceChildren();
      for (const b of BEHAVIOURS) {
        const rows = settings[b].map((s) => settingRow(b, s));
        fields.push(...rows);
        const count = el("span", { class: "badge tun-count", "data-testid": `changed-${b}` });
        const section = el("details", { class: "tun-behaviour", "data-testid": `behaviour-${b}`, open: b === "fall" },
          el("summary", {}, el("span", {}, t(`tun_beh_${b}`)), count),
          el("div", { class: "tun-rows" }, rows.map((f) => f.row)));
        section.count = count;
        settingsBox.append(section);
      }
    }

    const current = (f) => at(profile?.document?.behaviours?.[f.behaviour], f.setting.key);

    function fillForm() {
      for (const f of fields) f.set(current(f));
    }

    /** The changed settings as a partial `behaviours` section. */
    function changes() {
      const out = {};
      for (const f of fields) {
        const value = f.get();
        const was = current(f);
        const changed = Array.isArray(value) ? !same([...value].sort(), [...(was || [])].sort()) : !same(value, was);
        f.row.classList.toggle("changed", changed);
        if (changed) putAt((out[f.behaviour] ||= {}), f.setting.key, value);
      }
      return out;
    }

    function updateChanged() {
      const diff = changes();
      const n = Object.values(diff).reduce((sum, b) => sum + Object.keys(b).length, 0);
      changedNote.textContent = n ? t("tun_changed", { n }) : t("tun_unchanged");
      for (const section of settingsBox.children) {
        const b = section.dataset.testid.replace("behaviour-", "");
        const k = Object.keys(diff[b] || {}).length;
        section.count.textContent = k ? String(k) : "";
        section.count.hidden = !k;
      }
      formError.textContent = "";
      return diff;
    }

    /** The changes, or null (with the wrong fields named) when a value is out of bounds. */
    function checkedChanges() {
      const bad = fields.filter((f) => f.valid && !f.valid());
      if (bad.length) {
        formError.textContent = t("tun_invalid", { names: bad.map((f) => `${t(`tun_beh_${f.behaviour}`)}: ${f.name}`).join(", ") });
        const details = bad[0].row.closest("details");
        if (details) details.open = true;
        bad[0].input.focus();
        return null;
      }
      return updateChanged();
    }

    // ------------------------------------------------------------------ what if, apply, history
    function scoreTable(result) {
      const metrics = [["caught", "tun_caught"], ["missed", "tun_missed"], ["false_alarms", "tun_false_alarms"],
        ["quiet_on_false", "tun_quiet"]];
      return el("div", { class: "tun-table-wrap" }, el("table", { class: "tun-score" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("tun_metric")),
          el("th", { scope: "col" }, t("tun_now")), el("th", { scope: "col" }, t("tun_proposed")))),
        el("tbody", {}, metrics.map(([key, label]) => {
          const before = result.before[key];
          const after = result.after[key];
          const better = key === "caught" || key === "quiet_on_false" ? after > before : after < before;
          const worse = before !== after && !better;
          return el("tr", { class: better ? "better" : worse ? "worse" : null },
            el("th", { scope: "row" }, t(label)),
            el("td", { "data-testid": `whatif-${key}-before` }, String(before)),
            el("td", { "data-testid": `whatif-${key}-after` }, String(after)));
        }))));
    }

    function showResult(result) {
      const parts = [el("p", { "data-testid": "whatif-labelled" },
        t("tun_labelled", { n: result.labelled, r: result.replayed, s: result.skipped.length }))];
      if (!result.labelled) parts.push(el("p", { class: "muted" }, t("tun_no_labelled")));
      parts.push(scoreTable(result));
      const differs = result.alerts.filter((a) => a.fired_before !== a.fired_after);
      const verdict = (fired) => (fired ? t("tun_fired") : t("tun_quiet_short"));
      if (differs.length) {
        parts.push(el("h3", {}, t("tun_differs")), el("ul", { class: "tun-differs" }, differs.map((a) =>
          el("li", {}, el("a", { href: `#/incidents?id=${enc(a.id)}` }, `${named("tun_kind", a.kind)}, ${when(a.detected_at)}`),
            ` (${named("tun_disp", a.disposition)}): ${verdict(a.fired_before)} → ${verdict(a.fired_after)}`))));
      }
      if (result.skipped.length) {
        parts.push(el("details", {}, el("summary", {}, `${t("tun_skipped")} (${result.skipped.length})`),
          el("ul", {}, result.skipped.map((s) => el("li", {}, el("span", { class: "tun-mono" }, s.id), `: `,
            el("span", { lang: "en" }, s.reason))))));
      }
      whatifOut.replaceChildren(el("div", { "data-testid": "whatif-result" }, parts));
    }

    async function runWhatIf() {
      const diff = checkedChanges();
      if (!diff) return;
      whatifBtn.disabled = true;
      whatifOut.replaceChildren(el("p", { class: "muted" }, t("tun_whatif_running")));
      try {
        showResult(await api(`${base}/whatif`, { method: "POST", body: { behaviours: diff } }));
      } catch (err) {
        whatifOut.replaceChildren(el("p", { class: "error", role: "alert" }, problem(err)));
      } finally {
        whatifBtn.disabled = false;
      }
    }

    async function apply() {
      const diff = checkedChanges();
      if (!diff) return;
      if (!Object.keys(diff).length) { toast(t("tun_nothing")); return; }
      applyBtn.disabled = true;
      try {
        const saved = await api(`${base}/profiles`, { method: "POST",
          body: { behaviours: diff, comment: comment.value.trim() } });
        toast(saved.version ? t("tun_applied", { v: saved.version }) : t("tun_nothing"));
        comment.value = "";
        whatifOut.replaceChildren();
        await load();
      } catch (err) {
        formError.textContent = problem(err);
      } finally {
        applyBtn.disabled = false;
      }
    }

    async function restore(version) {
      try {
        const saved = await api(`${base}/profiles/${version}/restore`, { method: "POST", body: {} });
        toast(t("tun_restored", { v: version, n: saved.version }));
        whatifOut.replaceChildren();
        await load();
      } catch (err) {
        toast(problem(err));
      }
    }

    function changeText(c) {
      const path = c.path.replace(/^behaviours\./, "");
      if (/^(zones|masks)\[/.test(path) && (c.old == null || c.new == null)) {
        return `${path}: ${c.new == null ? t("tun_zone_removed") : t("tun_zone_added")}`;
      }
      const show = (v) => (v == null ? t("tun_default_value") : typeof v === "object" ? JSON.stringify(v) : String(v));
      return `${path}: ${show(c.old)} → ${show(c.new)}`;
    }

    function showHistory(data) {
      if (!data.profiles.length) { historyBox.replaceChildren(el("p", { class: "muted" }, t("none"))); return; }
      const rows = data.profiles.map((p) => el("tr", { "data-testid": `version-${p.version}`, class: p.active ? "active" : null },
        el("td", {}, String(p.version), p.active ? el("span", { class: "badge tun-active" }, t("tun_active")) : null),
        el("td", {}, when(p.created_at)),
        el("td", {}, p.created_by || ""),
        el("td", {}, p.comment || "", p.restored_from ? el("small", { class: "muted tun-block" },
          t("tun_restored_from", { v: p.restored_from })) : null),
        el("td", {}, el("ul", { class: "tun-changes" }, p.changes.map((c) => el("li", { class: "tun-mono" }, changeText(c))))),
        el("td", {}, p.active ? null : el("button", { type: "button", "data-testid": `restore-${p.version}`,
          "aria-label": t("tun_restore_label", { v: p.version }), onclick: () => restore(p.version) }, t("tun_restore")))));
      historyBox.replaceChildren(
        el("div", { class: "tun-table-wrap", role: "region", tabindex: "0", "aria-label": t("tun_history") },
          el("table", { class: "tun-history" },
            el("thead", {}, el("tr", {}, ["tun_col_version", "tun_col_when", "tun_col_who", "tun_col_comment",
              "tun_col_changes"].map((k) => el("th", { scope: "col" }, t(k))), el("th", {}, el("span", { class: "sr" }, t("tun_restore"))))),
            el("tbody", {}, rows))),
        el("p", { class: "muted tun-small", hidden: data.total <= data.profiles.length },
          t("tun_history_more", { n: data.profiles.length, total: data.total })));
    }

    // ------------------------------------------------------------------ zones
    function zoneEditor() {
      canvas.addEventListener("click", (e) => {
        const r = canvas.getBoundingClientRect();
        const x = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
        const y = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
        points.push([round(x), round(y)]);
        zPoints.value = pointsText(points);
        zoneError.textContent = "";
        draw();
      });
      const field = (id, label, input) => el("label", { for: id }, label, input);
      return el("section", { class: "card tun-zone-editor", "data-testid": "zone-editor", "aria-labelledby": "tun-zones-h" },
        el("h2", { id: "tun-zones-h" }, t("tun_zones")),
        el("p", { class: "muted tun-small" }, t("tun_zones_text")),
        el("p", { class: "muted tun-small" }, t("tun_masks_text")),
        el("div", { class: "tun-zone-grid" },
          el("div", { class: "tun-stage" }, canvas,
            el("div", { class: "row" }, el("button", { type: "button", "data-testid": "zone-refresh", onclick: loadPicture },
              t("tun_refresh")))),
          el("div", { class: "tun-zone-side" },
            el("h3", {}, t("tun_zone_list")), zoneList,
            el("form", { class: "tun-zone-form", "data-testid": "zone-form", "aria-label": t("tun_new_zone"),
              onsubmit: (e) => { e.preventDefault(); saveZone(); } },
              el("h3", {}, t("tun_new_zone")),
              field("tun-zone-name", t("tun_zone_name"), zName),
              field("tun-zone-type", t("tun_zone_type"), zType),
              el("div", { class: "tun-zone-only" }, field("tun-zone-dwell", t("tun_zone_dwell"), zDwell),
                el("div", { class: "tun-pair" }, field("tun-zone-start", t("tun_zone_night_start"), zStart),
                  field("tun-zone-end", t("tun_zone_night_end"), zEnd))),
              el("label", { class: "tun-check tun-mask-only", for: "tun-mask-detect", hidden: true }, zDetect,
                el("span", {}, t("tun_mask_detect"))),
              field("tun-zone-points", t("tun_zone_points"), zPoints),
              el("div", { class: "row" },
                el("button", { type: "button", "data-testid": "zone-undo", onclick: () => {
                  points.pop(); zPoints.value = pointsText(points); draw();
                } }, t("tun_zone_undo")),
                el("button", { type: "button", "data-testid": "zone-clear", onclick: () => {
                  points = []; zPoints.value = ""; draw();
                } }, t("tun_zone_clear")),
                el("button", { type: "submit", class: "primary", "data-testid": "save-zone" }, t("tun_zone_save"))),
              zoneError))));
    }

    const pointsText = (list) => list.map(([x, y]) => `${x},${y}`).join(" ");

    function parsePoints(text) {
      const out = [];
      for (const pair of text.trim().split(/\s+/).filter(Boolean)) {
        const m = pair.match(/^(-?[\d.]+),(-?[\d.]+)$/);
        if (!m) return null;
        const [x, y] = [Number(m[1]), Number(m[2])];
        if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return null;
        out.push([x, y]);
      }
      return out;
    }

    const zones = () => profile?.document?.zones || [];
    const masks = () => profile?.document?.masks || [];

    function showKindFields() {
      const mask = zType.value === MASK;
      for (const x of root.querySelectorAll(".tun-zone-only")) x.hidden = mask;
      for (const x of root.querySelectorAll(".tun-mask-only")) x.hidden = !mask;
    }

    function tracePolygon(ctx, polygon, W, H) {
      ctx.beginPath();
      polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x * W, y * H) : ctx.moveTo(x * W, y * H)));
      ctx.closePath();
    }

    function drawLabel(ctx, label, polygon, W, H, font, colour) {
      const cx = polygon.reduce((s, p) => s + p[0], 0) / polygon.length * W;
      const cy = polygon.reduce((s, p) => s + p[1], 0) / polygon.length * H;
      ctx.font = `${font}px system-ui, "Noto Sans CJK SC", sans-serif`;
      const w = ctx.measureText(label).width;
      const lx = Math.min(Math.max(cx - w / 2, 2), W - w - 6);
      ctx.fillStyle = "rgba(15,18,22,.75)";
      ctx.fillRect(lx - 4, cy - font, w + 8, font * 1.4);
      ctx.fillStyle = colour;
      ctx.fillText(label, lx, cy);
    }

    function draw() {
      const ctx = canvas.getContext("2d");
      const W = canvas.width;
      const H = canvas.height;
      ctx.clearRect(0, 0, W, H);
      if (picture) ctx.drawImage(picture, 0, 0, W, H);
      else {
        ctx.fillStyle = "#202733";
        ctx.fillRect(0, 0, W, H);
        ctx.fillStyle = "#a7b1bd";
        ctx.font = `${Math.round(W / 32)}px system-ui, sans-serif`;
        ctx.textAlign = "center";
        ctx.fillText(t("tun_no_picture"), W / 2, H / 2);
        ctx.textAlign = "start";
      }
      const line = Math.max(2, W / 320);
      const font = Math.max(12, Math.round(W / 40));
      for (const m of masks()) {
        tracePolygon(ctx, m.polygon, W, H);
        ctx.fillStyle = "#000";
        ctx.fill();
        ctx.lineWidth = line;
        ctx.strokeStyle = "#e8edf2";
        ctx.setLineDash([line * 3, line * 3]);
        ctx.stroke();
        ctx.setLineDash([]);
        drawLabel(ctx, `${m.name} · ${t("tun_zt_mask")}`, m.polygon, W, H, font, "#e8edf2");
      }
      for (const z of zones()) {
        const colour = ZONE_COLOURS[z.type] || "#e8edf2";
        tracePolygon(ctx, z.polygon, W, H);
        ctx.globalAlpha = 0.22;
        ctx.fillStyle = colour;
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.lineWidth = line;
        ctx.strokeStyle = colour;
        ctx.stroke();
        drawLabel(ctx, `${z.name} · ${named("tun_zt", z.type)}`, z.polygon, W, H, font, colour);
      }
      if (points.length) {
        ctx.strokeStyle = "#ffd84d";
        ctx.fillStyle = "#ffd84d";
        ctx.lineWidth = line;
        ctx.setLineDash([line * 4, line * 3]);
        ctx.beginPath();
        points.forEach(([x, y], i) => (i ? ctx.lineTo(x * W, y * H) : ctx.moveTo(x * W, y * H)));
        if (points.length > 2) ctx.closePath();
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = `${font}px system-ui, sans-serif`;
        points.forEach(([x, y], i) => {
          ctx.beginPath();
          ctx.arc(x * W, y * H, line * 3, 0, Math.PI * 2);
          ctx.fill();
          ctx.fillText(String(i + 1), x * W + line * 4, y * H - line * 4);
        });
      }
    }

    function loadPicture() {
      const img = new Image();
      img.onload = () => {
        picture = img;
        const scale = Math.min(1, 1280 / img.naturalWidth);
        canvas.width = Math.round(img.naturalWidth * scale);
        canvas.height = Math.round(img.naturalHeight * scale);
        canvas.dataset.picture = "loaded";
        draw();
      };
      img.onerror = () => { picture = null; canvas.dataset.picture = "none"; draw(); };
      img.src = `${base}/snapshot.jpg?overlay=0&t=${Date.now()}`;
    }

    function showZones() {
      const list = zones();
      const maskItems = masks().map((m) => el("li", { "data-testid": `mask-${m.name}` },
        el("span", { class: "tun-swatch tun-swatch-mask", "aria-hidden": "true" }),
        el("span", { class: "tun-zone-name" }, m.name),
        el("span", { class: "muted" }, [t("tun_zt_mask"), t("tun_zone_corners", { n: m.polygon.length }),
          m.detect ? t("tun_mask_seen") : t("tun_mask_hidden")].join(" · ")),
        can("admin") ? el("button", { type: "button", class: "danger", "data-testid": `delete-mask-${m.name}`,
          "aria-label": t("tun_mask_delete_label", { name: m.name }), onclick: () => deleteMask(m.name) },
          t("tun_zone_delete")) : null));
      zoneList.replaceChildren(...maskItems, ...(list.length ? list.map((z) => el("li", { "data-testid": `zone-${z.name}` },
        el("span", { class: "tun-swatch", style: `background:${ZONE_COLOURS[z.type] || "#e8edf2"}`, "aria-hidden": "true" }),
        el("span", { class: "tun-zone-name" }, z.name),
        el("span", { class: "muted" }, [named("tun_zt", z.type), t("tun_zone_corners", { n: z.polygon.length }),
          z.dwell_limit_s != null ? t("tun_zone_dwell_short", { s: z.dwell_limit_s }) : null,
          ...(z.night || []).map((w) => t("tun_zone_night_short", w))].filter(Boolean).join(" · ")),
        el("button", { type: "button", class: "danger", "data-testid": `delete-zone-${z.name}`,
          "aria-label": t("tun_zone_delete_label", { name: z.name }), onclick: () => deleteZone(z.name) },
          t("tun_zone_delete")))) : [el("li", { class: "muted" }, t("tun_no_zones"))]));
      draw();
    }

    async function putZones(list, message) {
      return api(`${base}/zones`, { method: "PUT", body: { zones: list, comment: message } });
    }

    async function saveMask(name, parsed) {
      if (masks().some((m) => m.name === name)) { zoneError.textContent = t("tun_mask_taken", { name }); zName.focus(); return; }
      try {
        const saved = await api(`${base}/masks`, { method: "PUT", body: {
          masks: [...masks(), { name, polygon: parsed, detect: zDetect.checked }],
          comment: t("tun_mask_comment_add", { name }) } });
        toast(t("tun_mask_saved", { name, v: saved.version }));
        points = [];
        for (const input of [zName, zPoints]) input.value = "";
        await load();
        loadPicture();
      } catch (err) {
        zoneError.textContent = problem(err);
      }
    }

    async function deleteMask(name) {
      zoneError.textContent = "";
      try {
        await api(`${base}/masks`, { method: "PUT", body: { masks: masks().filter((m) => m.name !== name),
          comment: t("tun_mask_comment_delete", { name }) } });
        toast(t("tun_mask_deleted", { name }));
        await load();
        loadPicture();
      } catch (err) {
        zoneError.textContent = problem(err);
      }
    }

    async function saveZone() {
      zoneError.textContent = "";
      const name = zName.value.trim();
      const parsed = parsePoints(zPoints.value);
      if (!name) { zoneError.textContent = t("tun_zone_need_name"); zName.focus(); return; }
      if (zType.value === MASK) {
        if (!parsed) { zoneError.textContent = t("tun_zone_bad_points"); zPoints.focus(); return; }
        if (parsed.length < 3) { zoneError.textContent = t("tun_zone_need_points"); zPoints.focus(); return; }
        await saveMask(name, parsed);
        return;
      }
      if (zones().some((z) => z.name === name)) { zoneError.textContent = t("tun_zone_taken", { name }); zName.focus(); return; }
      if (!parsed) { zoneError.textContent = t("tun_zone_bad_points"); zPoints.focus(); return; }
      if (parsed.length < 3) { zoneError.textContent = t("tun_zone_need_points"); zPoints.focus(); return; }
      if (Boolean(zStart.value) !== Boolean(zEnd.value)) { zoneError.textContent = t("tun_zone_night_both"); return; }
      const zone = { name, type: zType.value, polygon: parsed };
      if (zDwell.value.trim() !== "") zone.dwell_limit_s = Number(zDwell.value);
      if (zStart.value) zone.night = [{ start: zStart.value, end: zEnd.value }];
      try {
        const saved = await putZones([...zones(), zone], t("tun_zone_comment_add", { name }));
        toast(t("tun_zone_saved", { name, v: saved.version }));
        points = [];
        for (const input of [zName, zDwell, zStart, zEnd, zPoints]) input.value = "";
        await load();
      } catch (err) {
        zoneError.textContent = problem(err);
      }
    }

    async function deleteZone(name) {
      zoneError.textContent = "";
      try {
        await putZones(zones().filter((z) => z.name !== name), t("tun_zone_comment_delete", { name }));
        toast(t("tun_zone_deleted", { name }));
        await load();
      } catch (err) {
        zoneError.textContent = problem(err);
      }
    }

    // ------------------------------------------------------------------ loading
    async function load() {
      const [active, history] = await Promise.all([api(`${base}/profile`),
        api(`${base}/profiles?limit=${HISTORY_LIMIT}`)]);
      profile = active;
      versionNote.textContent = active.version ? t("tun_version", { v: active.version }) : t("tun_version_none");
      fillForm();
      updateChanged();
      showHistory(history);
      showZones();
    }

    buildForm();
    try {
      await load();
    } catch (err) {
      formError.textContent = problem(err);
    }
    loadPicture();
  },
});
