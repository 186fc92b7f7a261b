// Loads every page module (each registers itself), then starts the console.
import { start } from "./core.js";
import { watch } from "./watch.js";
import "./pages/login.js";
import "./pages/alerts.js";
import "./pages/live.js";
import "./pages/incidents.js";
import "./pages/tuning.js";
import "./pages/records.js";
import "./pages/audit.js";

start();
watch();
