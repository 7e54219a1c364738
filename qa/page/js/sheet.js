/* The page's dialogs ("sheets"): the chats kept in this browser and the watched questions.
 * Native modal <dialog>s: the rest of the page is inert while one is open, Escape or the
 * Close button closes it, and focus goes back to what opened it. */

var openers = new WeakMap();

export function openSheet(dialog, opener) {
  if (dialog.open) return;
  openers.set(dialog, opener || document.activeElement);
  dialog.showModal();
  document.body.classList.add("sheet-open");
}

/* Close `dialog`; focus goes back to its opener unless `restoreFocus` is false. */
export function closeSheet(dialog, restoreFocus) {
  if (!dialog.open) return;
  dialog.close();
  document.body.classList.remove("sheet-open");
  var opener = openers.get(dialog);
  openers.delete(dialog);
  if (restoreFocus !== false && opener && document.body.contains(opener) && typeof opener.focus === "function") {
    opener.focus();
  }
}

export function wireSheet(dialog) {
  dialog.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    // Handled here: the source panel's Escape (on the document) must not see it too.
    e.preventDefault();
    e.stopPropagation();
    closeSheet(dialog, true);
  });
  dialog.addEventListener("cancel", function (e) {
    e.preventDefault();
    closeSheet(dialog, true);
  });
  dialog.addEventListener("click", function (e) {
    // A click on the backdrop lands on the dialog element itself.
    if (e.target === dialog) {
      var r = dialog.getBoundingClientRect();
      var inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
      if (!inside) closeSheet(dialog, true);
      return;
    }
    var close = e.target.closest("[data-close]");
    if (close && dialog.contains(close)) closeSheet(dialog, true);
  });
}
