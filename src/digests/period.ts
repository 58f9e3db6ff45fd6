// The instants a digest covers. A digest is about local calendar days in the subscription's
// zone, so its bounds are local midnights: a day is 23, 24 or 25 hours long across a DST
// change, and the comparison periods are whole local days too (never "minus 24 h").
import { TZDate } from "@date-fns/tz";
import type { DigestRequest } from "./types.ts";

const DAY_MS = 86_400_000;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface Period {
  /** First local midnight (inclusive). */
  from: Date;
  /** Local midnight after the last day (exclusive). */
  to: Date;
  /** First and last local calendar day, YYYY-MM-DD. */
  firstDay: string;
  lastDay: string;
  days: number;
}

export interface DigestPeriods {
  timezone: string;
  period: Period;
  /** The period just before, of the same length ("vs yesterday", "vs last week"). */
  previous: Period;
  /**
   * The periods before `period` that make its usual level, newest first: the 7 days before
   * a daily digest, the 4 weeks before a weekly one.
   */
  baseline: Period[];
  /** Every local day from the oldest baseline day to the last day, oldest first. */
  span: Period;
}

/** Checks a YYYY-MM-DD string names a real calendar day. */
export function checkDate(ymd: string, field = "date"): void {
  const m = YMD.exec(ymd);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== ymd) {
    throw new RangeError(`${field} must be a calendar day as YYYY-MM-DD, got ${JSON.stringify(ymd)}`);
  }
}

/** Throws a RangeError naming the field when the zone is not an IANA zone Node knows. */
export function checkTimezone(tz: string, field = "timezone"): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new RangeError(
      `${field} must be an IANA time zone such as Europe/Berlin, got ${JSON.stringify(tz)}`,
    );
  }
}

/** YYYY-MM-DD moved by n calendar days (calendar arithmetic, zone-free). */
export function addDaysYmd(ymd: string, n: number): string {
  const [y, m, d] = ymd.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * `offset` → the day `offset` days after `base`, memoised: SQL sends day series as integer
 * offsets (cheaper than formatting every date), and thousands of series share the same days.
 */
export function dayOffsets(base: string): (offset: number) => string {
  const cache: string[] = [];
  return (offset) => (cache[offset] ??= addDaysYmd(base, offset));
}

/** The instant of local midnight starting `ymd` in `tz`. */
export function localMidnight(ymd: string, tz: string): Date {
  const [y, m, d] = ymd.split("-").map(Number) as [number, number, number];
  return new Date(new TZDate(y, m - 1, d, tz).getTime());
}

/** The `days` local days ending on `lastDay` (inclusive). */
export function periodEnding(lastDay: string, days: number, tz: string): Period {
  const firstDay = addDaysYmd(lastDay, -(days - 1));
  return {
    from: localMidnight(firstDay, tz),
    to: localMidnight(addDaysYmd(lastDay, 1), tz),
    firstDay,
    lastDay,
    days,
  };
}

/** Each local day of a period, oldest first. */
export function daysOf(p: Period, tz: string): Period[] {
  return Array.from({ length: p.days }, (_, i) => periodEnding(addDaysYmd(p.firstDay, i), 1, tz));
}

/** The period a digest request covers and what it is compared with. */
export function digestPeriods(req: Pick<DigestRequest, "date" | "days" | "timezone">): DigestPeriods {
  checkDate(req.date);
  checkTimezone(req.timezone);
  if (req.days !== 1 && req.days !== 7) {
    throw new RangeError(`days must be 1 (daily) or 7 (weekly), got ${JSON.stringify(req.days)}`);
  }
  const tz = req.timezone;
  const period = periodEnding(req.date, req.days, tz);
  const count = req.days === 1 ? 7 : 4;
  const baseline = Array.from({ length: count }, (_, i) =>
    periodEnding(addDaysYmd(req.date, -req.days * (i + 1)), req.days, tz),
  );
  return {
    timezone: tz,
    period,
    previous: baseline[0]!,
    baseline,
    span: periodEnding(req.date, req.days * (count + 1), tz),
  };
}

/** "Sat 21 Nov 2026" or "Sun 15 – Sat 21 Nov 2026". */
export function periodLabel(p: Period): string {
  const fmt = (ymd: string, withMonth: boolean, withYear: boolean) => {
    const d = new Date(`${ymd}T12:00:00Z`);
    const parts = [
      d.toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" }),
      String(d.getUTCDate()),
    ];
    if (withMonth) parts.push(d.toLocaleDateString("en-GB", { month: "short", timeZone: "UTC" }));
    if (withYear) parts.push(String(d.getUTCFullYear()));
    return parts.join(" ");
  };
  if (p.days === 1) return fmt(p.lastDay, true, true);
  const sameMonth = p.firstDay.slice(0, 7) === p.lastDay.slice(0, 7);
  const sameYear = p.firstDay.slice(0, 4) === p.lastDay.slice(0, 4);
  return `${fmt(p.firstDay, !sameMonth, !sameYear)} – ${fmt(p.lastDay, true, true)}`;
}
