/* Releases QA: the chat page.
 *
 * No framework, no build step. Every piece of data that comes from the server
 * (answers, titles, passages, URLs, messages) is inserted through text nodes
 * (textContent / createTextNode); innerHTML is never used. Only absolute
 * http: and https: URLs become links.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "releases-qa:conversation:v1";
  var FILTER_KEY = "releases-qa:filters:v1";
  var QUERY_TIMEOUT_MS = 30000; // tests may lower it with window.RELEASES_QA_QUERY_TIMEOUT_MS
  var SMALL_TIMEOUT_MS = 15000;
  var MAX_HISTORY_MESSAGES = 20; // the last 10 question/answer pairs
  var MAX_STORED_TURNS = 50;
  var NARROW_QUERY = "(max-width: 899px)";

  // ---------------------------------------------------------------- helpers

  function $(id) {
    return document.getElementById(id);
  }

  /* Build an element. attrs: plain attributes (set with setAttribute) plus
   * "class"; children: strings (become text nodes), nodes, arrays, or null. */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "class") el.className = value;
        else if (key === "hidden") el.hidden = true;
        else el.setAttribute(key, value === true ? "" : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(parent, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) {
      child.forEach(function (c) { append(parent, c); });
    } else if (typeof child === "string" || typeof child === "number") {
      parent.appendChild(document.createTextNode(String(child)));
    } else {
      parent.appendChild(child);
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  /* Return a normalised absolute http(s) URL, or null for anything else
   * (javascript:, data:, relative paths, garbage). */
  function safeUrl(value) {
    if (typeof value !== "string" || !value.trim()) return null;
    var url;
    try {
      url = new URL(value.trim());
    } catch (e) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.href;
  }

  function externalLink(url, label, cls) {
    var href = safeUrl(url);
    if (!href) return null;
    return h("a", { class: cls || "external", href: href, target: "_blank", rel: "noopener noreferrer" },
      label, h("span", { class: "sr-only" }, " (opens in a new tab)"));
  }

  function str(value) {
    return typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
  }

  function isoDate(value) {
    return typeof value === "string" && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : null;
  }

  function timeEl(date) {
    var d = isoDate(date);
    return d ? h("time", { datetime: d }, d) : null;
  }

  function formatDateTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return str(iso);
    try {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(d);
    } catch (e) {
      return d.toLocaleString();
    }
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function uid() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  function announce(text) {
    var el = $("announcer");
    el.textContent = "";
    // A fresh text node after a tick makes screen readers read it again.
    window.setTimeout(function () { el.textContent = text; }, 50);
  }

  // ---------------------------------------------------------------- HTTP

  function ApiError(kind, message, status) {
    this.kind = kind; // "network" | "timeout" | "http" | "parse" | "cancelled"
    this.message = message;
    this.status = status || null;
  }

  /* fetch + JSON with a time-out. Resolves with the parsed body, rejects
   * with an ApiError that carries a plain-words message. */
  function fetchJSON(url, options, timeoutMs, externalController) {
    var controller = externalController || new AbortController();
    var timedOut = false;
    var timer = window.setTimeout(function () {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    var opts = Object.assign({ headers: { Accept: "application/json" } }, options || {});
    opts.signal = controller.signal;
    return fetch(url, opts).then(readJSONReply, function (err) {
      throw requestError(err, timedOut, timeoutMs);
    }).finally(function () {
      window.clearTimeout(timer);
    });
  }

  /* POST with stream:true and read the server-sent events with a ReadableStream.
   * onDelta(text) is called for each `delta` event; resolves with the data of the
   * final `answer` event. A reply that is not an event stream (a JSON error, or a
   * server that ignores `stream`) is read as JSON, as fetchJSON does. The time-out
   * restarts whenever a piece of the stream arrives. */
  function fetchStream(url, options, timeoutMs, controller, onDelta) {
    var timedOut = false;
    var timer = null;
    function arm() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
    }
    arm();
    var opts = Object.assign({}, options || {});
    opts.signal = controller.signal;
    return fetch(url, opts).then(function (response) {
      var type = (response.headers.get("Content-Type") || "").toLowerCase();
      if (!response.ok || type.indexOf("text/event-stream") !== 0) return readJSONReply(response);
      var answer = null;
      var failure = null;
      var buffer = "";
      var handleBlock = function (block) {
        var event = "message";
        var data = [];
        block.split("\n").forEach(function (line) {
          if (!line || line.charAt(0) === ":") return;
          var colon = line.indexOf(":");
          var field = colon < 0 ? line : line.slice(0, colon);
          var value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.charAt(0) === " ") value = value.slice(1);
          if (field === "event") event = value;
          else if (field === "data") data.push(value);
        });
        if (!data.length) return;
        var parsed;
        try {
          parsed = JSON.parse(data.join("\n"));
        } catch (e) {
          return; // an unreadable event is skipped; a missing answer is reported below
        }
        if (event === "delta") {
          if (parsed && typeof parsed.text === "string" && parsed.text) onDelta(parsed.text);
        } else if (event === "answer") {
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) answer = parsed;
        } else if (event === "error") {
          var msg = parsed && parsed.error && parsed.error.message;
          failure = new ApiError("http", msg ? str(msg) : "The server had a problem while writing the answer.",
            (parsed && parsed.error && parsed.error.status) || null);
        }
      };
      var feed = function (text, last) {
        buffer += text;
        buffer = buffer.replace(/\r\n?/g, "\n");
        var parts = buffer.split("\n\n");
        buffer = last ? "" : parts.pop();
        parts.forEach(handleBlock);
      };
      var finish = function () {
        if (failure) throw failure;
        if (!answer) {
          throw new ApiError("incomplete", "The answer stopped before it was complete: the connection " +
            "was closed before the server sent the whole answer.");
        }
        return answer;
      };
      if (!response.body || !response.body.getReader || typeof TextDecoder === "undefined") {
        return response.text().then(function (text) {
          feed(text, true);
          return finish();
        });
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder("utf-8");
      var pump = function () {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            feed(decoder.decode(), true);
            return finish();
          }
          arm();
          feed(decoder.decode(chunk.value, { stream: true }), false);
          if (answer || failure) {
            reader.cancel().catch(function () { /* ignore */ });
            return finish();
          }
          return pump();
        });
      };
      return pump();
    }).catch(function (err) {
      throw requestError(err, timedOut, timeoutMs);
    }).finally(function () {
      window.clearTimeout(timer);
    });
  }

  /* Read a non-streamed reply: JSON, or an ApiError for an HTTP error or garbage. */
  function readJSONReply(response) {
    return response.text().then(function (text) {
      var body = null;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch (e) {
          body = undefined;
        }
      }
      if (!response.ok) {
        var msg = body && body.error && body.error.message;
        var status = (body && body.error && body.error.status) || response.status;
        throw new ApiError("http", msg ? str(msg) : httpFallbackMessage(response.status), status);
      }
      if (body === undefined || body === null || typeof body !== "object") {
        throw new ApiError("parse", "The server sent a reply this page could not read.", response.status);
      }
      return body;
    });
  }

  function requestError(err, timedOut, timeoutMs) {
    if (timedOut) {
      return new ApiError("timeout", "The server took more than " +
        plural(Math.max(1, Math.round(timeoutMs / 1000)), "second", "seconds") +
        " to answer, so the request was stopped. The server may be busy.");
    }
    if (err instanceof ApiError) return err;
    if (err && err.name === "AbortError") return new ApiError("cancelled", "You cancelled this question.");
    return new ApiError("network", "Could not reach the server. Check that it is running and that you are online.");
  }

  function httpFallbackMessage(status) {
    if (status === 404) return "The server does not know this address (HTTP 404).";
    if (status === 429) return "The server is busy (HTTP 429). Wait a moment and try again.";
    if (status >= 500) return "The server had a problem answering (HTTP " + status + ").";
    return "The server refused the request (HTTP " + status + ").";
  }

  // ---------------------------------------------------------------- state

  var state = {
    turns: [],          // {id, question, filters, status, response, error, elapsedMs}
    active: null,       // {turnId, controller}
    filters: { date_from: "", date_to: "", source: "" },
    health: null,
    panel: null,        // {release_id, title, date, url, source, passage, highlights, label, opener}
    releaseCache: {},
  };

  function loadStored() {
    try {
      var raw = window.localStorage.getItem(STORAGE_KEY);
      if (raw) {
        var data = JSON.parse(raw);
        if (data && Array.isArray(data.turns)) {
          state.turns = data.turns.filter(function (t) {
            return t && typeof t.id === "string" && typeof t.question === "string";
          }).map(function (t) {
            if (t.status === "pending") {
              t.status = "error";
              t.error = { kind: "interrupted", message: "This question was interrupted before its answer arrived (the page was closed or reloaded)." };
            }
            return t;
          });
        }
      }
    } catch (e) {
      state.turns = [];
    }
    try {
      var f = JSON.parse(window.localStorage.getItem(FILTER_KEY) || "null");
      if (f && typeof f === "object") {
        state.filters.date_from = isoDate(f.date_from) || "";
        state.filters.date_to = isoDate(f.date_to) || "";
        state.filters.source = typeof f.source === "string" ? f.source.trim().slice(0, 200) : "";
      }
    } catch (e) { /* ignore */ }
  }

  function saveTurns() {
    var turns = state.turns.slice(-MAX_STORED_TURNS);
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ version: 1, turns: turns }));
    } catch (e) {
      // Storage full: keep the conversation but drop the bulky passages.
      try {
        var slim = turns.map(function (t) {
          if (!t.response || !Array.isArray(t.response.sources)) return t;
          var r = Object.assign({}, t.response);
          r.sources = r.sources.map(function (s) {
            return Object.assign({}, s, { passage: "", highlights: [] });
          });
          return Object.assign({}, t, { response: r });
        });
        window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ version: 1, turns: slim }));
      } catch (e2) { /* storage unavailable: the thread just won't survive a reload */ }
    }
  }

  function saveFilters() {
    try {
      window.localStorage.setItem(FILTER_KEY, JSON.stringify(state.filters));
    } catch (e) { /* ignore */ }
  }

  function findTurn(id) {
    for (var i = 0; i < state.turns.length; i++) if (state.turns[i].id === id) return state.turns[i];
    return null;
  }

  /* Conversation sent as `history`: the answered turns before `turnId`. */
  function historyBefore(turnId) {
    var messages = [];
    for (var i = 0; i < state.turns.length; i++) {
      var t = state.turns[i];
      if (t.id === turnId) break;
      if (t.status !== "done" || !t.response) continue;
      var answer = str(t.response.answer) || str(t.response.message);
      messages.push({ role: "user", content: t.question });
      messages.push({ role: "assistant", content: answer });
    }
    return messages.slice(-MAX_HISTORY_MESSAGES);
  }

  function activeFilters(filters) {
    var out = {};
    if (!filters) return out;
    ["date_from", "date_to", "source"].forEach(function (key) {
      var v = filters[key];
      if (typeof v === "string" && v.trim()) out[key] = v.trim();
    });
    return out;
  }

  function sameFilters(a, b) {
    var x = activeFilters(a), y = activeFilters(b);
    var keys = Object.keys(x).concat(Object.keys(y));
    return keys.every(function (k) { return x[k] === y[k]; });
  }

  function describeFilters(filters) {
    var f = activeFilters(filters);
    var parts = [];
    if (f.date_from && f.date_to) parts.push(f.date_from + " to " + f.date_to);
    else if (f.date_from) parts.push("from " + f.date_from);
    else if (f.date_to) parts.push("up to " + f.date_to);
    if (f.source) parts.push("source " + f.source);
    return parts.join(", ");
  }

  // ---------------------------------------------------------------- health

  function loadHealth() {
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

  // ---------------------------------------------------------------- thread rendering

  var thread, emptyState;

  function renderThread() {
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

  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/[^a-zA-Z0-9_-]/g, "");
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
    return h("article", { class: quiet ? "error quiet" : "error", "aria-label": "Error" },
      h("h2", { class: "error-title" }, title),
      h("p", { class: "error-message" }, message),
      h("div", { class: "actions" }, retry));
  }

  /* Group `sentences` into paragraphs, lists and headings, keeping order. */
  function renderAnswerBody(response, turn) {
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

  function sourceMap(response) {
    var map = {};
    (Array.isArray(response.sources) ? response.sources : []).forEach(function (s) {
      if (s && s.n !== undefined) map[String(s.n)] = s;
    });
    return map;
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

  function renderQueryNote(turn) {
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
    var actions = h("div", { class: "actions" }, copy);
    if (typeof turn.elapsedMs === "number") {
      actions.appendChild(h("span", { class: "elapsed" }, "answered in " + (turn.elapsedMs < 1000 ? Math.round(turn.elapsedMs) + " ms" : (turn.elapsedMs / 1000).toFixed(1) + " s")));
    }
    return actions;
  }

  function renderAnswer(turn) {
    var r = turn.response || {};
    return h("article", { class: "answer", "data-turn-id": turn.id, "aria-label": "Answer" },
      h("h2", { class: "sr-only" }, "Answer"),
      renderAnswerBody(r, turn),
      renderQueryNote(turn),
      renderSources(r, turn),
      renderTimeline(turn),
      answerActions(turn));
  }

  function renderAbstained(turn) {
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

  function openSuggestion(s, opener) {
    openPanel({
      release_id: s.release_id, title: s.title, date: s.date, url: s.url, source: s.source,
      passage: null, highlights: [], label: "Suggested release", opener: opener, autoload: true,
    });
  }

  // ---------------------------------------------------------------- timeline

  var TIMELINE_GAP = 7;      // % of the axis two points in one lane keep between them
  var TIMELINE_LANE_REM = 2; // height of one lane of points
  var DAY_MS = 86400000;

  function dayNumber(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!m) return NaN;
    var t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return isFinite(t) ? Math.round(t / DAY_MS) : NaN;
  }

  function formatDay(iso) {
    var t = dayNumber(iso);
    if (!isFinite(t)) return str(iso);
    try {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(t * DAY_MS));
    } catch (e) {
      return iso;
    }
  }

  /* A small horizontal timeline of the answer's sources (or, for an abstention, of the
   * suggested releases): one focusable point per dated release, placed by its date;
   * undated ones are listed after the axis. Points open their release in the panel. */
  function renderTimeline(turn) {
    var r = turn.response || {};
    var suggested = !!r.abstained;
    var list = (suggested ? r.suggestions : r.sources);
    list = Array.isArray(list) ? list.filter(function (s) { return s && typeof s === "object"; }) : [];
    var dated = [], undated = [];
    list.forEach(function (s, i) {
      var d = isoDate(s.date);
      var day = d ? dayNumber(d) : NaN;
      (isFinite(day) ? dated : undated).push({ s: s, i: i, date: d, day: day });
    });
    if (!dated.length) return null; // nothing to place in time
    dated.sort(function (a, b) { return a.day - b.day || a.i - b.i; });
    var min = dated[0].day, max = dated[dated.length - 1].day, span = max - min;

    // Lanes: a point goes up a lane when it would overlap the previous one in its lane.
    var lanesEnd = [];
    dated.forEach(function (item) {
      item.pos = span ? ((item.day - min) / span) * 100 : 50;
      var lane = 0;
      while (lane < lanesEnd.length && item.pos - lanesEnd[lane] < TIMELINE_GAP) lane++;
      lanesEnd[lane] = item.pos;
      item.lane = lane;
    });

    var what = suggested ? "suggested release" : "source";
    var caption = h("p", { class: "timeline-caption", "aria-hidden": "true" });
    var defaultCaption = "Select a point to read its " + what + ".";
    caption.textContent = defaultCaption;

    var pointFor = function (item, undatedPoint) {
      var s = item.s;
      var title = str(s.title) || "Untitled release";
      var label = suggested ? "Suggested release: " + title : "Source " + s.n + ": " + title;
      label += item.date ? ", published " + formatDay(item.date) : ", no date";
      var attrs = {
        type: "button", class: "timeline-point" + (suggested ? " suggested" : "") + (undatedPoint ? " undated" : ""),
        "aria-label": label, title: title + (item.date ? " (" + item.date + ")" : ""),
        "aria-controls": "source-panel", "data-date": item.date || null,
      };
      if (!suggested) {
        attrs["data-n"] = String(s.n);
        attrs["data-turn-id"] = turn.id;
      }
      var btn = h("button", attrs, suggested ? h("span", { class: "ring", "aria-hidden": "true" }) : String(s.n));
      if (suggested) btn.addEventListener("click", function () { openSuggestion(s, btn); });
      var show = function () { caption.textContent = title + (item.date ? " · " + formatDay(item.date) : ""); };
      var reset = function () { caption.textContent = defaultCaption; };
      btn.addEventListener("focus", show);
      btn.addEventListener("mouseenter", show);
      btn.addEventListener("blur", reset);
      btn.addEventListener("mouseleave", reset);
      return btn;
    };

    var ticks = yearTicks(min, max);
    // Room under the axis for the year labels, when there are any.
    var base = ticks.some(function (t) { return t.label; }) ? 1.1 : 0.2;
    var points = h("ol", { class: "timeline-points" });
    dated.forEach(function (item) {
      var li = h("li", { class: "timeline-item" }, pointFor(item, false));
      // CSSOM, not style attributes: allowed by the page's Content-Security-Policy.
      li.style.left = item.pos.toFixed(3) + "%";
      li.style.bottom = (base + item.lane * TIMELINE_LANE_REM) + "rem";
      points.appendChild(li);
    });

    var track = h("div", { class: "timeline-track" });
    track.style.height = (base + lanesEnd.length * TIMELINE_LANE_REM) + "rem";
    var axis = h("div", { class: "timeline-axis", "aria-hidden": "true" });
    axis.style.bottom = (base + 0.85) + "rem";
    ticks.forEach(function (tick) {
      var mark = h("span", { class: "timeline-tick" }, tick.label ? h("span", { class: "timeline-year" }, tick.label) : null);
      mark.style.left = tick.pos.toFixed(3) + "%";
      axis.appendChild(mark);
    });
    track.appendChild(axis);
    track.appendChild(points);

    var scale = h("div", { class: "timeline-scale" + (span ? "" : " single"), "aria-hidden": "true" },
      h("span", null, dated[0].date), span ? h("span", null, dated[dated.length - 1].date) : null);

    var undatedRow = null;
    if (undated.length) {
      var ul = h("ul", { class: "timeline-undated-list" });
      undated.forEach(function (item) { ul.appendChild(h("li", null, pointFor(item, true))); });
      undatedRow = h("div", { class: "timeline-undated" },
        h("span", { class: "muted" }, "No date:"), ul);
    }

    var headingText = suggested ? "When the suggested releases were published" : "When the sources were published";
    return h("section", { class: "timeline", "aria-label": "Timeline: " + headingText.toLowerCase() },
      h("h3", { class: "section-label" }, headingText),
      h("p", { class: "sr-only" }, plural(dated.length, "dated " + what, "dated " + what + "s") +
        (span ? " from " + formatDay(dated[0].date) + " to " + formatDay(dated[dated.length - 1].date)
          : " on " + formatDay(dated[0].date)) +
        (undated.length ? ", " + plural(undated.length, "undated one", "undated ones") : "") + "."),
      track, scale, caption, undatedRow);
  }

  /* Year boundaries inside (min, max] as axis ticks, at most 4 of them labelled. */
  function yearTicks(min, max) {
    if (max <= min) return [];
    var first = new Date(min * DAY_MS).getUTCFullYear() + 1;
    var last = new Date(max * DAY_MS).getUTCFullYear();
    var ticks = [];
    for (var y = first; y <= last; y++) {
      var day = Math.round(Date.UTC(y, 0, 1) / DAY_MS);
      ticks.push({ year: y, pos: ((day - min) / (max - min)) * 100 });
    }
    if (ticks.length > 40) ticks = ticks.filter(function (t) { return t.year % 10 === 0; });
    var every = Math.max(1, Math.ceil(ticks.length / 4));
    ticks.forEach(function (t, i) {
      if (i % every === 0 && t.pos > 12 && t.pos < 88) t.label = String(t.year);
    });
    return ticks;
  }

  // ---------------------------------------------------------------- asking

  var questionEl, sendEl, hintEl;
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
    var payload = { question: turn.question, history: historyBefore(turn.id) };
    var f = activeFilters(turn.filters);
    if (Object.keys(f).length) payload.filters = f;
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

  function queryTimeout() {
    var override = Number(window.RELEASES_QA_QUERY_TIMEOUT_MS);
    return isFinite(override) && override > 0 ? override : QUERY_TIMEOUT_MS;
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

  function newChat() {
    if (state.active) {
      var ctrl = state.active.controller;
      state.active = null;
      ctrl.abort();
    }
    state.turns = [];
    saveTurns();
    setBusy(false);
    closePanel(false);
    renderThread();
    setHint("");
    questionEl.focus();
    announce("New chat started.");
  }

  function scrollIntoViewSoft(el, toTop) {
    window.requestAnimationFrame(function () {
      var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      el.scrollIntoView({ block: toTop ? "start" : "end", behavior: reduce ? "auto" : "smooth" });
    });
  }

  function autosize() {
    questionEl.style.height = "auto";
    var max = 200;
    questionEl.style.height = Math.min(questionEl.scrollHeight + 2, max) + "px";
    questionEl.style.overflowY = questionEl.scrollHeight > max ? "auto" : "hidden";
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

  // ---------------------------------------------------------------- source panel

  var panel;

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

  function closePanel(restoreFocus) {
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
  function appendHighlighted(parent, text, ranges) {
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

  // ---------------------------------------------------------------- filters

  var fromEl, toEl, sourceEl;

  /* The index's sources, when GET /api/health lists them (index.sources: a list of names, or
   * an object of name -> count). The source filter shows only when there are several. */
  function renderSourceOptions(list) {
    var names = [];
    if (Array.isArray(list)) {
      list.forEach(function (x) {
        var name = typeof x === "string" ? x : x && typeof x === "object" ? str(x.name || x.source) : "";
        if (name.trim()) names.push(name.trim());
      });
    } else if (list && typeof list === "object") {
      names = Object.keys(list).filter(function (k) { return k.trim(); });
    }
    names = names.filter(function (n, i) { return names.indexOf(n) === i; }).sort();
    var current = state.filters.source;
    clear(sourceEl);
    sourceEl.appendChild(h("option", { value: "" }, "All sources"));
    names.forEach(function (n) { sourceEl.appendChild(h("option", { value: n }, n)); });
    if (current) ensureSourceOption(current);
    sourceEl.value = current || "";
    $("source-field").hidden = names.length < 2 && !current;
  }

  function ensureSourceOption(name) {
    for (var i = 0; i < sourceEl.options.length; i++) if (sourceEl.options[i].value === name) return;
    sourceEl.appendChild(h("option", { value: name }, name));
  }

  function validateFilters() {
    var f = state.filters;
    if (f.date_from && !isoDate(f.date_from)) return "The 'from' date is not a valid date.";
    if (f.date_to && !isoDate(f.date_to)) return "The 'to' date is not a valid date.";
    if (f.date_from && f.date_to && f.date_from > f.date_to) return "The 'from' date is after the 'to' date.";
    return "";
  }

  function readFilterInputs() {
    state.filters.date_from = fromEl.value || "";
    state.filters.date_to = toEl.value || "";
    state.filters.source = sourceEl.value || "";
    toEl.min = fromEl.value || "";
    fromEl.max = toEl.value || "";
    var problem = validateFilters();
    $("filter-error").textContent = problem;
    saveFilters();
    renderChips();
  }

  function renderChips() {
    var chips = $("filter-chips");
    clear(chips);
    var f = state.filters;
    [["date_from", "From " + f.date_from, fromEl], ["date_to", "To " + f.date_to, toEl],
      ["source", "Source " + f.source, sourceEl]].forEach(function (c) {
      if (!f[c[0]]) return;
      var btn = h("button", { type: "button", class: "chip", "aria-label": "Remove filter: " + c[1] },
        h("span", null, c[1]), h("span", { class: "chip-x", "aria-hidden": "true" }, "×"));
      btn.addEventListener("click", function () {
        c[2].value = "";
        readFilterInputs();
        questionEl.focus();
        announce("Filter removed.");
      });
      chips.appendChild(h("li", null, btn));
    });
    chips.hidden = !chips.firstChild;
  }

  function showFilterFields(show) {
    var fields = $("filter-fields");
    var toggle = $("filter-toggle");
    fields.hidden = !show;
    toggle.setAttribute("aria-expanded", show ? "true" : "false");
    toggle.textContent = show ? "Hide filters" : "Filters";
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    thread = $("thread");
    emptyState = $("empty-state");
    panel = $("source-panel");
    questionEl = $("question");
    sendEl = $("send");
    hintEl = $("composer-hint");
    fromEl = $("date-from");
    toEl = $("date-to");
    sourceEl = $("source-filter");

    loadStored();
    fromEl.value = state.filters.date_from;
    toEl.value = state.filters.date_to;
    if (state.filters.source) {
      ensureSourceOption(state.filters.source);
      sourceEl.value = state.filters.source;
      $("source-field").hidden = false;
    }
    readFilterInputs();
    renderThread();
    if (state.turns.length) {
      var last = thread.lastElementChild;
      if (last) last.scrollIntoView({ block: "end" });
    }

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
    $("new-chat").addEventListener("click", newChat);
    $("index-recheck").addEventListener("click", loadHealth);
    thread.addEventListener("click", onThreadClick);
    $("source-close").addEventListener("click", function () { closePanel(true); });
    $("release-toggle").addEventListener("click", toggleRelease);
    $("filter-toggle").addEventListener("click", function () {
      var show = $("filter-fields").hidden;
      showFilterFields(show);
      if (show) fromEl.focus();
    });
    $("filter-clear").addEventListener("click", function () {
      fromEl.value = "";
      toEl.value = "";
      sourceEl.value = "";
      readFilterInputs();
      fromEl.focus();
    });
    fromEl.addEventListener("change", readFilterInputs);
    toEl.addEventListener("change", readFilterInputs);
    fromEl.addEventListener("input", readFilterInputs);
    toEl.addEventListener("input", readFilterInputs);
    sourceEl.addEventListener("change", readFilterInputs);

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
    autosize();
    loadHealth();
    questionEl.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
