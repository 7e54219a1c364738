/* The kept-answer page, /a/<id>: the answer kept by Share, as it was given, from
 * GET /api/answers/<id>: the question, the answer with its numbered citations, the sources
 * (title, date, link, the quoted passage), the build it came from and when it was kept,
 * Copy as Markdown (the server's Markdown) and a way back to the chat.
 *
 * As on the chat page, everything from the server goes in as text, never as markup.
 */

import { renderAnswerBody, renderQueryNote } from "./answer.js";
import { fetchJSON, SMALL_TIMEOUT_MS } from "./api.js";
import { appendHighlighted } from "./citations.js";
import { copyText, flashLabel, manualCopyBox, selectManualCopy } from "./clipboard.js";
import { $, announce, clear, externalLink, h, timeEl } from "./dom.js";
import { describeFilters } from "./filters.js";
import { formatDateTime, isoDate, str } from "./text.js";
import { renderTimeline } from "./timeline.js";

var TURN_ID = "kept";

function answerId() {
  var m = /^\/a\/([^/]+)\/?$/.exec(window.location.pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch (e) {
    return null;
  }
}

function main() {
  return $("kept");
}

function done() {
  main().removeAttribute("aria-busy");
}

function load() {
  var id = answerId();
  var el = main();
  if (!id) {
    showMissing();
    return;
  }
  el.setAttribute("aria-busy", "true");
  fetchJSON("/api/answers/" + encodeURIComponent(id), { method: "GET" }, SMALL_TIMEOUT_MS).then(function (body) {
    if (!body || typeof body.answer !== "object" || !body.answer) throw new Error("unreadable");
    render(id, body);
  }, function (err) {
    if (err && (err.status === 404 || err.status === 410)) showMissing();
    else showError(err);
  }).catch(function () {
    showError({ message: "The server sent an answer this page could not show." });
  });
}

function showMissing() {
  var el = main();
  clear(el);
  document.title = "Answer not found · Releases QA";
  el.appendChild(h("section", { class: "kept-missing", "aria-labelledby": "missing-title" },
    h("h1", { id: "missing-title", class: "kept-missing-title" }, "This answer does not exist (or was removed)"),
    h("p", null, "The link may be incomplete, or the answer is no longer kept on this server."),
    h("p", null, h("a", { class: "button primary", href: "/" }, "Ask your own question"))));
  done();
}

function showError(err) {
  var el = main();
  clear(el);
  var retry = h("button", { type: "button", class: "button primary small retry" }, "Retry");
  retry.addEventListener("click", function () {
    clear(el);
    el.appendChild(h("p", { class: "working" }, "Loading the answer…"));
    load();
  });
  el.appendChild(h("div", { class: "error" },
    h("h1", { class: "error-title" }, "Could not load this answer"),
    h("p", { class: "error-message" }, str(err && err.message) || "Unknown problem."),
    h("div", { class: "actions" }, retry)));
  done();
}

function render(id, body) {
  var r = body.answer;
  var question = str(body.question) || str(r.question);
  var filters = body.filters && typeof body.filters === "object" ? body.filters : {};
  var turn = { id: TURN_ID, question: question, filters: filters, response: r };
  document.title = (question.length > 80 ? question.slice(0, 79) + "…" : question) + " · Releases QA";

  var el = main();
  clear(el);
  var f = describeFilters(filters);
  var meta = h("p", { class: "kept-meta" }, "Kept ",
    body.created_at ? h("time", { datetime: str(body.created_at) }, formatDateTime(str(body.created_at))) : "at an unknown time",
    body.build_id ? [" · from index build ", h("code", { class: "build-id" }, str(body.build_id))] : null);
  var head = h("div", { class: "kept-head" },
    h("p", { class: "kicker" }, "Question"),
    h("h1", { id: "kept-question", class: "kept-question" }, question),
    f ? h("p", { class: "kept-filters" }, "Dates: " + f) : null,
    meta,
    renderHistory(body.history));

  var answer = r.abstained ? renderAbstention(r) : h("section", { class: "answer kept-body", "aria-label": "Answer" },
    h("h2", { class: "sr-only" }, "Answer"),
    renderAnswerBody(r, turn));
  var note = renderQueryNote(turn);
  if (note) answer.appendChild(note);
  // The sources' timeline (an abstention's suggestions would open the chat's side panel).
  var timeline = r.abstained ? null : renderTimeline(turn);
  if (timeline) answer.appendChild(timeline);
  answer.addEventListener("click", onCitation);

  var output = h("div", { class: "share-output", hidden: true });
  var copyMd = h("button", { type: "button", class: "button primary small copy-markdown" }, "Copy as Markdown");
  copyMd.addEventListener("click", function () { copyMarkdown(body, copyMd, output); });
  var copyLink = h("button", { type: "button", class: "button secondary small copy-link" }, "Copy link");
  copyLink.addEventListener("click", function () {
    copyText(window.location.href).then(function (ok) {
      flashLabel(copyLink, ok ? "Copied" : "Copy failed", "Copy link");
      announce(ok ? "Link copied to the clipboard." : "Could not copy the link: copy it from the address bar.");
    });
  });

  el.appendChild(h("article", { class: "kept-answer", "aria-labelledby": "kept-question" },
    head, answer, renderSources(r),
    h("div", { class: "actions kept-actions" }, copyMd, copyLink,
      h("a", { class: "button secondary small", href: "/api/answers/" + encodeURIComponent(id) + ".md" }, "Markdown file"),
      h("a", { class: "button secondary small ask-own", href: "/" }, "Ask your own question")),
    output));
  pointCitations();
  done();
}

function renderHistory(history) {
  var msgs = Array.isArray(history) ? history.filter(function (m) {
    return m && typeof m === "object" && (m.role === "user" || m.role === "assistant") && str(m.content);
  }) : [];
  if (!msgs.length) return null;
  var asked = msgs.filter(function (m) { return m.role === "user"; }).length;
  var list = h("ol", { class: "kept-history-list" });
  msgs.forEach(function (m) {
    list.appendChild(h("li", { class: "kept-history-" + m.role },
      h("span", { class: "kept-history-role" }, m.role === "user" ? "Question: " : "Answer: "), str(m.content)));
  });
  return h("details", { class: "kept-history" },
    h("summary", null, "It followed " + (asked === 1 ? "an earlier question" : asked + " earlier questions") +
      " in a conversation"), list);
}

function renderAbstention(r) {
  var message = str(r.message) || str(r.answer) || "I could not find an answer to this in the indexed releases.";
  var suggestions = Array.isArray(r.suggestions) ? r.suggestions.filter(function (s) { return s && typeof s === "object"; }) : [];
  var sugg = null;
  if (suggestions.length) {
    var list = h("ul", { class: "kept-suggestions" });
    suggestions.forEach(function (s) {
      var link = externalLink(s.url, "Original", "external source-link");
      list.appendChild(h("li", null,
        h("span", { class: "source-title-text" }, str(s.title) || "Untitled release"),
        s.date ? [" ", h("span", { class: "source-date" }, timeEl(s.date))] : null,
        link ? [" ", link] : null));
    });
    sugg = h("section", { "aria-label": "Releases that may be related" },
      h("h3", { class: "section-label" }, "Releases that may be related"), list);
  }
  return h("section", { class: "answer abstained kept-body", "aria-label": "No answer found" },
    h("h2", { class: "abstain-title" }, "No answer in the releases"),
    h("p", { class: "abstain-message" }, message), sugg);
}

function renderSources(r) {
  var sources = Array.isArray(r.sources) ? r.sources.filter(function (s) { return s && typeof s === "object"; }) : [];
  if (!sources.length) return null;
  var list = h("ol", { class: "kept-sources" });
  sources.forEach(function (s) {
    var n = str(s.n);
    var bits = [];
    if (isoDate(s.date)) bits.push(timeEl(s.date));
    if (s.source) bits.push(h("span", null, str(s.source)));
    if (s.release_id) bits.push(h("span", { class: "release-id" }, "ID " + str(s.release_id)));
    var meta = h("p", { class: "source-meta" });
    bits.forEach(function (b, i) { if (i) meta.appendChild(document.createTextNode(" · ")); meta.appendChild(b); });
    var link = externalLink(s.url, "Open the original release", "external");
    var linkRow = link ? h("p", { class: "source-link-row" }, link)
      : s.url ? h("p", { class: "source-link-row muted" }, "The original link is not a web address: " + str(s.url)) : null;
    var passage = null;
    if (typeof s.passage === "string" && s.passage) {
      passage = h("blockquote", { class: "passage" });
      appendHighlighted(passage, s.passage, s.highlights);
    }
    list.appendChild(h("li", { id: "source-" + n, class: "kept-source", tabindex: "-1", "data-n": n },
      h("h3", { class: "kept-source-title" }, h("span", { class: "source-n" }, "[" + n + "]"), " ",
        h("span", { class: "source-title-text" }, str(s.title) || "Untitled release")),
      bits.length ? meta : null, linkRow,
      passage ? h("p", { class: "section-label" }, "Quoted passage") : null, passage));
  });
  return h("section", { class: "kept-sources-section", "aria-labelledby": "sources-title" },
    h("h2", { id: "sources-title", class: "kept-section-title" }, "Sources"), list);
}

/* A citation or a timeline point: go to its source in the list below. */
function onCitation(event) {
  var target = event.target.closest("button.cite, button.timeline-point[data-n]");
  if (!target) return;
  var item = document.getElementById("source-" + target.getAttribute("data-n"));
  if (!item) return;
  Array.prototype.forEach.call(document.querySelectorAll(".kept-source.is-active"), function (el) {
    el.classList.remove("is-active");
  });
  item.classList.add("is-active");
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  item.scrollIntoView({ block: "start", behavior: reduce ? "auto" : "smooth" });
  item.focus({ preventScroll: true });
}

function copyMarkdown(body, button, output) {
  var markdown = str(body.markdown);
  copyText(markdown).then(function (ok) {
    clear(output);
    output.hidden = true;
    if (ok) {
      flashLabel(button, "Copied", "Copy as Markdown");
      announce("The answer was copied as Markdown.");
      return;
    }
    var box = manualCopyBox("kept-markdown", "The answer as Markdown: this browser does not allow copying " +
      "here, select the text and copy it.", markdown);
    output.appendChild(box);
    output.hidden = false;
    selectManualCopy(box);
  });
}

/* The citation buttons point at the sources of this page, not at a side panel. */
function pointCitations() {
  Array.prototype.forEach.call(document.querySelectorAll('[aria-controls="source-panel"][data-n]'), function (b) {
    b.setAttribute("aria-controls", "source-" + b.getAttribute("data-n"));
  });
}

function init() {
  load();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
