/* The page's state, shared by the modules, and what of it survives a reload (in
 * localStorage): the chats kept in this browser, which one is open, and the filters.
 *
 * Each chat is one storage entry, "releases-qa:chat:v1:<id>" -> {version, id, title,
 * created_at, updated_at, turns}; "releases-qa:current-chat:v1" names the open one. A chat
 * is stored once it has a question (its title is the first one). At most MAX_CHATS are kept:
 * the least recently used go first, and so do they when the storage is full. An entry that
 * cannot be read is dropped; it never stops the page.
 */

import { isoDate, uid } from "./text.js";

var LEGACY_KEY = "releases-qa:conversation:v1"; // the single thread of earlier versions
var CHAT_PREFIX = "releases-qa:chat:v1:";
var CURRENT_KEY = "releases-qa:current-chat:v1";
var FILTER_KEY = "releases-qa:filters:v1";
export const MAX_STORED_TURNS = 50;
export const MAX_CHATS = 50;
var MAX_HISTORY_MESSAGES = 20; // the last 10 question/answer pairs
var TITLE_CHARS = 200;

export var state = {
  turns: [],          // {id, question, filters, status, response, error, elapsedMs, sent, kept, watchId}
  chatId: null,       // the open chat
  chatCreated: null,  // when it was started (ISO)
  active: null,       // {turnId, controller}
  filters: { date_from: "", date_to: "", source: "" },
  health: null,
  panel: null,        // {release_id, title, date, url, source, passage, highlights, label, opener}
  releaseCache: {},
};

function storage() {
  try {
    return window.localStorage;
  } catch (e) {
    return null; // storage disabled (privacy settings): nothing survives a reload
  }
}

function validId(id) {
  return typeof id === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

/* The turns of a stored chat, checked; a question that was still waiting for its answer
 * when the page went away is marked as interrupted. */
function cleanTurns(turns) {
  if (!Array.isArray(turns)) return [];
  return turns.filter(function (t) {
    return t && typeof t === "object" && typeof t.id === "string" && typeof t.question === "string";
  }).map(function (t) {
    if (t.status === "pending") {
      t.status = "error";
      t.error = { kind: "interrupted", message: "This question was interrupted before its answer arrived (the page was closed or reloaded)." };
    }
    return t;
  }).slice(-MAX_STORED_TURNS);
}

function readChat(id) {
  var store = storage();
  if (!store || !validId(id)) return null;
  var raw;
  try {
    raw = store.getItem(CHAT_PREFIX + id);
  } catch (e) {
    return null;
  }
  if (raw === null) return null;
  try {
    var data = JSON.parse(raw);
    if (data && typeof data === "object" && Array.isArray(data.turns)) {
      var turns = cleanTurns(data.turns);
      if (turns.length) {
        return {
          id: id, turns: turns, title: chatTitle(data.title, turns),
          created_at: typeof data.created_at === "string" ? data.created_at : "",
          updated_at: typeof data.updated_at === "string" ? data.updated_at : "",
        };
      }
    }
  } catch (e) { /* unreadable: dropped below */ }
  try { store.removeItem(CHAT_PREFIX + id); } catch (e) { /* ignore */ }
  return null;
}

function chatTitle(title, turns) {
  var t = typeof title === "string" && title.trim() ? title : turns.length ? turns[0].question : "";
  t = t.replace(/\s+/g, " ").trim();
  return t.length > TITLE_CHARS ? t.slice(0, TITLE_CHARS - 1) + "…" : t;
}

function storedChatIds() {
  var store = storage();
  var ids = [];
  if (!store) return ids;
  try {
    for (var i = 0; i < store.length; i++) {
      var key = store.key(i);
      if (key && key.indexOf(CHAT_PREFIX) === 0) ids.push(key.slice(CHAT_PREFIX.length));
    }
  } catch (e) { /* ignore */ }
  return ids;
}

/* The stored chats, most recently used first: {id, title, created_at, updated_at, questions}.
 * Unreadable entries are removed, and so are the oldest beyond MAX_CHATS. */
export function listChats() {
  var chats = [];
  storedChatIds().forEach(function (id) {
    var chat = readChat(id);
    if (chat) {
      chats.push({ id: id, title: chat.title, created_at: chat.created_at,
        updated_at: chat.updated_at || chat.created_at, questions: chat.turns.length });
    }
  });
  chats.sort(function (a, b) {
    return a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0;
  });
  var keep = [];
  chats.forEach(function (c) {
    if (keep.length < MAX_CHATS || c.id === state.chatId) keep.push(c);
    else removeChat(c.id);
  });
  if (keep.length > MAX_CHATS) {
    // The open chat was among the oldest: drop one more of the others.
    for (var i = keep.length - 1; i >= 0; i--) {
      if (keep[i].id !== state.chatId) { removeChat(keep[i].id); keep.splice(i, 1); break; }
    }
  }
  return keep;
}

function removeChat(id) {
  var store = storage();
  if (!store) return;
  try { store.removeItem(CHAT_PREFIX + id); } catch (e) { /* ignore */ }
}

function saveCurrentId() {
  var store = storage();
  if (!store) return;
  try { store.setItem(CURRENT_KEY, state.chatId); } catch (e) { /* ignore */ }
}

function setCurrent(chat) {
  state.chatId = chat ? chat.id : uid();
  state.chatCreated = chat ? chat.created_at || null : null;
  state.turns = chat ? chat.turns : [];
  saveCurrentId();
}

/* Read the open chat and the filters from storage (called once, at start). */
export function loadStored() {
  var store = storage();
  var current = null;
  migrateLegacy(store);
  try {
    current = store ? store.getItem(CURRENT_KEY) : null;
  } catch (e) { current = null; }
  if (validId(current)) {
    state.chatId = current;
    var chat = readChat(current);
    state.turns = chat ? chat.turns : [];
    state.chatCreated = chat ? chat.created_at || null : null;
  } else {
    setCurrent(null);
  }
  try {
    var f = JSON.parse((store && store.getItem(FILTER_KEY)) || "null");
    if (f && typeof f === "object") {
      state.filters.date_from = isoDate(f.date_from) || "";
      state.filters.date_to = isoDate(f.date_to) || "";
      state.filters.source = typeof f.source === "string" ? f.source.trim().slice(0, 200) : "";
    }
  } catch (e) { /* ignore */ }
}

/* The one thread of earlier versions becomes the open chat. */
function migrateLegacy(store) {
  if (!store) return;
  try {
    var raw = store.getItem(LEGACY_KEY);
    if (raw === null) return;
    store.removeItem(LEGACY_KEY);
    var data = JSON.parse(raw);
    var turns = data && cleanTurns(data.turns);
    if (!turns || !turns.length) return;
    state.chatId = uid();
    state.chatCreated = null;
    state.turns = turns;
    saveTurns();
  } catch (e) { /* unreadable: dropped */ }
}

/* Store the open chat (or remove it when it has no question). When the storage is full,
 * the bulky passages go first, then the least recently used other chats. */
export function saveTurns() {
  var store = storage();
  if (!store) return;
  if (!validId(state.chatId)) state.chatId = uid();
  saveCurrentId();
  var turns = state.turns.slice(-MAX_STORED_TURNS);
  var key = CHAT_PREFIX + state.chatId;
  if (!turns.length) {
    removeChat(state.chatId);
    return;
  }
  var isNew = false;
  try { isNew = store.getItem(key) === null; } catch (e) { /* ignore */ }
  var now = new Date().toISOString();
  if (!state.chatCreated) state.chatCreated = now;
  var record = {
    version: 1, id: state.chatId, title: chatTitle("", turns),
    created_at: state.chatCreated, updated_at: now, turns: turns,
  };
  var write = function (rec) {
    try {
      store.setItem(key, JSON.stringify(rec));
      return true;
    } catch (e) {
      return false;
    }
  };
  var ok = write(record);
  if (!ok) {
    record = Object.assign({}, record, { turns: slimTurns(turns) });
    ok = write(record);
  }
  for (var tries = 0; !ok && tries < MAX_CHATS; tries++) {
    var others = listChats().filter(function (c) { return c.id !== state.chatId; });
    if (!others.length) break;
    removeChat(others[others.length - 1].id);
    ok = write(record);
  }
  if (isNew && ok) listChats(); // drops the oldest beyond MAX_CHATS
}

function slimTurns(turns) {
  return turns.map(function (t) {
    var out = Object.assign({}, t);
    if (out.kept) out.kept = Object.assign({}, out.kept, { markdown: null });
    if (!t.response || !Array.isArray(t.response.sources)) return out;
    var r = Object.assign({}, t.response);
    r.sources = r.sources.map(function (s) {
      return Object.assign({}, s, { passage: "", highlights: [] });
    });
    out.response = r;
    return out;
  });
}

/* Start an empty chat; the one that was open stays in the list. */
export function startNewChat() {
  setCurrent(null);
}

/* Make the stored chat `id` the open one; false when it is gone. */
export function openChat(id) {
  var chat = readChat(id);
  if (!chat) return false;
  setCurrent(chat);
  return true;
}

/* Remove a stored chat; removing the open one starts an empty chat. */
export function deleteChat(id) {
  removeChat(id);
  if (id === state.chatId) setCurrent(null);
}

export function saveFilters() {
  var store = storage();
  if (!store) return;
  try {
    store.setItem(FILTER_KEY, JSON.stringify(state.filters));
  } catch (e) { /* ignore */ }
}

export function findTurn(id) {
  for (var i = 0; i < state.turns.length; i++) if (state.turns[i].id === id) return state.turns[i];
  return null;
}

/* The answered turns before `turnId` that go into its `history` (the last ten). */
export function historyTurnIds(turnId) {
  var ids = [];
  for (var i = 0; i < state.turns.length; i++) {
    var t = state.turns[i];
    if (t.id === turnId) break;
    if (t.status !== "done" || !t.response) continue;
    ids.push(t.id);
  }
  return ids.slice(-MAX_HISTORY_MESSAGES / 2);
}

/* `history` messages made of the turns `ids`: null when one of them is gone. */
export function historyMessages(ids) {
  var messages = [];
  for (var i = 0; i < ids.length; i++) {
    var t = findTurn(ids[i]);
    if (!t || !t.response) return null;
    messages.push({ role: "user", content: t.question });
    messages.push({ role: "assistant", content: answerText(t.response) });
  }
  return messages;
}

function answerText(response) {
  var a = typeof response.answer === "string" ? response.answer : "";
  var m = typeof response.message === "string" ? response.message : "";
  return a || m;
}

/* The request a turn's answer came from, as the page sent it: {question, history, filters?}.
 * (Turns stored by earlier versions did not record it: it is rebuilt from the thread.) */
export function sentRequest(turn) {
  var sent = turn.sent && typeof turn.sent === "object" ? turn.sent : null;
  var history = sent && Array.isArray(sent.history) ? historyMessages(sent.history) : null;
  if (!history) history = historyMessages(historyTurnIds(turn.id)) || [];
  var body = { question: turn.question, history: history };
  var filters = sent ? sent.filters : turn.filters;
  if (filters && typeof filters === "object") {
    var f = {};
    ["date_from", "date_to", "source"].forEach(function (k) {
      if (typeof filters[k] === "string" && filters[k].trim()) f[k] = filters[k].trim();
    });
    if (Object.keys(f).length) body.filters = f;
  }
  return body;
}
