/* The chats kept in this browser: the "Chats" button in the header opens their list (title:
 * the first question; when it was last used), from which one is reopened (its turns come
 * back, and the next question is sent with its history) or deleted, after a confirmation. */

import { forgetChat, reopenChat } from "./conversation.js";
import { $, announce, clear, h } from "./dom.js";
import { closeSheet, openSheet, wireSheet } from "./sheet.js";
import { listChats, state } from "./state.js";
import { formatDateTime, plural } from "./text.js";

var dialog, listEl, openBtn;

function render() {
  clear(listEl);
  var chats = listChats();
  if (!chats.length) {
    listEl.appendChild(h("li", { class: "sheet-empty" },
      "No chats yet. Each new chat is kept here, in this browser, once it has a question."));
    return;
  }
  chats.forEach(function (c) {
    var current = c.id === state.chatId;
    var when = c.updated_at || c.created_at;
    var open = h("button", {
      type: "button", class: "chat-open", "data-id": c.id, "aria-current": current ? "true" : null,
    },
      h("span", { class: "chat-title" }, c.title || "Untitled chat"),
      h("span", { class: "chat-meta" },
        when ? h("time", { datetime: when }, formatDateTime(when)) : null,
        when ? " · " : null, plural(c.questions, "question", "questions"),
        current ? " · open now" : null));
    open.addEventListener("click", function () { reopen(c.id); });
    var del = h("button", {
      type: "button", class: "button secondary small chat-delete", "data-id": c.id,
      "aria-label": "Delete the chat \u201c" + (c.title || "Untitled chat") + "\u201d",
    }, "Delete");
    var item = h("li", { class: "chat-item" + (current ? " is-current" : ""), "data-id": c.id }, open, del);
    del.addEventListener("click", function () { confirmDelete(item, c, del); });
    listEl.appendChild(item);
  });
}

function reopen(id) {
  closeSheet(dialog, false);
  if (!reopenChat(id)) {
    openSheet(dialog, openBtn);
    render();
    announce("That chat is no longer kept in this browser.");
    focusFirst();
  }
}

function confirmDelete(item, chat, del) {
  if (item.querySelector(".chat-confirm")) return;
  var yes = h("button", { type: "button", class: "button small danger chat-confirm-yes" }, "Delete");
  var no = h("button", { type: "button", class: "button secondary small chat-confirm-no" }, "Cancel");
  var box = h("div", { class: "chat-confirm", role: "group", "aria-label": "Confirm deletion" },
    h("span", { class: "chat-confirm-text" }, "Delete this chat? This cannot be undone."), yes, no);
  del.hidden = true;
  item.appendChild(box);
  no.addEventListener("click", function () {
    item.removeChild(box);
    del.hidden = false;
    del.focus();
  });
  yes.addEventListener("click", function () {
    var ids = Array.prototype.map.call(listEl.querySelectorAll("li.chat-item"), function (li) {
      return li.getAttribute("data-id");
    });
    var at = ids.indexOf(chat.id);
    forgetChat(chat.id);
    render();
    announce("Chat deleted.");
    // Focus the chat that took its place, else the one before, else Close.
    var rest = listEl.querySelectorAll("button.chat-open");
    var next = rest[Math.min(at, rest.length - 1)];
    if (next) next.focus();
    else focusFirst();
  });
  no.focus();
}

function focusFirst() {
  var current = listEl.querySelector('button.chat-open[aria-current="true"]');
  var first = current || listEl.querySelector("button.chat-open") || dialog.querySelector("[data-close]");
  if (first) first.focus();
}

export function initChats() {
  dialog = $("chats-dialog");
  listEl = $("chat-list");
  openBtn = $("chats-open");
  wireSheet(dialog);
  openBtn.addEventListener("click", function () {
    render();
    openSheet(dialog, openBtn);
    focusFirst();
  });
}
