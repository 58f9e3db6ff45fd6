// Time expressions people type, read in the asker's time zone: today, yesterday, last
// night, this week, last week, last N hours/days/weeks, since Monday, since 2026-11-01,
// on 2026-11-03, on Nov 3. Days start at local midnight (DST-aware via TZDate).
import { TZDate } from "@date-fns/tz";
import {
  addDays,
  addHours,
  format,
  startOfDay,
  startOfMonth,
  startOfWeek,
  subDays,
  subHours,
  subMonths,
  subWeeks,
} from "date-fns";
import type { TimeWindow } from "./types.ts";

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const NUM_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  fourteen: 14,
  thirty: 30,
};

function dayStart(d: Date, tz: string): TZDate {
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

interface Rule {
  re: RegExp;
  make(m: RegExpExecArray, now: Date, tz: string): Omit<TimeWindow, "phrase"> | undefined;
}

const n = (s: string) => NUM_WORDS[s] ?? Number(s);

const RULES: Rule[] = [
  {
    re: /\b(?:on|for)\s+(\d{4}-\d{2}-\d{2})\b|\b(\d{4}-\d{2}-\d{2})\b/,
    make(m, _now, tz) {
      const ymd = (m[1] ?? m[2])!;
      const day = localDate(ymd, tz);
      if (Number.isNaN(day.from.getTime())) return undefined;
      return { ...day, label: `on ${formatDay(day.from, tz)}` };
    },
  },
  {
    re: /\b(?:on\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b/,
    make(m, now, tz) {
      const month = MONTHS.indexOf(m[1]!);
      const dayNum = Number(m[2]);
      const local = new TZDate(now.getTime(), tz);
      let year = local.getFullYear();
      // "Nov 3" in January means last November.
      if (new TZDate(year, month, dayNum, tz).getTime() > now.getTime()) year -= 1;
      const from = new TZDate(year, month, dayNum, tz);
      return {
        from: new Date(from.getTime()),
        to: new Date(addDays(from, 1).getTime()),
        label: `on ${formatDay(from, tz)}`,
      };
    },
  },
  {
    re: /\b(?:in\s+the\s+)?(?:last|past)\s+(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|fourteen|thirty)\s+(hour|hr|day|week|month)s?\b/,
    make(m, now, tz) {
      const count = n(m[1]!);
      const unit = m[2]!;
      let from: Date;
      if (unit === "hour" || unit === "hr") from = subHours(now, count);
      else if (unit === "day") from = subDays(now, count);
      else if (unit === "week") from = subWeeks(now, count);
      else from = subDays(now, 30 * count);
      void tz;
      const what = unit === "hr" ? "hour" : unit;
      return { from, to: now, label: `the last ${count} ${what}${count === 1 ? "" : "s"}` };
    },
  },
  {
    re: /\blast\s+night\b|\bovernight\b/,
    make(_m, now, tz) {
      // 18:00 yesterday to 09:00 today, local: when nightly batches run.
      const today = dayStart(now, tz);
      const from = addHours(subDays(today, 1), 18);
      const to = addHours(today, 9);
      return {
        from: new Date(from.getTime()),
        to: new Date(Math.min(to.getTime(), now.getTime())),
        label: "last night",
      };
    },
  },
  {
    re: /\byesterday\b/,
    make(_m, now, tz) {
      const from = subDays(dayStart(now, tz), 1);
      return {
        from: new Date(from.getTime()),
        to: new Date(dayStart(now, tz).getTime()),
        label: `yesterday (${formatDay(from, tz)})`,
      };
    },
  },
  {
    re: /\b(?:today|so far today|this morning)\b/,
    make(_m, now, tz) {
      const from = dayStart(now, tz);
      return {
        from: new Date(from.getTime()),
        to: new Date(addDays(from, 1).getTime()),
        label: `today (${formatDay(from, tz)})`,
      };
    },
  },
  {
    re: /\bthis\s+week\b/,
    make(_m, now, tz) {
      const from = startOfWeek(new TZDate(now.getTime(), tz), { weekStartsOn: 1 });
      return { from: new Date(from.getTime()), to: now, label: "this week" };
    },
  },
  {
    re: /\blast\s+week\b/,
    make(_m, now, tz) {
      const thisWeek = startOfWeek(new TZDate(now.getTime(), tz), { weekStartsOn: 1 });
      const from = subWeeks(thisWeek, 1);
      return {
        from: new Date(from.getTime()),
        to: new Date(thisWeek.getTime()),
        label: `last week (from ${formatDay(from, tz)})`,
      };
    },
  },
  {
    re: /\bthis\s+month\b/,
    make(_m, now, tz) {
      const from = startOfMonth(new TZDate(now.getTime(), tz));
      return { from: new Date(from.getTime()), to: now, label: `this month (since ${formatDay(from, tz)})` };
    },
  },
  {
    re: /\blast\s+month\b/,
    make(_m, now, tz) {
      const thisMonth = startOfMonth(new TZDate(now.getTime(), tz));
      const from = subMonths(thisMonth, 1);
      return {
        from: new Date(from.getTime()),
        to: new Date(thisMonth.getTime()),
        label: `last month (${format(from, "MMMM yyyy")})`,
      };
    },
  },
  {
    re: /\bsince\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday)\b/,
    make(m, now, tz) {
      const today = dayStart(now, tz);
      let from: Date;
      if (m[1] === "yesterday") from = subDays(today, 1);
      else {
        const target = WEEKDAYS.indexOf(m[1]!);
        const back = (today.getDay() - target + 7) % 7 || 7;
        from = subDays(today, back);
      }
      return { from: new Date(from.getTime()), to: now, label: `since ${formatDay(from, tz)}` };
    },
  },
  {
    re: /\bon\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b/,
    make(m, now, tz) {
      const today = dayStart(now, tz);
      const back = (today.getDay() - WEEKDAYS.indexOf(m[1]!) + 7) % 7 || 7;
      const from = subDays(today, back);
      return {
        from: new Date(from.getTime()),
        to: new Date(addDays(from, 1).getTime()),
        label: `on ${formatDay(from, tz)}`,
      };
    },
  },
];

/**
 * Finds the first time expression in lower-cased text. "since 2026-11-01" is a range
 * from that day; a bare date is that day.
 */
export function parseTimeWindow(text: string, now: Date, tz: string): TimeWindow | undefined {
  const since = /\bsince\s+(\d{4}-\d{2}-\d{2})\b/.exec(text);
  if (since) {
    const day = localDate(since[1]!, tz);
    if (!Number.isNaN(day.from.getTime())) {
      return { from: day.from, to: now, label: `since ${formatDay(day.from, tz)}`, phrase: since[0] };
    }
  }
  let best: { index: number; w: TimeWindow } | undefined;
  for (const rule of RULES) {
    const m = rule.re.exec(text);
    if (!m) continue;
    const w = rule.make(m, now, tz);
    if (!w) continue;
    if (!best || m.index < best.index) best = { index: m.index, w: { ...w, phrase: m[0] } };
  }
  return best?.w;
}

/** The window as it reads after a verb: "in the last 7 days", but "yesterday (Sat 21 Nov)". */
export function during(label: string): string {
  return label.startsWith("the ") ? `in ${label}` : label;
}
