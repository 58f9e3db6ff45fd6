// Small, pure formatting helpers for breach summaries: one line a human reads in Slack or
// on a phone, with times in the zone the expectation was declared in.
import { TZDate } from "@date-fns/tz";
import { format } from "date-fns";

/** 45s, 12m, 2h15m, 3d 5h. */
export function formatSpan(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${String(m % 60).padStart(2, "0")}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** "2026-11-22 02:45 UTC", "2026-11-22 07:45 Europe/Berlin". */
export function formatAt(d: Date, timezone = "UTC"): string {
  return `${format(new TZDate(d.getTime(), timezone), "yyyy-MM-dd HH:mm")} ${timezone}`;
}

/** The UTC day of an instant, YYYY-MM-DD. */
export const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

/** The local calendar day of an instant in a zone, YYYY-MM-DD. */
export function localDayOf(d: Date, timezone: string): string {
  return format(new TZDate(d.getTime(), timezone), "yyyy-MM-dd");
}

/** The instant a local date and "HH:MM" stand for in the zone (DST-aware). */
export function localInstant(ymd: string, hm: string, timezone: string): Date {
  const [y, mo, d] = ymd.split("-").map(Number) as [number, number, number];
  const [h, mi] = hm.split(":").map(Number) as [number, number];
  return new Date(new TZDate(y, mo - 1, d, h, mi, timezone).getTime());
}

/** The day before a YYYY-MM-DD date. */
export function previousDay(ymd: string): string {
  return new Date(Date.parse(`${ymd}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** First line of an error message, at most n characters. */
export function firstLine(text: string | null | undefined, n = 160): string {
  const line = (text ?? "").split("\n")[0]!.trim();
  return line.length > n ? `${line.slice(0, n - 1)}…` : line;
}
