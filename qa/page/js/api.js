/* The API client: fetch with a time-out, the server's JSON error shape
 * ({"error": {"status", "message"}}) and the server-sent events of a streamed answer.
 * Every failure becomes an ApiError with a plain-words message.
 */

import { plural, str } from "./text.js";

var QUERY_TIMEOUT_MS = 30000; // tests may lower it with window.RELEASES_QA_QUERY_TIMEOUT_MS
export const SMALL_TIMEOUT_MS = 15000;
var unauthorized = null; // called on an HTTP 401 (signin.js shows its form)

export function onUnauthorized(handler) {
  unauthorized = handler;
}

export function ApiError(kind, message, status) {
  this.kind = kind; // "network" | "timeout" | "http" | "parse" | "cancelled"
  this.message = message;
  this.status = status || null;
}

/* fetch + JSON with a time-out. Resolves with the parsed body, rejects
 * with an ApiError that carries a plain-words message. */
export function fetchJSON(url, options, timeoutMs, externalController) {
  return timedFetch(url, options, timeoutMs, externalController, readJSONReply);
}

/* A request whose success has no body (HTTP 204): resolves with null, rejects as fetchJSON. */
export function fetchNoContent(url, options, timeoutMs) {
  return timedFetch(url, options, timeoutMs, null, function (response) {
    return response.ok ? null : readJSONReply(response);
  });
}

function timedFetch(url, options, timeoutMs, externalController, read) {
  var controller = externalController || new AbortController();
  var timedOut = false;
  var timer = window.setTimeout(function () {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  var opts = Object.assign({ headers: { Accept: "application/json" } }, options || {});
  opts.signal = controller.signal;
  return fetch(url, opts).then(read, function (err) {
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
export function fetchStream(url, options, timeoutMs, controller, onDelta) {
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
      if (response.status === 401 && unauthorized) unauthorized();
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

export function queryTimeout() {
  var override = Number(window.RELEASES_QA_QUERY_TIMEOUT_MS);
  return isFinite(override) && override > 0 ? override : QUERY_TIMEOUT_MS;
}
