/* The index status in the header, from GET /api/health. */

import { ApiError, fetchJSON, SMALL_TIMEOUT_MS } from "./api.js";
import { $ } from "./dom.js";
import { renderSourceOptions } from "./filters.js";
import { state } from "./state.js";
import { formatDateTime, isoDate, plural, str } from "./text.js";

export function loadHealth() {
  var textEl = $("index-status-text");
  var status = $("index-status");
  var recheck = $("index-recheck");
  status.classList.remove("status-bad", "status-ok");
  textEl.textContent = "Checking the index…";
  recheck.hidden = true;
  return fetchJSON("/api/health", { method: "GET" }, SMALL_TIMEOUT_MS).then(function (body) {
    var idx = body && body.index;
    if (!idx || typeof idx !== "object") throw new ApiError("parse", "The server did not describe its index.");
    state.health = idx;
    renderSourceOptions(idx.sources);
    var parts = [];
    var releases = Number(idx.releases);
    parts.push(isFinite(releases) ? plural(releases, "release", "releases") : "index ready");
    var from = isoDate(idx.date_from), to = isoDate(idx.date_to);
    if (from && to) parts.push(from === to ? from : from + " to " + to);
    else if (from || to) parts.push(from || to);
    if (idx.built_at) parts.push("index built " + formatDateTime(idx.built_at));
    textEl.textContent = parts.join(" · ");
    var details = [];
    if (idx.chunks !== undefined) details.push(plural(Number(idx.chunks), "passage", "passages"));
    if (idx.model) details.push("model " + str(idx.model));
    if (idx.build_id) details.push("build " + str(idx.build_id));
    if (idx.built_at) details.push("built " + str(idx.built_at));
    status.title = details.join(", ");
    status.classList.add("status-ok");
  }).catch(function (err) {
    state.health = null;
    status.classList.add("status-bad");
    status.removeAttribute("title");
    textEl.textContent = "Index unavailable: " + (err && err.message ? err.message : "unknown problem.");
    recheck.hidden = false;
  });
}
