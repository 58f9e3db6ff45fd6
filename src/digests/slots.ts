// When a subscription's digests are due, in its own time zone. A slot is a local date at a
// local wall-clock time ("09:00 Europe/Berlin"), turned into an instant with the zone's
// offset on that date, so a daily digest stays at 09:00 across DST changes. Two edges:
// - spring forward: a time inside the skipped hour (02:30 on the last Sunday of March in
//   Berlin) does not exist; the slot moves forward by the gap (03:30) and happens once;
// - fall back: a time inside the repeated hour happens twice on the clock; the slot is the
//   first of the two, once.
// What a slot reports on never depends on when it is sent: a daily slot covers the local
// day before its local date, a weekly slot the 7 local days before it.

// The zone arithmetic below is written out rather than taken from TZDate on purpose: on a
// fall-back day TZDate reads a repeated wall-clock time as the second occurrence, and a
// digest is due at the first.
import { addDaysYmd } from "./period.ts";

export type Cadence = "daily" | "weekly";

export interface SlotSchedule {
  cadence: Cadence;
  /** 0 = Sunday … 6 = Saturday (weekly only). */
  weekday?: number;
  /** "HH:MM", local to `timezone`. */
  localTime: string;
  timezone: string;
}

export interface Slot {
  /** The instant the digest is due. */
  at: Date;
  /** The local calendar date of the slot (YYYY-MM-DD in the zone). */
  localDate: string;
  /** The last local day the digest covers: the day before localDate. */
  reportedDate: string;
  /** 1 for daily, 7 for weekly: the period is the `days` local days ending on reportedDate. */
  days: 1 | 7;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timezone, f);
  }
  return f;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(at: Date, timezone: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of formatter(timezone).formatToParts(at))
    if (p.type !== "literal") out[p.type] = Number(p.value);
  return out as unknown as LocalParts;
}

/** The zone's offset from UTC at an instant, in ms (Berlin in summer: +7,200,000). */
function offsetMs(t: number, timezone: string): number {
  const p = localParts(new Date(t), timezone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** YYYY-MM-DD of an instant in the zone. */
export function localDateOf(at: Date, timezone: string): string {
  const p = localParts(at, timezone);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** A calendar date plus n days (n may be negative); pure date arithmetic, no zone. */
export const addDays = addDaysYmd;

/** 0 = Sunday … 6 = Saturday for a calendar date. */
export function weekdayOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/**
 * The instant a local wall-clock time happens on a local date in the zone: the first of two
 * on a fall-back day, moved forward by the gap when the time is skipped on a spring-forward day.
 */
export function zonedInstant(date: string, localTime: string, timezone: string): Date {
  const [y, mo, d] = date.split("-").map(Number) as [number, number, number];
  const [h, mi] = localTime.split(":").map(Number) as [number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  // The offsets in force half a day either side cover any transition on that date.
  const before = offsetMs(wall - DAY_MS / 2, timezone);
  const after = offsetMs(wall + DAY_MS / 2, timezone);
  const candidates = [wall - before, wall - after]
    .filter((t) => {
      const p = localParts(new Date(t), timezone);
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) === wall;
    })
    .sort((a, b) => a - b);
  // No candidate: the time was skipped; reading it with the earlier offset lands just past the gap.
  return new Date(candidates[0] ?? wall - before);
}

function slotOn(s: SlotSchedule, localDate: string): Slot {
  const days = s.cadence === "weekly" ? 7 : 1;
  return {
    at: zonedInstant(localDate, s.localTime, s.timezone),
    localDate,
    reportedDate: addDays(localDate, -1),
    days,
  };
}

function runsOn(s: SlotSchedule, localDate: string): boolean {
  return s.cadence === "daily" || weekdayOf(localDate) === s.weekday;
}

/** The schedule's slots with from < at ≤ to, in order. */
export function slotsBetween(s: SlotSchedule, from: Date, to: Date): Slot[] {
  const out: Slot[] = [];
  if (to.getTime() <= from.getTime()) return out;
  // A slot's instant can lie up to a day either side of its local date's UTC midnight.
  const last = addDays(localDateOf(to, s.timezone), 1);
  for (let d = addDays(localDateOf(from, s.timezone), -1); d <= last; d = addDays(d, 1)) {
    if (!runsOn(s, d)) continue;
    const slot = slotOn(s, d);
    if (slot.at.getTime() > from.getTime() && slot.at.getTime() <= to.getTime()) out.push(slot);
  }
  return out;
}

/** The first slot strictly after `after`. */
export function nextSlot(s: SlotSchedule, after: Date): Slot {
  for (let d = addDays(localDateOf(after, s.timezone), -1); ; d = addDays(d, 1)) {
    if (!runsOn(s, d)) continue;
    const slot = slotOn(s, d);
    if (slot.at.getTime() > after.getTime()) return slot;
  }
}

/** The last slot at or before `at`, if any within two weeks. */
export function previousSlot(s: SlotSchedule, at: Date): Slot | undefined {
  const slots = slotsBetween(s, new Date(at.getTime() - 15 * DAY_MS), at);
  return slots[slots.length - 1];
}
