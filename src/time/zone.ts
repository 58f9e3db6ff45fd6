// Zones and days: the asker's local calendar, DST-aware through TZDate. Every module that
// turns instants into local days, or local days into instants, asks this one.
import { TZDate } from "@date-fns/tz";
import { addDays, format, startOfDay, subDays } from "date-fns";

export function dayStart(d: Date, tz: string): TZDate {
  return startOfDay(new TZDate(d.getTime(), tz));
}

/** Local calendar day [start, end) containing the instant. */
export function localDay(d: Date, tz: string): { from: Date; to: Date } {
  const from = dayStart(d, tz);
  return { from: new Date(from.getTime()), to: new Date(addDays(from, 1).getTime()) };
}

/** The local day of a YYYY-MM-DD date in the zone. */
export function localDate(ymd: string, tz: string): { from: Date; to: Date } {
  const [y, m, d] = ymd.split("-").map(Number) as [number, number, number];
  const from = new TZDate(y, m - 1, d, tz);
  return { from: new Date(from.getTime()), to: new Date(addDays(from, 1).getTime()) };
}

export function formatDay(d: Date, tz: string): string {
  return format(new TZDate(d.getTime(), tz), "EEE d MMM");
}

export function formatTime(d: Date, tz: string): string {
  return format(new TZDate(d.getTime(), tz), "HH:mm");
}

export function formatDateTime(d: Date, tz: string, now?: Date): string {
  const local = new TZDate(d.getTime(), tz);
  if (now && dayStart(now, tz).getTime() === dayStart(d, tz).getTime())
    return `today ${format(local, "HH:mm")}`;
  if (
    now &&
    dayStart(subDays(new TZDate(now.getTime(), tz), 1), tz).getTime() === dayStart(d, tz).getTime()
  ) {
    return `yesterday ${format(local, "HH:mm")}`;
  }
  return format(local, "EEE d MMM HH:mm");
}

/** The local calendar date of an instant, "YYYY-MM-DD". */
export function localYmd(d: Date, tz: string): string {
  return format(new TZDate(d.getTime(), tz), "yyyy-MM-dd");
}
