/* Watched questions: the "Watched" button in the header with the number of answers that
 * changed since they were last looked at (GET /api/watches, on load and every minute), the
 * panel that lists the watches and shows one's answers over the builds, and adding and
 * removing a watch. The server asks each watched question again after every new build. */

import { fetchJSON, fetchNoContent, SMALL_TIMEOUT_MS } from "./api.js";
import { $, announce, clear, cssEscape, h } from "./dom.js";
import { describeFilters, sameFilters } from "./filters.js";
import { closeSheet, openSheet, wireSheet } from "./sheet.js";
import { formatDateTime, isoDate, plural, str } from "./text.js";

var REFRESH_MS = 60000;
var SNIPPET_CHARS = 120;

var watches = null;   // the last list from the server, or null before it came
var listError = null; // why the last list could not be loaded
var view = null;      // null: the list; else the id of the watch shown
var dialog, bodyEl, openBtn, badgeEl;

/* The watches as last loaded (null before the first answer from the server). */
export function knownWatches() {
  return watches;
}

/* The watch for `question` with `filters`, if there is one in the last loaded list. */
export function watchFor(question, filters, id) {
  if (!watches) return null;
  var q = str(question).trim();
  for (var i = 0; i < watches.length; i++) {
    var w = watches[i];
    if (id && w.id === id) return w;
    if (str(w.question).trim() === q && sameFilters(w.filters, filters)) return w;
  }
  return null;
}

function notify() {
  document.dispatchEvent(new CustomEvent("qa:watches"));
}

function cleanList(body) {
  var list = body && Array.isArray(body.watches) ? body.watches : [];
  return list.filter(function (w) { return w && typeof w === "object" && typeof w.id === "string"; });
}

export function loadWatches() {
  return fetchJSON("/api/watches", { method: "GET" }, SMALL_TIMEOUT_MS).then(function (body) {
    watches = cleanList(body);
    listError = null;
  }, function (err) {
    listError = err && err.message ? err.message : "unknown problem.";
  }).then(function () {
    updateBadge();
    if (dialog && dialog.open && view === null) refreshList();
    notify();
  });
}

/* Render the list again, focus staying on the same watch (or where it was). */
function refreshList() {
  var active = document.activeElement;
  var focusedId = active && bodyEl.contains(active) && active.getAttribute("data-id");
  var hadFocus = active && bodyEl.contains(active);
  renderList();
  if (!hadFocus) return;
  var again = focusedId && bodyEl.querySelector('button.watch-open[data-id="' + cssEscape(focusedId) + '"]');
  if (again) again.focus();
  else focusFirst();
}

function unseenTotal() {
  if (!watches) return 0;
  return watches.reduce(function (sum, w) {
    var n = Number(w.unseen);
    return sum + (isFinite(n) && n > 0 ? Math.floor(n) : 0);
  }, 0);
}

function updateBadge() {
  var n = unseenTotal();
  badgeEl.textContent = n > 99 ? "99+" : String(n);
  badgeEl.hidden = !n;
  openBtn.setAttribute("aria-label", n ? "Watched, " + plural(n, "new change", "new changes") : "Watched");
}

/* POST /api/watches: watch `question` (with `filters`, when any). Resolves with the watch. */
export function createWatch(question, filters) {
  var payload = { question: question };
  if (filters && Object.keys(filters).length) payload.filters = filters;
  return fetchJSON("/api/watches", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(payload),
  }, SMALL_TIMEOUT_MS).then(function (body) {
    var w = body && body.watch;
    if (!w || typeof w !== "object" || typeof w.id !== "string") {
      throw new Error("The server did not describe the new watch.");
    }
    watches = (watches || []).filter(function (x) { return x.id !== w.id; }).concat([w]);
    updateBadge();
    if (dialog.open && view === null) refreshList();
    notify();
    return w;
  });
}

// ---------------------------------------------------------------- the panel

function snippet(text) {
  var t = str(text).replace(/\s+/g, " ").trim();
  return t.length > SNIPPET_CHARS ? t.slice(0, SNIPPET_CHARS - 1).trimEnd() + "…" : t;
}

function dateTimeEl(iso) {
  if (!iso) return null;
  return h("time", { datetime: str(iso) }, formatDateTime(str(iso)));
}

function newBadge(n) {
  return h("span", { class: "badge" }, plural(n, "new", "new"));
}

function renderList() {
  view = null;
  clear(bodyEl);
  if (!watches) {
    if (listError) {
      var retry = h("button", { type: "button", class: "button primary small retry" }, "Retry");
      retry.addEventListener("click", function () { loadWatches(); });
      bodyEl.appendChild(h("div", { class: "error" },
        h("p", { class: "error-message" }, "Could not load the watched questions. " + listError), retry));
    } else {
      bodyEl.appendChild(h("p", { class: "working" }, "Loading the watched questions…"));
    }
    return;
  }
  if (!watches.length) {
    bodyEl.appendChild(h("p", { class: "sheet-empty" },
      "You are not watching any question. Use Watch under an answer to follow how it changes " +
      "when the releases are indexed again."));
    return;
  }
  var list = h("ul", { class: "watch-list" });
  watches.slice().sort(function (a, b) {
    return str(b.created_at) < str(a.created_at) ? -1 : str(b.created_at) > str(a.created_at) ? 1 : 0;
  }).forEach(function (w) {
    var unseen = Math.max(0, Math.floor(Number(w.unseen) || 0));
    var last = w.last && typeof w.last === "object" ? w.last : null;
    var f = describeFilters(w.filters);
    var open = h("button", { type: "button", class: "watch-open", "data-id": w.id },
      h("span", { class: "watch-question" }, str(w.question)),
      unseen ? newBadge(unseen) : null,
      f ? h("span", { class: "watch-filters" }, "Dates: " + f) : null,
      h("span", { class: "watch-last" }, last ? snippet(last.text) || (last.abstained ? "No answer in the releases." : "")
        : "Not asked yet: it will be after the next build."));
    open.addEventListener("click", function () { showWatch(w.id); });
    list.appendChild(h("li", { class: "watch-item" + (unseen ? " has-new" : "") }, open));
  });
  bodyEl.appendChild(list);
}

function showWatch(id) {
  view = id;
  clear(bodyEl);
  bodyEl.appendChild(h("p", { class: "working" }, "Loading its answers…"));
  fetchJSON("/api/watches/" + encodeURIComponent(id), { method: "GET" }, SMALL_TIMEOUT_MS).then(function (body) {
    if (view !== id || !dialog.open) return;
    renderWatch(body && typeof body.watch === "object" && body.watch ? body.watch : { id: id },
      body && Array.isArray(body.history) ? body.history : []);
    markSeen(id);
  }, function (err) {
    if (view !== id || !dialog.open) return;
    clear(bodyEl);
    var back = backButton();
    if (err.status === 404) {
      watches = (watches || []).filter(function (w) { return w.id !== id; });
      updateBadge();
      notify();
      bodyEl.appendChild(h("div", null, back, h("p", { class: "sheet-empty" }, "This watch no longer exists.")));
    } else {
      var retry = h("button", { type: "button", class: "button primary small retry" }, "Retry");
      retry.addEventListener("click", function () { showWatch(id); });
      bodyEl.appendChild(h("div", null, back, h("div", { class: "error" },
        h("p", { class: "error-message" }, "Could not load this watch. " + err.message), retry)));
    }
    back.focus();
  });
}

function backButton() {
  var back = h("button", { type: "button", class: "link-button watch-back" }, "\u2190 All watched questions");
  back.addEventListener("click", function () {
    renderList();
    focusFirst();
  });
  return back;
}

function focusFirst() {
  var first = bodyEl.querySelector("button.watch-open") || dialog.querySelector("[data-close]");
  if (first) first.focus();
}

function renderWatch(w, history) {
  clear(bodyEl);
  var known = watchFor(null, null, w.id) || {};
  var unseen = Math.max(0, Math.floor(Number(known.unseen !== undefined ? known.unseen : w.unseen) || 0));
  var f = describeFilters(w.filters || known.filters);
  var stop = h("button", { type: "button", class: "button secondary small danger watch-stop" }, "Stop watching");
  stop.addEventListener("click", function () { stopWatching(w.id, stop); });
  var title = h("h3", { class: "watch-title", tabindex: "-1" }, str(w.question || known.question));
  var metaBits = [];
  if (f) metaBits.push("Dates: " + f);
  var since = w.created_at || known.created_at;
  var meta = h("p", { class: "watch-meta" }, metaBits.join(" · "), metaBits.length && since ? " · " : null,
    since ? ["Watched since ", dateTimeEl(since)] : null);

  var entries = history.filter(function (e) { return e && typeof e === "object"; });
  var list = h("ol", { class: "watch-history", reversed: true });
  // Newest first; the last `unseen` changes are the new ones.
  var changed = 0;
  for (var i = entries.length - 1; i >= 0; i--) {
    var e = entries[i];
    var isChange = e.kind === "changed";
    var isNew = isChange && changed < unseen;
    if (isChange) changed++;
    list.appendChild(renderEntry(e, isNew));
  }
  bodyEl.appendChild(h("div", { class: "watch-detail" },
    backButton(), title, meta,
    h("div", { class: "watch-actions" }, stop),
    h("h4", { class: "section-label" }, entries.length ? "Its answers, newest first" : "Its answers"),
    entries.length ? list : h("p", { class: "sheet-empty" }, "Not asked yet: it will be after the next build.")));
  title.focus();
}

function renderEntry(e, isNew) {
  var a = e.answer && typeof e.answer === "object" ? e.answer : {};
  var text = a.abstained ? (str(a.message) || str(a.answer) || "No answer in the releases.") : str(a.answer);
  var sources = Array.isArray(a.sources) ? a.sources.filter(function (s) { return s && typeof s === "object"; }) : [];
  var kind = e.kind === "first" ? "First answer" : e.kind === "changed" ? "Changed" : "Answer";
  var head = h("p", { class: "watch-entry-head" },
    h("strong", null, kind), " · ", dateTimeEl(e.at) || "unknown time",
    e.build_id ? [" · build ", h("code", null, str(e.build_id))] : null,
    isNew ? [" ", h("span", { class: "badge" }, "New")] : null);
  var srcList = null;
  if (sources.length) {
    srcList = h("ul", { class: "watch-sources", "aria-label": "Sources" });
    sources.forEach(function (s) {
      var d = isoDate(s.date);
      srcList.appendChild(h("li", null, (s.n !== undefined ? "[" + str(s.n) + "] " : "") +
        (str(s.title) || "Untitled release") + (d ? " (" + d + ")" : "")));
    });
  }
  return h("li", { class: "watch-entry" + (isNew ? " is-new" : "") + (a.abstained ? " abstained" : "") },
    head, h("p", { class: "watch-answer" }, text), srcList);
}

function markSeen(id) {
  var w = watchFor(null, null, id);
  fetchNoContent("/api/watches/" + encodeURIComponent(id) + "/seen", { method: "POST" }, SMALL_TIMEOUT_MS)
    .then(function () {
      if (w) w.unseen = 0;
      updateBadge();
      notify();
    }, function () { /* still counted as new; the next refresh shows the server's count */ });
}

function stopWatching(id, button) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  button.textContent = "Stopping…";
  fetchNoContent("/api/watches/" + encodeURIComponent(id), { method: "DELETE" }, SMALL_TIMEOUT_MS)
    .then(function () { return true; }, function (err) {
      if (err.status === 404) return true; // already gone
      button.removeAttribute("aria-disabled");
      button.textContent = "Stop watching";
      var msg = h("p", { class: "error-message", role: "alert" }, "Could not stop watching. " + err.message);
      button.parentNode.appendChild(msg);
      return false;
    }).then(function (gone) {
      if (!gone) return;
      watches = (watches || []).filter(function (w) { return w.id !== id; });
      updateBadge();
      notify();
      if (!dialog.open) return;
      renderList();
      focusFirst();
      announce("Stopped watching the question.");
    });
}

function openPanel() {
  renderList();
  openSheet(dialog, openBtn);
  focusFirst();
  loadWatches();
}

export function initWatches() {
  dialog = $("watched-dialog");
  bodyEl = $("watched-body");
  openBtn = $("watched-open");
  badgeEl = $("watched-badge");
  wireSheet(dialog);
  dialog.addEventListener("close", function () { view = null; });
  openBtn.addEventListener("click", openPanel);
  updateBadge();
  loadWatches();
  window.setInterval(function () {
    if (document.visibilityState !== "hidden") loadWatches();
  }, REFRESH_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") loadWatches();
  });
}
