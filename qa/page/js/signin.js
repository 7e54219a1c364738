/* Sign-in with an access token, for a server started with QA_API_TOKENS.
 *
 * The token is sent once, to POST /api/session, which answers with an HttpOnly cookie
 * that this page cannot read and that the browser sends with every later request; the
 * page keeps no copy of the token. There is one sign-in form: shown above the thread when
 * the page learns that it needs one, or moved into the reply of a question that was
 * refused (HTTP 401), which is asked again once signed in.
 */

import { onUnauthorized, SMALL_TIMEOUT_MS } from "./api.js";
import { $, announce, h } from "./dom.js";

var form = null;
var input, errorEl, submitEl;
var then = null; // what to do once signed in
var busy = false;

function build() {
  input = h("input", {
    type: "password", id: "signin-token", name: "token", autocomplete: "current-password",
    spellcheck: "false", "aria-describedby": "signin-text signin-error",
  });
  errorEl = h("p", { id: "signin-error", class: "signin-error", role: "alert" });
  submitEl = h("button", { type: "submit", class: "button primary" }, "Sign in");
  form = h("form", { id: "signin", class: "signin", "aria-labelledby": "signin-title", novalidate: true },
    h("h2", { id: "signin-title", class: "signin-title" }, "Sign in"),
    h("p", { id: "signin-text", class: "signin-text" },
      "This server needs an access token. Ask whoever runs it for one."),
    h("div", { class: "signin-row" },
      h("div", { class: "field" }, h("label", { for: "signin-token" }, "Access token"), input),
      submitEl),
    errorEl);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit();
  });
}

/* The sign-in form, to be placed by the caller; `next` runs once signed in. */
export function signInForm(next) {
  if (!form) build();
  then = next || null;
  errorEl.textContent = "";
  window.setTimeout(function () {
    if (document.body.contains(form)) input.focus();
  }, 0);
  return form;
}

/* Show the form above the thread, unless it is already on the page. */
export function requireSignIn() {
  if (form && document.body.contains(form)) return;
  $("main").insertBefore(signInForm(null), $("thread"));
}

function submit() {
  if (busy) return;
  var token = input.value.trim();
  if (!token) {
    errorEl.textContent = "Enter the access token.";
    input.focus();
    return;
  }
  busy = true;
  submitEl.setAttribute("aria-disabled", "true");
  errorEl.textContent = "";
  var controller = new AbortController();
  var timer = window.setTimeout(function () { controller.abort(); }, SMALL_TIMEOUT_MS);
  fetch("/api/session", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ token: token }),
    credentials: "same-origin",
    signal: controller.signal,
  }).then(function (response) {
    if (response.ok) return signedIn();
    errorEl.textContent = response.status === 401
      ? "That access token was not accepted. Check it and try again."
      : response.status === 429 ? "Too many attempts (HTTP 429). Wait a moment and try again."
        : "The server refused the sign-in (HTTP " + response.status + ").";
    input.select();
  }, function () {
    errorEl.textContent = "Could not reach the server. Check that it is running and that you are online.";
  }).finally(function () {
    window.clearTimeout(timer);
    busy = false;
    submitEl.setAttribute("aria-disabled", "false");
  });
}

function signedIn() {
  input.value = "";
  if (form.parentNode) form.parentNode.removeChild(form);
  announce("Signed in.");
  var next = then;
  then = null;
  if (next) next();
  else $("question").focus();
}

/* Show the form whenever a request is refused for want of a token, and at once if the
 * server needs one that this browser has not signed in with. */
export function initSignIn() {
  onUnauthorized(requireSignIn);
  fetch("/api/session", { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (body) {
      if (body && body.required === true && body.signed_in !== true) requireSignIn();
    })
    .catch(function () { /* the index status already reports an unreachable server */ });
}
