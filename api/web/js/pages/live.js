// The live wall: every camera's analysed picture as MJPEG (boxes, track ids and skeletons drawn
// unless the overlay is off); a tile opens larger on click or Enter, Escape closes it.
import { addStrings, api, el, page, problem, t } from "../core.js";
import { cameraStateName } from "./alerts.js";

addStrings({
  en: {
    nav_live: "Live", live_title: "Live cameras", overlay_toggle: "Show boxes, track ids and skeletons",
    enlarge: "Enlarge {name}", close: "Close", no_picture: "No picture yet — retrying",
    live_alt: "Live picture of {name}", live_none: "No cameras are set up.",
    live_disabled: "Camera disabled",
  },
  zh: {
    nav_live: "实时画面", live_title: "实时摄像头", overlay_toggle: "显示人框、编号和骨架",
    enlarge: "放大 {name}", close: "关闭", no_picture: "暂无画面，正在重试",
    live_alt: "{name} 的实时画面", live_none: "还没有设置摄像头。", live_disabled: "摄像头已停用",
  },
});

/** At most this many MJPEG streams at once: a browser opens only six HTTP/1.1 connections per
 *  host, and the console's own API calls need some. Further tiles refresh a snapshot each second. */
const MAX_STREAMS = 4;
const SNAPSHOT_EVERY_MS = 1000;
const REFRESH_EVERY_MS = 10_000;
const OVERLAY_KEY = "carewatch.live.overlay";

page({
  path: "live",
  title: "nav_live",
  role: "guard",
  nav: true,
  render(main) {
    let overlay = localStorage.getItem(OVERLAY_KEY) !== "0";
    let closed = false;
    const tiles = new Map(); // camera id -> {camera, tile, img, status, mode, timer}
    const timers = new Set();
    let enlargedId = null;

    const toggle = el("input", { type: "checkbox", id: "overlay-toggle", "data-testid": "overlay-toggle",
      checked: overlay });
    const wall = el("div", { class: "live-wall", "data-testid": "live-wall" });
    const message = el("p", { class: "muted", role: "status" });
    const bigImg = el("img", { class: "enlarged-img", alt: "" });
    const bigTitle = el("h2", { id: "enlarged-title" });
    const closeBtn = el("button", { type: "button", "data-testid": "close-enlarged" }, t("close"));
    const dialog = el("dialog", { class: "enlarged", "data-testid": "enlarged", "aria-labelledby": "enlarged-title" },
      el("div", { class: "enlarged-head" }, bigTitle, el("span", { class: "spacer" }), closeBtn), bigImg);

    main.append(el("section", { class: "cw live", "data-testid": "live" },
      el("div", { class: "console-bar" }, el("h1", {}, t("live_title")), el("span", { class: "spacer" }),
        el("label", { class: "check", for: "overlay-toggle" }, toggle, t("overlay_toggle"))),
      message, wall, dialog));

    const streamUrl = (id) => `/api/cameras/${encodeURIComponent(id)}/stream.mjpg?overlay=${overlay ? 1 : 0}`;
    const snapUrl = (id) => `/api/cameras/${encodeURIComponent(id)}/snapshot.jpg?overlay=${overlay ? 1 : 0}&t=${Date.now()}`;

    function later(fn, ms) {
      const id = setTimeout(() => { timers.delete(id); if (!closed) fn(); }, ms);
      timers.add(id);
      return id;
    }

    function stop(entry) {
      clearTimeout(entry.timer);
      entry.img.onload = entry.img.onerror = null;
      entry.img.src = "";
      entry.img.removeAttribute("src");
    }

    /** (Re)start one tile's picture: its stream, or a snapshot refreshed every second. */
    function play(entry) {
      stop(entry);
      const { camera, img, status } = entry;
      if (!camera.enabled) { status.textContent = t("live_disabled"); status.hidden = false; return; }
      if (enlargedId === camera.id) return; // the enlarged view streams it meanwhile
      img.onerror = () => {
        status.textContent = t("no_picture");
        status.hidden = false;
        entry.timer = later(() => play(entry), 3000);
      };
      if (entry.mode === "stream") {
        img.onload = () => { status.hidden = true; };
        img.src = streamUrl(camera.id);
      } else {
        img.onload = () => {
          status.hidden = true;
          entry.timer = later(() => { img.src = snapUrl(camera.id); }, SNAPSHOT_EVERY_MS);
        };
        img.src = snapUrl(camera.id);
      }
    }

    function tileFor(camera, index) {
      const img = el("img", { alt: t("live_alt", { name: camera.name }), "data-testid": "live-img" });
      const status = el("span", { class: "tile-status", hidden: true });
      const state = el("span", { class: "tile-state", "data-testid": "tile-state" });
      const tile = el("button", { type: "button", class: "live-tile", "data-testid": "live-tile",
        "data-camera": camera.id, "aria-label": t("enlarge", { name: camera.name }) },
      el("span", { class: "tile-frame" }, img, status),
      el("span", { class: "tile-caption" }, el("strong", {}, camera.name), state));
      tile.addEventListener("click", () => enlarge(camera.id));
      const entry = { camera, tile, img, status, state, timer: null,
        mode: index < MAX_STREAMS ? "stream" : "snapshot" };
      describe(entry);
      return entry;
    }

    function describe(entry) {
      const h = entry.camera.health;
      const st = !entry.camera.enabled ? "disabled" : h?.state || "unknown";
      entry.state.textContent = ` · ${cameraStateName(st)}`;
      entry.tile.dataset.state = st;
    }

    function enlarge(id) {
      const entry = tiles.get(id);
      if (!entry) return;
      enlargedId = id;
      stop(entry); // one stream per camera at a time
      bigTitle.textContent = entry.camera.name;
      bigImg.alt = t("live_alt", { name: entry.camera.name });
      bigImg.src = streamUrl(id);
      if (!dialog.open) dialog.showModal();
      closeBtn.focus();
    }

    function shrink() {
      if (dialog.open) dialog.close();
    }

    dialog.addEventListener("close", () => {
      bigImg.src = "";
      bigImg.removeAttribute("src");
      const id = enlargedId;
      enlargedId = null;
      const entry = tiles.get(id);
      if (entry && !closed) { play(entry); entry.tile.focus(); }
    });
    dialog.addEventListener("click", (e) => { if (e.target === dialog) shrink(); }); // the backdrop
    closeBtn.addEventListener("click", shrink);

    toggle.addEventListener("change", () => {
      overlay = toggle.checked;
      localStorage.setItem(OVERLAY_KEY, overlay ? "1" : "0");
      for (const entry of tiles.values()) play(entry);
      if (enlargedId) bigImg.src = streamUrl(enlargedId);
    });

    async function load() {
      let data;
      try {
        data = await api("/api/cameras?limit=200&sort=name");
      } catch (err) {
        message.textContent = problem(err);
        return;
      }
      if (closed) return;
      message.textContent = data.cameras.length ? "" : t("live_none");
      const seen = new Set();
      data.cameras.forEach((camera, i) => {
        seen.add(camera.id);
        const old = tiles.get(camera.id);
        if (old) {
          const restarted = old.camera.updated_at !== camera.updated_at || old.camera.enabled !== camera.enabled;
          old.camera = camera;
          describe(old);
          // A changed camera restarts its worker; the old stream would stay on its last frame.
          if (restarted) play(old);
          return;
        }
        const entry = tileFor(camera, i);
        tiles.set(camera.id, entry);
        wall.append(entry.tile);
        play(entry);
      });
      for (const [id, entry] of tiles) {
        if (!seen.has(id)) { stop(entry); entry.tile.remove(); tiles.delete(id); }
      }
    }

    load();
    const refresh = setInterval(load, REFRESH_EVERY_MS);

    return () => {
      closed = true;
      clearInterval(refresh);
      for (const id of timers) clearTimeout(id);
      for (const entry of tiles.values()) stop(entry);
      bigImg.src = "";
      bigImg.removeAttribute("src");
      if (dialog.open) dialog.close();
    };
  },
});
