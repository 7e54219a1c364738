/* Releases QA: the chat page.
 *
 * No framework, no build step: the browser loads these ES modules as they are. Every
 * piece of data that comes from the server (answers, titles, passages, URLs, messages)
 * is inserted through text nodes (textContent / createTextNode); innerHTML is never
 * used. Only absolute http: and https: URLs become links.
 *
 * This module wires the page up. Module scripts are deferred, so it runs once the
 * document is parsed, before DOMContentLoaded, as the classic `defer` script did.
 */

import { initChats } from "./chats.js";
import { initCitations, wirePanel } from "./citations.js";
import { autosize, initConversation, newChat, showStoredThread, wireComposer } from "./conversation.js";
import { $ } from "./dom.js";
import { initFilters, restoreFilterInputs, wireFilters } from "./filters.js";
import { loadHealth } from "./health.js";
import { syncWatchButtons } from "./share.js";
import { initSignIn } from "./signin.js";
import { loadStored } from "./state.js";
import { initWatches } from "./watches.js";

function init() {
  initConversation();
  initCitations();
  initFilters();

  loadStored();
  restoreFilterInputs();
  showStoredThread();

  wireComposer();
  $("new-chat").addEventListener("click", newChat);
  $("index-recheck").addEventListener("click", loadHealth);
  wirePanel();
  wireFilters();
  autosize();
  loadHealth();
  $("question").focus();
  initSignIn();
  initChats();
  document.addEventListener("qa:watches", function () { syncWatchButtons($("thread")); });
  initWatches();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
