/* The page's state, shared by the modules, and what of it survives a reload
 * (the conversation and the filters, in localStorage).
 */

import { isoDate } from "./text.js";

var STORAGE_KEY = "releases-qa:conversation:v1";
var FILTER_KEY = "releases-qa:filters:v1";
export const MAX_STORED_TURNS = 50;

export var state = {
  turns: [],          // {id, question, filters, status, response, error, elapsedMs}
  active: null,       // {turnId, controller}
  filters: { date_from: "", date_to: "", source: "" },
  health: null,
  panel: null,        // {release_id, title, date, url, source, passage, highlights, label, opener}
  releaseCache: {},
};

export function loadStored() {
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

export function saveTurns() {
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

export function saveFilters() {
  try {
    window.localStorage.setItem(FILTER_KEY, JSON.stringify(state.filters));
  } catch (e) { /* ignore */ }
}

export function findTurn(id) {
  for (var i = 0; i < state.turns.length; i++) if (state.turns[i].id === id) return state.turns[i];
  return null;
}
