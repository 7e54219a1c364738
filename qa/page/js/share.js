/* The actions under an answer that reach beyond this page: Share (a permalink to a kept copy
 * of the answer, POST /api/answers), Copy as Markdown (the server's Markdown of that kept
 * copy) and Watch (POST /api/watches: asked again after every new build).
 *
 * Keeping sends the question, history and filters exactly as the page sent them for this
 * answer; the server asks them again and keeps the reply. A turn is kept once: its
 * answer_id is reused by both actions and survives a reload (turn.kept).
 */

import { fetchJSON, queryTimeout, SMALL_TIMEOUT_MS } from "./api.js";
import { copyText, flashLabel, manualCopyBox, selectManualCopy } from "./clipboard.js";
import { announce, clear, h } from "./dom.js";
import { findTurn, saveTurns, sentRequest } from "./state.js";
import { str } from "./text.js";
import { createWatch, knownWatches, watchFor } from "./watches.js";

var keeping = {}; // turn id -> the pending POST /api/answers

/* An absolute URL for the server's permalink (a path on this server). */
export function permalinkUrl(permalink, answerId) {
  var path = typeof permalink === "string" && /^\/(?![/\\])/.test(permalink) ? permalink
    : "/a/" + encodeURIComponent(str(answerId));
  return window.location.origin + path;
}

function sameAnswer(a, b) {
  if (!a || !b) return false;
  return !!a.abstained === !!b.abstained && str(a.answer).trim() === str(b.answer).trim();
}

/* Keep the turn's answer on the server (once). Resolves with turn.kept. */
function keep(turn) {
  if (turn.kept && turn.kept.answer_id && typeof turn.kept.markdown === "string") {
    return Promise.resolve(turn.kept);
  }
  if (keeping[turn.id]) return keeping[turn.id];
  var request;
  if (turn.kept && turn.kept.answer_id) {
    // Kept before, its Markdown dropped to save room: read it back.
    request = fetchJSON("/api/answers/" + encodeURIComponent(turn.kept.answer_id), { method: "GET" }, SMALL_TIMEOUT_MS)
      .catch(function (err) {
        if (err && err.status === 404) return post(turn);
        throw err;
      });
  } else {
    request = post(turn);
  }
  var p = request.then(function (body) {
    if (!body || typeof body.answer_id !== "string" || !body.answer_id) {
      throw new Error("The server did not say where it kept the answer.");
    }
    turn.kept = {
      answer_id: body.answer_id,
      permalink: typeof body.permalink === "string" ? body.permalink : null,
      markdown: typeof body.markdown === "string" ? body.markdown : "",
      created_at: typeof body.created_at === "string" ? body.created_at : null,
      build_id: typeof body.build_id === "string" ? body.build_id : null,
      same: body.answer && typeof body.answer === "object" ? sameAnswer(turn.response, body.answer) : true,
    };
    if (findTurn(turn.id) === turn) saveTurns();
    return turn.kept;
  }).finally(function () {
    delete keeping[turn.id];
  });
  keeping[turn.id] = p;
  return p;
}

function post(turn) {
  return fetchJSON("/api/answers", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(sentRequest(turn)),
  }, queryTimeout());
}

function busy(button, label) {
  button.setAttribute("aria-disabled", "true");
  button.classList.add("busy");
  button.textContent = label;
}

function idle(button, label) {
  button.removeAttribute("aria-disabled");
  button.classList.remove("busy");
  button.textContent = label;
}

function isBusy(button) {
  return button.getAttribute("aria-disabled") === "true";
}

/* Show `el` in the output slot `name` of an answer's share area (replacing what was there). */
function showIn(output, name, el) {
  var slot = output.querySelector('[data-slot="' + name + '"]');
  if (!slot) {
    slot = h("div", { "data-slot": name });
    output.appendChild(slot);
  }
  clear(slot);
  if (el) slot.appendChild(el);
  output.hidden = !output.querySelector("[data-slot] > *");
  return slot;
}

function problem(output, name, text) {
  showIn(output, name, h("p", { class: "share-error", role: "alert" }, text));
}

function onShare(turn, button, output) {
  if (isBusy(button)) return;
  busy(button, "Sharing…");
  keep(turn).then(function (kept) {
    idle(button, "Share");
    var url = permalinkUrl(kept.permalink, kept.answer_id);
    var inputId = "share-url-" + turn.id;
    var input = h("input", { type: "url", id: inputId, class: "share-url", readonly: true, value: url, spellcheck: "false" });
    var copy = h("button", { type: "button", class: "button secondary small share-copy" }, "Copy link");
    copy.addEventListener("click", function () {
      copyText(url).then(function (ok) {
        if (ok) {
          flashLabel(copy, "Copied", "Copy link");
          announce("Link copied to the clipboard.");
        } else {
          input.focus();
          input.select();
          flashLabel(copy, "Select and copy the link", "Copy link");
          announce("The browser did not allow copying: the link is selected, copy it by hand.");
        }
      });
    });
    var note = kept.same ? null : h("p", { class: "share-note" },
      "The releases were indexed again since this answer was given: the link shows the answer " +
      "the current index gives to the same question.");
    showIn(output, "share", h("div", { class: "share-box" },
      h("label", { for: inputId, class: "share-label" }, "Link to this answer"),
      h("div", { class: "share-row" }, input, copy,
        h("a", { class: "button secondary small share-visit", href: url, target: "_blank", rel: "noopener" },
          "Open", h("span", { class: "sr-only" }, " the shared answer (opens in a new tab)"))),
      note));
    input.focus();
    input.select();
    announce("Link to this answer ready: " + url);
  }, function (err) {
    idle(button, "Share");
    problem(output, "share", "Could not share this answer. " + str(err && err.message));
  });
}

function onMarkdown(turn, button, output) {
  if (isBusy(button)) return;
  busy(button, "Preparing…");
  keep(turn).then(function (kept) {
    return copyText(kept.markdown).then(function (ok) {
      idle(button, "Copy as Markdown");
      if (ok) {
        showIn(output, "markdown", null);
        flashLabel(button, "Copied", "Copy as Markdown");
        announce("The answer was copied as Markdown.");
        return;
      }
      var box = manualCopyBox("markdown-" + turn.id, "The answer as Markdown: this browser does not allow " +
        "copying here, select the text and copy it.", kept.markdown);
      showIn(output, "markdown", box);
      selectManualCopy(box);
    });
  }).catch(function (err) {
    idle(button, "Copy as Markdown");
    problem(output, "markdown", "Could not copy the answer as Markdown. " + str(err && err.message));
  });
}

// ---------------------------------------------------------------- watch

function watchRequest(turn) {
  var sent = sentRequest(turn);
  return { question: sent.question, filters: sent.filters || {} };
}

function isWatched(turn) {
  var req = watchRequest(turn);
  if (!knownWatches()) return !!turn.watchId;
  return !!watchFor(req.question, req.filters, turn.watchId);
}

function syncWatchButton(button, turn) {
  if (button.classList.contains("busy")) return;
  if (isWatched(turn)) {
    button.textContent = "Watching";
    button.setAttribute("aria-disabled", "true");
    button.setAttribute("title", "This question is in the Watched panel.");
  } else {
    button.textContent = "Watch";
    button.removeAttribute("aria-disabled");
    button.removeAttribute("title");
  }
}

/* Bring the Watch buttons under `root` in line with the list of watches. */
export function syncWatchButtons(root) {
  Array.prototype.forEach.call((root || document).querySelectorAll("button.watch[data-turn-id]"), function (b) {
    var turn = findTurn(b.getAttribute("data-turn-id"));
    if (turn) syncWatchButton(b, turn);
  });
}

function onWatch(turn, button, output) {
  if (isBusy(button)) return;
  busy(button, "Adding…");
  var req = watchRequest(turn);
  createWatch(req.question, req.filters).then(function (w) {
    turn.watchId = w.id;
    if (findTurn(turn.id) === turn) saveTurns();
    button.classList.remove("busy");
    showIn(output, "watch", null);
    syncWatchButtons(document);
    announce("Watching this question: it is asked again after every new build. See Watched.");
  }, function (err) {
    idle(button, "Watch");
    problem(output, "watch", "Could not watch this question. " + str(err && err.message));
  });
}

/* The Share, Copy as Markdown and Watch buttons of a turn's answer, and the area under them
 * where the link, the Markdown to copy by hand, or a problem shows. */
export function shareControls(turn) {
  var output = h("div", { class: "share-output", hidden: true, "data-turn-id": turn.id });
  var share = h("button", { type: "button", class: "button secondary small share" }, "Share");
  var markdown = h("button", { type: "button", class: "button secondary small copy-markdown" }, "Copy as Markdown");
  var watch = h("button", { type: "button", class: "button secondary small watch", "data-turn-id": turn.id }, "Watch");
  share.addEventListener("click", function () { onShare(turn, share, output); });
  markdown.addEventListener("click", function () { onMarkdown(turn, markdown, output); });
  watch.addEventListener("click", function () { onWatch(turn, watch, output); });
  syncWatchButton(watch, turn);
  return { buttons: [markdown, share, watch], output: output };
}
