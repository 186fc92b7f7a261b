// Watches for new alerts while a guard is on another page (live wall, incidents, records...):
// a banner with a link back to the console and a short beep, so nothing is missed away from
// the console (which has the full alarm itself).
import { addStrings, api, el, session, t } from "./core.js";

addStrings({
  en: { watch_new: "New alert: {kind} on {camera}", watch_open: "Open the console" },
  zh: { watch_new: "新告警：{camera} {kind}", watch_open: "打开值班台" },
});

let seen = null;

function beep() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    const ctx = new Ctx();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.3);
    osc.onended = () => ctx.close();
  } catch { /* audio blocked until the user interacts: the banner still shows */ }
}

async function check() {
  const onConsole = (location.hash.replace(/^#\/?/, "").split("?")[0] || "alerts") === "alerts";
  if (!session.user || onConsole) { seen = null; return; }
  let data;
  try { data = await api("/api/alerts?state=new&limit=20"); } catch { return; }
  const ids = new Set(data.alerts.map((a) => a.id));
  if (seen === null) { seen = ids; return; }  // what was already new when the page opened
  const fresh = data.alerts.filter((a) => !seen.has(a.id));
  seen = ids;
  if (!fresh.length) return;
  const a = fresh[0];
  const kind = t(`kind_${a.kind}`) === `kind_${a.kind}` ? a.kind : t(`kind_${a.kind}`);
  const banner = el("div", { class: "watch-banner", role: "alert", "data-testid": "watch-banner" },
    t("watch_new", { kind, camera: a.camera_id }), " ",
    el("a", { href: "#/alerts", "data-testid": "watch-open" }, t("watch_open")));
  document.querySelector(".watch-banner")?.remove();
  document.body.prepend(banner);
  beep();
}

export function watch() {
  setInterval(check, 4000);
  window.addEventListener("hashchange", () => { document.querySelector(".watch-banner")?.remove(); seen = null; });
}
