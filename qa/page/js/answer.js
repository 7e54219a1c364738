/* Rendering an answer: its sentences grouped into paragraphs, lists and headings, the
 * numbered citation markers, the source list, the note on how the question was read,
 * an abstention with its suggestions, copying the answer as plain text, and the Share,
 * Copy as Markdown and Watch actions (share.js). The kept-answer page (permalink.js)
 * reuses the body, the note and the timeline.
 */

import { openSuggestion, sourceMap } from "./citations.js";
import { announce, append, externalLink, h, timeEl } from "./dom.js";
import { activeFilters, describeFilters, sameFilters } from "./filters.js";
import { shareControls } from "./share.js";
import { isoDate, safeUrl, str } from "./text.js";
import { renderTimeline } from "./timeline.js";

/* Group `sentences` into paragraphs, lists and headings, keeping order. */
export function renderAnswerBody(response, turn) {
  var body = h("div", { class: "answer-body" });
  var sentences = Array.isArray(response.sentences) ? response.sentences : [];
  var sourcesByN = sourceMap(response);
  if (!sentences.length) {
    sentences = sentencesFromText(str(response.answer));
  }
  var para = null, list = null;
  sentences.forEach(function (s) {
    if (!s || typeof s !== "object") return;
    var kind = s.kind === "bullet" || s.kind === "heading" ? s.kind : "sentence";
    var text = str(s.text).trim();
    var cites = citeButtons(s.citations, sourcesByN, turn);
    if (kind === "heading") {
      para = null; list = null;
      body.appendChild(h("h3", { class: "answer-heading" }, text, cites.length ? " " : null, cites));
    } else if (kind === "bullet") {
      para = null;
      if (!list) { list = h("ul", { class: "answer-list" }); body.appendChild(list); }
      list.appendChild(h("li", null, text, cites.length ? " " : null, cites));
    } else {
      list = null;
      if (!para) { para = h("p"); body.appendChild(para); }
      else para.appendChild(document.createTextNode(" "));
      append(para, text);
      if (cites.length) { para.appendChild(document.createTextNode(" ")); append(para, cites); }
    }
  });
  return body;
}

/* Fallback when the server sends no `sentences`: parse the plain answer. */
function sentencesFromText(answer) {
  var out = [];
  answer.split(/\n+/).forEach(function (line) {
    var trimmed = line.trim();
    if (!trimmed) return;
    var kind = "sentence";
    if (/^[•\-*]\s+/.test(trimmed)) { kind = "bullet"; trimmed = trimmed.replace(/^[•\-*]\s+/, ""); }
    var citations = [];
    var text = trimmed.replace(/\s*\[(\d+)\]/g, function (m, n) { citations.push(Number(n)); return ""; });
    out.push({ text: text, citations: citations, kind: kind });
  });
  return out;
}

function citeButtons(citations, sourcesByN, turn) {
  if (!Array.isArray(citations)) return [];
  var seen = {};
  return citations.filter(function (n) {
    var key = String(n);
    if (seen[key]) return false;
    seen[key] = true;
    return true;
  }).map(function (n) {
    var src = sourcesByN[String(n)];
    if (!src) return h("span", { class: "cite-missing" }, "[" + n + "]");
    return h("button", {
      type: "button", class: "cite", "data-n": String(n), "data-turn-id": turn.id,
      "aria-label": "Source " + n + ": " + str(src.title), "aria-controls": "source-panel",
    }, "[" + n + "]");
  });
}

function renderSources(response, turn) {
  var sources = Array.isArray(response.sources) ? response.sources : [];
  if (!sources.length) return null;
  var list = h("ol", { class: "source-list" });
  sources.forEach(function (s) {
    if (!s) return;
    var open = h("button", {
      type: "button", class: "source-open", "data-n": String(s.n), "data-turn-id": turn.id,
      "aria-controls": "source-panel",
    },
      h("span", { class: "source-n" }, "[" + s.n + "]"),
      h("span", { class: "source-title-text" }, str(s.title) || "Untitled release"),
      s.date ? h("span", { class: "source-date" }, timeEl(s.date)) : null);
    var meta = [];
    if (s.source) meta.push(h("span", { class: "source-origin" }, str(s.source)));
    var link = externalLink(s.url, "Original", "external source-link");
    list.appendChild(h("li", { class: "source" }, open,
      meta.length || link ? h("span", { class: "source-extra" }, meta, link) : null));
  });
  return h("section", { class: "sources", "aria-label": "Sources" },
    h("h3", { class: "section-label" }, "Sources"), list);
}

export function renderQueryNote(turn) {
  var r = turn.response || {};
  var q = r.query && typeof r.query === "object" ? r.query : null;
  if (!q) return null;
  var notes = [];
  var resolved = str(q.text).trim();
  if (resolved && normalise(resolved) !== normalise(turn.question)) {
    notes.push(h("span", null, "Searched for: ", h("q", null, resolved)));
  }
  var dates = q.dates && typeof q.dates === "object" && str(q.dates.phrase) ? q.dates : null;
  if (dates) {
    // How the server read a time expression in the question (e.g. "since March 2014").
    var range = describeFilters(dates);
    var reading = "Read " + "\u201c" + str(dates.phrase) + "\u201d";
    if (range) {
      reading += " as " + range + (dates.applied_as === "preference"
        ? " (releases of that period ranked first)" : " (used as a date filter)");
    }
    if (dates.recent) reading += (range ? ", " : " as ") + "newest first";
    notes.push(h("span", null, reading));
  }
  // The date filter read from the question alone was described just above.
  var readOnly = dates && dates.applied_as === "filter" && !Object.keys(activeFilters(turn.filters)).length &&
    sameFilters(q.filters, { date_from: str(dates.date_from), date_to: str(dates.date_to) });
  if (q.filters && typeof q.filters === "object" && !readOnly && !sameFilters(q.filters, turn.filters)) {
    var described = describeFilters(q.filters);
    var why = dates ? "" : describeFilters(turn.filters) ? " (adjusted by the server)" : " (read from your question)";
    notes.push(h("span", null, described
      ? "Dates searched: " + described + why
      : "Dates searched: all (your date filter was not applied)"));
  }
  if (!notes.length) return null;
  var p = h("p", { class: "query-note" });
  notes.forEach(function (n, i) { if (i) p.appendChild(document.createTextNode(" · ")); p.appendChild(n); });
  return p;
}

function normalise(s) {
  return s.toLowerCase().replace(/[\s?.!]+/g, " ").trim();
}

function answerActions(turn) {
  var copy = h("button", { type: "button", class: "button secondary small copy" }, "Copy answer");
  copy.addEventListener("click", function () { copyAnswer(turn, copy); });
  var more = shareControls(turn);
  var actions = h("div", { class: "actions" }, copy, more.buttons);
  if (typeof turn.elapsedMs === "number") {
    actions.appendChild(h("span", { class: "elapsed" }, "answered in " + (turn.elapsedMs < 1000 ? Math.round(turn.elapsedMs) + " ms" : (turn.elapsedMs / 1000).toFixed(1) + " s")));
  }
  return [actions, more.output];
}

export function renderAnswer(turn) {
  var r = turn.response || {};
  return h("article", { class: "answer", "data-turn-id": turn.id, "aria-label": "Answer" },
    h("h2", { class: "sr-only" }, "Answer"),
    renderAnswerBody(r, turn),
    renderQueryNote(turn),
    renderSources(r, turn),
    renderTimeline(turn),
    answerActions(turn));
}

export function renderAbstained(turn) {
  var r = turn.response || {};
  var message = str(r.message) || str(r.answer) ||
    "I could not find an answer to this in the indexed releases.";
  var suggestions = Array.isArray(r.suggestions) ? r.suggestions.filter(Boolean) : [];
  var sugg = null;
  if (suggestions.length) {
    var list = h("ul", { class: "suggestion-list" });
    suggestions.forEach(function (s) {
      var open = h("button", { type: "button", class: "suggestion-open", "aria-controls": "source-panel" },
        h("span", { class: "source-title-text" }, str(s.title) || "Untitled release"),
        s.date ? h("span", { class: "source-date" }, timeEl(s.date)) : null);
      open.addEventListener("click", function () { openSuggestion(s, open); });
      list.appendChild(h("li", { class: "suggestion" }, open, externalLink(s.url, "Original", "external source-link")));
    });
    sugg = h("section", { class: "suggestions", "aria-label": "You may be looking for" },
      h("h3", { class: "section-label" }, "You may be looking for"), list);
  }
  return h("article", { class: "answer abstained", "data-turn-id": turn.id, "aria-label": "No answer found" },
    h("h2", { class: "abstain-title" }, "No answer in the releases"),
    h("p", { class: "abstain-message" }, message),
    renderQueryNote(turn),
    sugg,
    renderTimeline(turn),
    answerActions(turn));
}

// ---------------------------------------------------------------- copy

function answerAsText(turn) {
  var r = turn.response || {};
  var lines = [];
  if (r.abstained) {
    lines.push(str(r.message) || str(r.answer));
    var sugg = Array.isArray(r.suggestions) ? r.suggestions : [];
    if (sugg.length) {
      lines.push("", "You may be looking for:");
      sugg.forEach(function (s) {
        lines.push("- " + [str(s.title), isoDate(s.date), safeUrl(s.url)].filter(Boolean).join(", "));
      });
    }
  } else {
    var text = str(r.answer);
    if (!text && Array.isArray(r.sentences)) {
      text = r.sentences.map(function (s) {
        var cites = (s.citations || []).map(function (n) { return "[" + n + "]"; }).join("");
        return (s.kind === "bullet" ? "• " : "") + str(s.text) + (cites ? " " + cites : "");
      }).join("\n");
    }
    lines.push(text);
    var sources = Array.isArray(r.sources) ? r.sources : [];
    if (sources.length) {
      lines.push("", "Sources:");
      sources.forEach(function (s) {
        lines.push("[" + s.n + "] " + [str(s.title), isoDate(s.date), safeUrl(s.url)].filter(Boolean).join(", "));
      });
    }
  }
  return lines.join("\n");
}

function copyAnswer(turn, button) {
  var text = answerAsText(turn);
  var done = function (ok) {
    button.textContent = ok ? "Copied" : "Copy failed";
    announce(ok ? "Answer copied to the clipboard." : "Could not copy the answer.");
    window.setTimeout(function () { button.textContent = "Copy answer"; }, 2000);
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(legacyCopy(text)); });
  } else {
    done(legacyCopy(text));
  }
}

function legacyCopy(text) {
  var ta = h("textarea", { class: "clipboard-helper", readonly: true, "aria-hidden": "true" });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  var ok = false;
  try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
  document.body.removeChild(ta);
  return ok;
}
