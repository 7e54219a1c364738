/* The source panel: opening a cited source (or a suggested release) beside the thread,
 * the cited passage with its highlights, the whole release on demand, and closing it
 * with focus back where it was.
 */

import { fetchJSON, SMALL_TIMEOUT_MS } from "./api.js";
import { $, append, clear, cssEscape, externalLink, h, timeEl } from "./dom.js";
import { findTurn, state } from "./state.js";
import { isoDate, str } from "./text.js";

var NARROW_QUERY = "(max-width: 899px)";

var thread, panel, questionEl;

/* Look up the elements; called once the page is parsed. */
export function initCitations() {
  thread = $("thread");
  panel = $("source-panel");
  questionEl = $("question");
}

export function sourceMap(response) {
  var map = {};
  (Array.isArray(response.sources) ? response.sources : []).forEach(function (s) {
    if (s && s.n !== undefined) map[String(s.n)] = s;
  });
  return map;
}

export function openSuggestion(s, opener) {
  openPanel({
    release_id: s.release_id, title: s.title, date: s.date, url: s.url, source: s.source,
    passage: null, highlights: [], label: "Suggested release", opener: opener, autoload: true,
  });
}

function onThreadClick(event) {
  var target = event.target.closest("button.cite, button.source-open, button.timeline-point[data-n]");
  if (!target || !thread.contains(target)) return;
  var turn = findTurn(target.getAttribute("data-turn-id"));
  if (!turn || !turn.response) return;
  var n = target.getAttribute("data-n");
  var src = sourceMap(turn.response)[n];
  if (!src) return;
  openPanel({
    release_id: src.release_id, title: src.title, date: src.date, url: src.url, source: src.source,
    passage: src.passage, highlights: src.highlights, label: "Source [" + n + "]", opener: target,
    key: turn.id + ":" + n,
  });
}

function openPanel(info) {
  state.panel = info;
  $("source-kicker").textContent = info.label || "Source";
  $("source-title").textContent = str(info.title) || "Untitled release";
  var meta = $("source-meta");
  clear(meta);
  var bits = [];
  if (isoDate(info.date)) bits.push(timeEl(info.date));
  if (info.source) bits.push(h("span", null, str(info.source)));
  if (info.release_id) bits.push(h("span", { class: "release-id" }, "ID " + str(info.release_id)));
  bits.forEach(function (b, i) { if (i) meta.appendChild(document.createTextNode(" · ")); meta.appendChild(b); });
  meta.hidden = !bits.length;

  var linkRow = $("source-link-row");
  clear(linkRow);
  var link = externalLink(info.url, "Open the original release", "external");
  if (link) linkRow.appendChild(link);
  else if (info.url) linkRow.appendChild(h("span", { class: "muted" }, "The original link is not a web address."));
  linkRow.hidden = !linkRow.firstChild;

  var passageSection = $("source-passage-section");
  var passageEl = $("source-passage");
  clear(passageEl);
  if (typeof info.passage === "string" && info.passage) {
    appendHighlighted(passageEl, info.passage, info.highlights);
    passageSection.hidden = false;
  } else {
    passageSection.hidden = true;
  }

  var full = $("release-full");
  clear(full);
  full.hidden = true;
  full.removeAttribute("data-state");
  var toggle = $("release-toggle");
  toggle.textContent = "Show the whole release";
  toggle.setAttribute("aria-expanded", "false");
  toggle.hidden = !info.release_id;
  toggle.removeAttribute("aria-disabled");

  markActiveCitation(info.key);
  panel.hidden = false;
  document.body.classList.add("panel-open");
  setInertForNarrow(true);
  panel.scrollTop = 0;
  $("source-title").focus({ preventScroll: true });
  if (info.autoload && info.release_id) showRelease();
}

function markActiveCitation(key) {
  Array.prototype.forEach.call(thread.querySelectorAll(".is-active"), function (el) {
    el.classList.remove("is-active");
    el.removeAttribute("aria-current");
  });
  if (!key) return;
  var parts = key.split(":");
  var sel = '[data-turn-id="' + cssEscape(parts[0]) + '"][data-n="' + cssEscape(parts[1]) + '"]';
  var selector = ["button.cite", "button.source-open", "button.timeline-point"].map(function (b) { return b + sel; }).join(", ");
  Array.prototype.forEach.call(thread.querySelectorAll(selector), function (el) {
    el.classList.add("is-active");
    el.setAttribute("aria-current", "true");
  });
}

export function closePanel(restoreFocus) {
  if (panel.hidden) return;
  var opener = state.panel && state.panel.opener;
  panel.hidden = true;
  document.body.classList.remove("panel-open");
  setInertForNarrow(false);
  markActiveCitation(null);
  state.panel = null;
  if (restoreFocus !== false && opener && document.body.contains(opener)) opener.focus();
  else if (restoreFocus !== false) questionEl.focus();
}

function setInertForNarrow(open) {
  var narrow = window.matchMedia && window.matchMedia(NARROW_QUERY).matches;
  var main = $("main");
  var header = document.querySelector(".app-header");
  var on = open && narrow;
  main.inert = on;
  header.inert = on;
}

/* Append `text` to `parent`, wrapping the [start, end) ranges in <mark>. */
export function appendHighlighted(parent, text, ranges) {
  var spans = normaliseRanges(ranges, text.length);
  var pos = 0;
  spans.forEach(function (r) {
    if (r[0] > pos) parent.appendChild(document.createTextNode(text.slice(pos, r[0])));
    parent.appendChild(h("mark", null, text.slice(r[0], r[1])));
    pos = r[1];
  });
  if (pos < text.length) parent.appendChild(document.createTextNode(text.slice(pos)));
}

function normaliseRanges(ranges, length) {
  if (!Array.isArray(ranges)) return [];
  var list = ranges.filter(function (r) {
    return Array.isArray(r) && r.length >= 2 && isFinite(r[0]) && isFinite(r[1]);
  }).map(function (r) {
    var a = Math.max(0, Math.min(length, Math.floor(Number(r[0]))));
    var b = Math.max(0, Math.min(length, Math.floor(Number(r[1]))));
    return [Math.min(a, b), Math.max(a, b)];
  }).filter(function (r) { return r[1] > r[0]; }).sort(function (x, y) { return x[0] - y[0]; });
  var merged = [];
  list.forEach(function (r) {
    var last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  });
  return merged;
}

function toggleRelease() {
  var full = $("release-full");
  if (full.getAttribute("data-state") === "loading" && !full.hidden) return;
  if (!full.hidden && full.getAttribute("data-state") === "loaded") {
    full.hidden = true;
    $("release-toggle").textContent = "Show the whole release";
    $("release-toggle").setAttribute("aria-expanded", "false");
    return;
  }
  showRelease();
}

function showRelease() {
  var info = state.panel;
  if (!info || !info.release_id) return;
  var full = $("release-full");
  var toggle = $("release-toggle");
  full.hidden = false;
  toggle.setAttribute("aria-expanded", "true");
  var id = String(info.release_id);
  var cached = state.releaseCache[id];
  if (cached) {
    renderRelease(cached, info);
    return;
  }
  clear(full);
  full.setAttribute("data-state", "loading");
  full.setAttribute("aria-busy", "true");
  full.appendChild(h("p", { class: "working" },
    h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")), " Loading the release…"));
  toggle.setAttribute("aria-disabled", "true");
  fetchJSON("/api/releases/" + encodeURIComponent(id), { method: "GET" }, SMALL_TIMEOUT_MS).then(function (body) {
    state.releaseCache[id] = body;
    if (state.panel !== info) return;
    renderRelease(body, info);
  }, function (err) {
    if (state.panel !== info) return;
    clear(full);
    full.setAttribute("data-state", "error");
    var retry = h("button", { type: "button", class: "button primary small retry" }, "Retry");
    retry.addEventListener("click", function () { showRelease(); });
    full.appendChild(h("div", { class: "error" },
      h("p", { class: "error-message" }, "Could not load the release. " + err.message), retry));
    toggle.textContent = "Show the whole release";
  }).then(function () {
    full.removeAttribute("aria-busy");
    toggle.removeAttribute("aria-disabled");
  });
}

function renderRelease(release, info) {
  var full = $("release-full");
  var toggle = $("release-toggle");
  clear(full);
  full.setAttribute("data-state", "loaded");
  toggle.textContent = "Hide the whole release";
  var text = str(release.text);
  var meta = [];
  if (release.title && str(release.title) !== str(info.title)) meta.push(h("p", { class: "release-title" }, str(release.title)));
  var tags = Array.isArray(release.tags) ? release.tags.filter(function (t) { return typeof t === "string" && t; }) : [];
  if (tags.length) {
    var ul = h("ul", { class: "tags", "aria-label": "Tags" });
    tags.forEach(function (t) { ul.appendChild(h("li", { class: "tag" }, t)); });
    meta.push(ul);
  }
  append(full, meta);
  full.appendChild(h("h3", { class: "section-label" }, "Whole release"));
  var body = h("div", { class: "release-text" });
  if (!text) {
    body.appendChild(h("p", { class: "muted" }, "The release has no text."));
  } else {
    // Highlight the cited passage inside the full text when it appears verbatim.
    var ranges = [];
    if (typeof info.passage === "string" && info.passage) {
      var at = text.indexOf(info.passage);
      if (at >= 0) {
        ranges = normaliseRanges(info.highlights, info.passage.length).map(function (r) {
          return [r[0] + at, r[1] + at];
        });
      }
    }
    appendHighlighted(body, text, ranges);
  }
  full.appendChild(body);
  var firstMark = body.querySelector("mark");
  if (firstMark) firstMark.scrollIntoView({ block: "center" });
}

export function wirePanel() {
  thread.addEventListener("click", onThreadClick);
  $("source-close").addEventListener("click", function () { closePanel(true); });
  $("release-toggle").addEventListener("click", toggleRelease);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || panel.hidden || e.defaultPrevented) return;
    e.preventDefault();
    closePanel(panel.contains(document.activeElement) || document.activeElement === document.body);
  });
  if (window.matchMedia) {
    var mq = window.matchMedia(NARROW_QUERY);
    var onChange = function () { if (!panel.hidden) setInertForNarrow(true); };
    if (mq.addEventListener) mq.addEventListener("change", onChange);
  }
}
