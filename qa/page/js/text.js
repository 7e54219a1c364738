/* Plain-value helpers: strings, dates, URLs. No DOM here. */

/* Return a normalised absolute http(s) URL, or null for anything else
 * (javascript:, data:, relative paths, garbage). */
export function safeUrl(value) {
  if (typeof value !== "string" || !value.trim()) return null;
  var url;
  try {
    url = new URL(value.trim());
  } catch (e) {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return url.href;
}

export function str(value) {
  return typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
}

export function isoDate(value) {
  return typeof value === "string" && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : null;
}

export function formatDateTime(iso) {
  if (!iso) return "";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return str(iso);
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(d);
  } catch (e) {
    return d.toLocaleString();
  }
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

export function uid() {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}
