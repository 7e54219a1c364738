/* The date and source filters: the inputs above the composer, the chips that show the
 * active ones, and the helpers that compare and describe a set of filters.
 */

import { $, announce, clear, h } from "./dom.js";
import { saveFilters, state } from "./state.js";
import { isoDate, str } from "./text.js";

var fromEl, toEl, sourceEl, questionEl;

export function activeFilters(filters) {
  var out = {};
  if (!filters) return out;
  ["date_from", "date_to", "source"].forEach(function (key) {
    var v = filters[key];
    if (typeof v === "string" && v.trim()) out[key] = v.trim();
  });
  return out;
}

export function sameFilters(a, b) {
  var x = activeFilters(a), y = activeFilters(b);
  var keys = Object.keys(x).concat(Object.keys(y));
  return keys.every(function (k) { return x[k] === y[k]; });
}

export function describeFilters(filters) {
  var f = activeFilters(filters);
  var parts = [];
  if (f.date_from && f.date_to) parts.push(f.date_from + " to " + f.date_to);
  else if (f.date_from) parts.push("from " + f.date_from);
  else if (f.date_to) parts.push("up to " + f.date_to);
  if (f.source) parts.push("source " + f.source);
  return parts.join(", ");
}

/* The index's sources, when GET /api/health lists them (index.sources: a list of names, or
 * an object of name -> count). The source filter shows only when there are several. */
export function renderSourceOptions(list) {
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

export function validateFilters() {
  var f = state.filters;
  if (f.date_from && !isoDate(f.date_from)) return "The 'from' date is not a valid date.";
  if (f.date_to && !isoDate(f.date_to)) return "The 'to' date is not a valid date.";
  if (f.date_from && f.date_to && f.date_from > f.date_to) return "The 'from' date is after the 'to' date.";
  return "";
}

export function readFilterInputs() {
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

export function showFilterFields(show) {
  var fields = $("filter-fields");
  var toggle = $("filter-toggle");
  fields.hidden = !show;
  toggle.setAttribute("aria-expanded", show ? "true" : "false");
  toggle.textContent = show ? "Hide filters" : "Filters";
}

/* Look up the filter inputs; called once the page is parsed. */
export function initFilters() {
  fromEl = $("date-from");
  toEl = $("date-to");
  sourceEl = $("source-filter");
  questionEl = $("question");
}

/* Put the stored filters (state.filters, read by loadStored) back into the inputs. */
export function restoreFilterInputs() {
  fromEl.value = state.filters.date_from;
  toEl.value = state.filters.date_to;
  if (state.filters.source) {
    ensureSourceOption(state.filters.source);
    sourceEl.value = state.filters.source;
    $("source-field").hidden = false;
  }
  readFilterInputs();
}

export function wireFilters() {
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
}
