// (in progress)
import { page } from "../core.js";
