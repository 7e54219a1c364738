/* Copying text: the asynchronous Clipboard API when the browser offers it (a secure
 * context), else the caller shows the text to select and copy by hand. */

import { h } from "./dom.js";

/* Resolves with true once `text` is on the clipboard, false when it could not be put there. */
export function copyText(text) {
  if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
    return Promise.resolve(false);
  }
  try {
    return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return false; });
  } catch (e) {
    return Promise.resolve(false);
  }
}

/* A read-only text area with `text`, labelled, for copying by hand; it is selected once shown. */
export function manualCopyBox(id, label, text) {
  var area = h("textarea", { id: id, class: "manual-copy-text", readonly: true, rows: "8", spellcheck: "false" });
  area.value = text;
  var box = h("div", { class: "manual-copy" },
    h("label", { for: id, class: "manual-copy-label" }, label), area);
  return box;
}

/* Select the text of a box made by manualCopyBox, and move focus to it. */
export function selectManualCopy(box) {
  var area = box.querySelector("textarea");
  if (!area) return;
  area.focus();
  area.select();
}

/* Show `label` on `button` for a moment, then its usual text again. */
export function flashLabel(button, label, normal) {
  button.textContent = label;
  window.clearTimeout(button._flashTimer);
  button._flashTimer = window.setTimeout(function () { button.textContent = normal; }, 2000);
}
