/* Small DOM helpers shared by the modules.
 *
 * Every piece of data that comes from the server is inserted through text nodes
 * (h() and append() make them from strings); innerHTML is never used.
 */

import { isoDate, safeUrl } from "./text.js";

export function $(id) {
  return document.getElementById(id);
}

/* Build an element. attrs: plain attributes (set with setAttribute) plus
 * "class"; children: strings (become text nodes), nodes, arrays, or null. */
export function h(tag, attrs) {
  var el = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "class") el.className = value;
      else if (key === "hidden") el.hidden = true;
      else el.setAttribute(key, value === true ? "" : String(value));
    });
  }
  for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
  return el;
}

export function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    child.forEach(function (c) { append(parent, c); });
  } else if (typeof child === "string" || typeof child === "number") {
    parent.appendChild(document.createTextNode(String(child)));
  } else {
    parent.appendChild(child);
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function externalLink(url, label, cls) {
  var href = safeUrl(url);
  if (!href) return null;
  return h("a", { class: cls || "external", href: href, target: "_blank", rel: "noopener noreferrer" },
    label, h("span", { class: "sr-only" }, " (opens in a new tab)"));
}

export function timeEl(date) {
  var d = isoDate(date);
  return d ? h("time", { datetime: d }, d) : null;
}

export function announce(text) {
  var el = $("announcer");
  el.textContent = "";
  // A fresh text node after a tick makes screen readers read it again.
  window.setTimeout(function () { el.textContent = text; }, 50);
}

export function cssEscape(s) {
  return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/[^a-zA-Z0-9_-]/g, "");
}
