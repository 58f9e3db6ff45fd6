// Timestamps as producers really send them: ISO 8601 with a zone, without one (read as
// UTC, as Marquez does), and with up to nanosecond fractions (cut to milliseconds).
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parses an ISO 8601 timestamp; returns a reason string when it is not one. */
export function parseTimestamp(value: unknown): Date | string {
  if (typeof value !== "string") return `expected an ISO 8601 timestamp string, got ${describe(value)}`;
  const m = ISO.exec(value.trim());
  if (!m) return `"${clip(value)}" is not an ISO 8601 timestamp (e.g. 2026-11-03T02:00:00Z)`;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, "0")) : 0;
  let offsetMin = 0;
  if (zone && zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
  }
  const t =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms) - offsetMin * 60_000;
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    Number.isNaN(t) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 60
  ) {
    return `"${clip(value)}" is not a valid date/time`;
  }
  const year = Number(y);
  if (year < 1970 || year > 2200) return `"${clip(value)}" is outside the years 1970–2200`;
  return new Date(t);
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `"${clip(value)}"` : typeof value;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
