/* The conversation: the thread of question/answer turns, asking (with the earlier turns
 * sent as history for follow-ups), retry, cancel, a new chat and reopening a kept one.
 */

import { renderAbstained, renderAnswer } from "./answer.js";
import { ApiError, fetchStream, queryTimeout } from "./api.js";
import { closePanel } from "./citations.js";
import { $, announce, clear, cssEscape, h } from "./dom.js";
import { activeFilters, describeFilters, showFilterFields, validateFilters } from "./filters.js";
import { loadHealth } from "./health.js";
import { signInForm } from "./signin.js";
import {
  deleteChat, findTurn, historyMessages, historyTurnIds, MAX_STORED_TURNS, openChat, saveTurns, startNewChat,
  state,
} from "./state.js";
import { str, uid } from "./text.js";

var thread, emptyState, questionEl, sendEl, hintEl;

/* Look up the elements; called once the page is parsed. */
export function initConversation() {
  thread = $("thread");
  emptyState = $("empty-state");
  questionEl = $("question");
  sendEl = $("send");
  hintEl = $("composer-hint");
}

export function renderThread() {
  clear(thread);
  if (!state.turns.length) {
    thread.appendChild(emptyState);
    return;
  }
  state.turns.forEach(function (turn) { thread.appendChild(renderTurn(turn)); });
}

function renderTurn(turn) {
  var wrap = h("div", { class: "turn", "data-turn-id": turn.id });
  wrap.appendChild(renderQuestion(turn));
  var reply;
  try {
    reply = renderReply(turn);
  } catch (e) {
    // A malformed stored or received answer must not blank the page.
    turn.status = "error";
    turn.response = null;
    turn.error = { kind: "parse", message: "The page could not show this answer." };
    reply = renderError(turn);
  }
  wrap.appendChild(reply);
  return wrap;
}

function renderQuestion(turn) {
  var f = describeFilters(turn.filters);
  return h("div", { class: "question-bubble" },
    h("h2", { class: "sr-only" }, "You asked"),
    h("p", { class: "question-text" }, turn.question),
    f ? h("p", { class: "question-filters" }, "Dates: " + f) : null);
}

function renderReply(turn) {
  if (turn.status === "pending") return renderPending(turn);
  if (turn.status === "error") return renderError(turn);
  var r = turn.response || {};
  return r.abstained ? renderAbstained(turn) : renderAnswer(turn);
}

function replaceReply(turn) {
  var wrap = thread.querySelector('.turn[data-turn-id="' + cssEscape(turn.id) + '"]');
  if (!wrap) return null;
  var old = wrap.lastElementChild;
  var fresh = renderReply(turn);
  wrap.replaceChild(fresh, old);
  return fresh;
}

function renderPending(turn) {
  var cancel = h("button", { type: "button", class: "button secondary small cancel" }, "Cancel");
  cancel.addEventListener("click", function () { cancelActive(); });
  var streamed = typeof turn.streamText === "string" ? turn.streamText : "";
  // The answer as it is written: plain text, replaced by the rendered answer at the end.
  var live = h("div", { class: "stream-text", "aria-hidden": "true" });
  live.textContent = streamed;
  live.hidden = !streamed;
  return h("article", { class: "pending", "aria-label": "Working on the answer" },
    h("p", { class: "working" },
      h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
      h("span", { class: "working-text" }, streamed ? " Writing the answer…"
        : " Searching the releases and writing the answer…")),
    cancel, live);
}

/* Show the text streamed so far in the turn's pending bubble (textContent only). */
function showStreamText(turn) {
  var wrap = thread.querySelector('.turn[data-turn-id="' + cssEscape(turn.id) + '"]');
  var pending = wrap && wrap.querySelector("article.pending");
  if (!pending) return;
  var live = pending.querySelector(".stream-text");
  if (!live) return;
  live.textContent = turn.streamText || "";
  live.hidden = !turn.streamText;
  var label = pending.querySelector(".working-text");
  if (label) label.textContent = " Writing the answer…";
}

function renderError(turn) {
  var err = turn.error || {};
  var retry = h("button", { type: "button", class: "button primary small retry" }, "Retry");
  retry.addEventListener("click", function () { retryTurn(turn.id); });
  var message = str(err.message) || "The question could not be answered.";
  var title = {
    network: "No connection to the server",
    timeout: "The answer took too long",
    cancelled: "Question cancelled",
    interrupted: "Question interrupted",
    parse: "Unreadable answer",
    incomplete: "The answer was cut off",
  }[err.kind] || (err.status && message.indexOf("(HTTP ") < 0
    ? "The server could not answer (error " + err.status + ")" : "The server could not answer");
  var quiet = err.kind === "cancelled" || err.kind === "interrupted";
  if (err.status === 401) {
    // The sign-in form instead of the error; signing in asks the question again. If the form
    // moves on to a later question, the error and Retry show (style.css hides them till then).
    return h("article", { class: "error quiet signin-turn", "aria-label": "Sign in" },
      signInForm(function () { retryTurn(turn.id); }),
      h("h2", { class: "error-title" }, "Sign in to ask this question"),
      h("p", { class: "error-message" }, message),
      h("div", { class: "actions" }, retry));
  }
  return h("article", { class: quiet ? "error quiet" : "error", "aria-label": "Error" },
    h("h2", { class: "error-title" }, title),
    h("p", { class: "error-message" }, message),
    h("div", { class: "actions" }, retry));
}

var DEFAULT_HINT = "Enter to send, Shift+Enter for a new line";

function setHint(text, warn, reason) {
  hintEl.textContent = text || DEFAULT_HINT;
  hintEl.classList.toggle("warn", !!warn);
  hintEl.setAttribute("data-reason", reason || "");
}

function setBusy(busy) {
  sendEl.setAttribute("aria-disabled", busy ? "true" : "false");
  sendEl.classList.toggle("busy", busy);
  thread.setAttribute("aria-busy", busy ? "true" : "false");
}

function submitQuestion() {
  var question = questionEl.value.trim();
  if (!question) {
    setHint("Type a question first.", true);
    questionEl.focus();
    return;
  }
  if (state.active) {
    setHint("Still working on the previous question: wait for it, or cancel it.", true, "busy");
    return;
  }
  var filterProblem = validateFilters();
  if (filterProblem) {
    showFilterFields(true);
    $("filter-error").textContent = filterProblem;
    setHint(filterProblem, true);
    return;
  }
  setHint("");
  var turn = {
    id: uid(), question: question, filters: activeFilters(state.filters),
    status: "pending", response: null, error: null,
  };
  state.turns.push(turn);
  if (state.turns.length > MAX_STORED_TURNS) state.turns = state.turns.slice(-MAX_STORED_TURNS);
  questionEl.value = "";
  autosize();
  if (emptyState.parentNode) emptyState.parentNode.removeChild(emptyState);
  var el = renderTurn(turn);
  thread.appendChild(el);
  scrollIntoViewSoft(el);
  saveTurns();
  runTurn(turn);
}

function runTurn(turn) {
  var controller = new AbortController();
  state.active = { turnId: turn.id, controller: controller };
  setBusy(true);
  // Conversation sent as `history`: the answered turns before this one.
  var historyIds = historyTurnIds(turn.id);
  var payload = { question: turn.question, history: historyMessages(historyIds) || [] };
  var f = activeFilters(turn.filters);
  if (Object.keys(f).length) payload.filters = f;
  // What was sent, so that sharing this answer asks the same (share.js).
  turn.sent = { history: historyIds, filters: payload.filters || null };
  delete turn.kept;
  var started = performance.now();
  payload.stream = true;
  turn.streamText = "";
  fetchStream("/api/query", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream, application/json" },
    body: JSON.stringify(payload),
  }, queryTimeout(), controller, function (text) {
    if (!state.active || state.active.turnId !== turn.id) return;
    turn.streamText = (turn.streamText || "") + text;
    showStreamText(turn);
  }).then(function (body) {
    turn.status = "done";
    turn.response = body;
    turn.error = null;
    turn.elapsedMs = Math.round(performance.now() - started);
  }, function (err) {
    turn.status = "error";
    turn.response = null;
    turn.error = err instanceof ApiError ? { kind: err.kind, message: err.message, status: err.status }
      : { kind: "parse", message: "The page could not show this answer." };
  }).then(function () {
    delete turn.streamText;
    if (state.active && state.active.turnId === turn.id) state.active = null;
    if (!state.active) {
      setBusy(false);
      if (hintEl.getAttribute("data-reason") === "busy") setHint("");
    }
    if (!findTurn(turn.id)) return; // the chat was cleared meanwhile
    saveTurns();
    var el;
    try {
      el = replaceReply(turn);
    } catch (e) {
      turn.status = "error";
      turn.error = { kind: "parse", message: "The page could not show this answer." };
      el = replaceReply(turn);
    }
    if (!el) return;
    scrollIntoViewSoft(el, true);
    if (turn.status === "done") {
      var r = turn.response;
      announce(r.abstained ? "No answer found. " + (str(r.message) || str(r.answer))
        : "Answer: " + truncate(str(r.answer), 600));
      if (!state.health) loadHealth();
    } else {
      announce("Error: " + turn.error.message);
      if (turn.error.status === 503) loadHealth();
    }
  });
}

function truncate(s, n) {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

function retryTurn(turnId) {
  var turn = findTurn(turnId);
  if (!turn) return;
  if (state.active) {
    setHint("Still working on another question: wait for it, or cancel it.", true, "busy");
    return;
  }
  turn.status = "pending";
  turn.error = null;
  var el = replaceReply(turn);
  saveTurns();
  if (el) {
    var cancel = el.querySelector(".cancel");
    if (cancel) cancel.focus();
  }
  runTurn(turn);
}

function cancelActive() {
  if (!state.active) return;
  state.active.controller.abort();
  questionEl.focus();
}

/* Stop the question being answered, before its chat is left: it is kept as cancelled. */
function stopActive() {
  if (!state.active) return;
  var ctrl = state.active.controller;
  var turn = findTurn(state.active.turnId);
  state.active = null;
  if (turn && turn.status === "pending") {
    turn.status = "error";
    turn.error = { kind: "cancelled", message: "The chat was left before this answer arrived." };
    delete turn.streamText;
    saveTurns();
  }
  ctrl.abort();
}

/* Start an empty thread; the one that was open stays in the list of chats. */
export function newChat() {
  stopActive();
  startNewChat();
  setBusy(false);
  closePanel(false);
  renderThread();
  setHint("");
  questionEl.focus();
  announce("New chat started.");
}

/* Delete the stored chat `id`; when it is the open one, an empty thread takes its place. */
export function forgetChat(id) {
  var current = id === state.chatId;
  if (current) stopActive();
  deleteChat(id);
  if (!current) return;
  setBusy(false);
  closePanel(false);
  renderThread();
  setHint("");
}

/* Reopen the stored chat `id`: its turns come back, and so does its history for the next
 * question. False when it is no longer stored. */
export function reopenChat(id) {
  if (id === state.chatId) {
    questionEl.focus();
    return true;
  }
  stopActive();
  if (!openChat(id)) return false;
  setBusy(false);
  closePanel(false);
  showStoredThread();
  setHint("");
  questionEl.focus();
  announce("Chat reopened: " + truncate(state.turns.length ? state.turns[0].question : "", 200));
  return true;
}

function scrollIntoViewSoft(el, toTop) {
  window.requestAnimationFrame(function () {
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    el.scrollIntoView({ block: toTop ? "start" : "end", behavior: reduce ? "auto" : "smooth" });
  });
}

export function autosize() {
  questionEl.style.height = "auto";
  var max = 200;
  questionEl.style.height = Math.min(questionEl.scrollHeight + 2, max) + "px";
  questionEl.style.overflowY = questionEl.scrollHeight > max ? "auto" : "hidden";
}

/* Show the thread restored from storage, scrolled to its end. */
export function showStoredThread() {
  renderThread();
  if (state.turns.length) {
    var last = thread.lastElementChild;
    if (last) last.scrollIntoView({ block: "end" });
  }
}

export function wireComposer() {
  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    submitQuestion();
  });
  questionEl.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitQuestion();
    }
  });
  questionEl.addEventListener("input", function () {
    autosize();
    if (hintEl.classList.contains("warn") && !state.active) setHint("");
  });
}
