/* The timeline under an answer: when its sources (or suggested releases) were published. */

import { openSuggestion } from "./citations.js";
import { h } from "./dom.js";
import { isoDate, plural, str } from "./text.js";

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
export function renderTimeline(turn) {
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
