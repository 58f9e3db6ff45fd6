// Time expressions in questions, read in the asker's zone. Dates, weekdays, "yesterday",
// "3 days ago", "last friday", "nov 3" come from chrono-node (a maintained parser); the
// forms it lacks or reads as instants rather than periods are rules here:
// - rolling windows: "last 6h", "past 3 days", "in the last week" (= 7×24 h), "over the
//   past month" (= 30×24 h) — [now − N, now); "the next 3 hours" — [now, now + N);
// - calendar periods: "this week" (from Monday), "last week" (the previous Monday–Monday),
//   "this month", "last month";
// - "since monday" / "since nov 3": from that local day's start to now;
// - "this morning" [00:00, 12:00) today,
// - "tonight" [18:00 today, 06:00 tomorrow), "last night" [18:00 yesterday, 06:00 today),
//   "rest of today" [now, end of today), "so far today" [start of today, now).
// A day named without "last"/"next" ("on tuesday") is the most recent one, today included:
// people ask about what has happened. Calendar periods run to their natural end; answers
// about the past stop at now by themselves.
import { TZDate } from "@date-fns/tz";
import * as chrono from "chrono-node";
import {
  addDays,
  addHours,
  addMinutes,
  format,
  startOfMonth,
  startOfWeek,
  subDays,
  subMonths,
  subWeeks,
} from "date-fns";
import { dayStart, formatDay, localDate } from "./zone.ts";

export interface TimeWindow {
  from: Date;
  to: Date;
  /** How the window reads back: "yesterday (Sat 21 Nov)", "the last 7 days". */
  label: string;
  /** The words that said it, as found in the text. */
  phrase: string;
}

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
  eleven: 11,
  twelve: 12,
  fourteen: 14,
  twenty: 20,
  thirty: 30,
};
const NUM = `(\\d+|${Object.keys(NUM_WORDS).join("|")})`;
const count = (s: string) => NUM_WORDS[s] ?? Number(s);

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** "6h", "hours", "hrs", "mins", "days", "wks", "months" → a unit letter ("mo" for months). */
function unitOf(word: string): "m" | "h" | "d" | "w" | "mo" | undefined {
  if (/^(?:m|mins?|minutes?)$/.test(word)) return "m";
  if (/^(?:h|hrs?|hours?)$/.test(word)) return "h";
  if (/^(?:d|days?)$/.test(word)) return "d";
  if (/^(?:w|wks?|weeks?)$/.test(word)) return "w";
  if (/^(?:mo|mos|mths?|months?)$/.test(word)) return "mo";
  return undefined;
}
const UNIT_WORDS: Record<string, string> = { m: "minute", h: "hour", d: "day", w: "week", mo: "month" };

interface Found {
  index: number;
  phrase: string;
  window: Omit<TimeWindow, "phrase">;
}

type Rule = (text: string, now: Date, tz: string) => Found | undefined;

function rolling(now: Date, n: number, unit: "m" | "h" | "d" | "w" | "mo"): Omit<TimeWindow, "phrase"> {
  const ms = unit === "mo" ? n * 30 * 86_400_000 : n * UNIT_MS[unit]!;
  const what = UNIT_WORDS[unit]!;
  return {
    from: new Date(now.getTime() - ms),
    to: now,
    label: `the last ${n === 1 ? what : `${n} ${what}s`}`,
  };
}

const at = (d: Date) => new Date(d.getTime());

const RULES: Rule[] = [
  // "last 6h", "past 3 days", "in the last 12 hours", "over the past 2 wks", "last 24hrs"
  (text, now) => {
    const m = new RegExp(
      `\\b(?:(?:in|over|during|within)\\s+)?(?:the\\s+)?(?:last|past|previous|prev)\\s+${NUM}\\s*([a-z]+)\\b`,
    ).exec(text);
    const unit = m && unitOf(m[2]!);
    if (!m || !unit) return undefined;
    return { index: m.index, phrase: m[0], window: rolling(now, count(m[1]!), unit) };
  },
  // "in the next 3 hours", "next 30 mins": ahead of now, [now, now + N).
  (text, now) => {
    const m = new RegExp(
      `\\b(?:(?:in|over|within|during)\\s+)?(?:the\\s+)?next\\s+${NUM}\\s*([a-z]+)\\b`,
    ).exec(text);
    const unit = m && unitOf(m[2]!);
    if (!m || !unit || unit === "mo") return undefined;
    const n = count(m[1]!);
    const what = UNIT_WORDS[unit]!;
    return {
      index: m.index,
      phrase: m[0],
      window: {
        from: now,
        to: new Date(now.getTime() + n * UNIT_MS[unit]!),
        label: `the next ${n === 1 ? what : `${n} ${what}s`}`,
      },
    };
  },
  // "in the last week", "past week", "over the last day", "the past month" (one unit, rolling)
  (text, now) => {
    const m =
      /\b(?:(?:in|over|during|within)\s+(?:the\s+)?(?:last|past)|(?:the\s+)?past)\s+(day|24\s*h(?:ours?|rs?)?|week|wk|month|hour|hr)\b/.exec(
        text,
      );
    if (!m) return undefined;
    const unit = /^24/.test(m[1]!) ? "d" : unitOf(m[1]!)!;
    return { index: m.index, phrase: m[0], window: rolling(now, 1, unit) };
  },
  // "last6h" typed without a space; "in 6h", "within 2 days".
  (text, now) => {
    const m =
      /\b(?:last|past)(\d+)\s*([a-z]+)\b|\b(?:in|over|within)\s+(?:the\s+)?(\d+)\s*(h|hrs?|hours?|d|days?)\b(?!\s+ago)/.exec(
        text,
      );
    const unit = m && unitOf((m[2] ?? m[4])!);
    if (!m || !unit) return undefined;
    return { index: m.index, phrase: m[0], window: rolling(now, Number(m[1] ?? m[3]), unit) };
  },
  (text, now, tz) => {
    const m = /\bthis\s+(week|wk|month)\b/.exec(text);
    if (!m) return undefined;
    const local = new TZDate(now.getTime(), tz);
    if (m[1] === "month") {
      const from = startOfMonth(local);
      return {
        index: m.index,
        phrase: m[0],
        window: {
          from: at(from),
          to: at(startOfMonth(addDays(from, 32))),
          label: `this month (since ${formatDay(from, tz)})`,
        },
      };
    }
    const from = startOfWeek(local, { weekStartsOn: 1 });
    return {
      index: m.index,
      phrase: m[0],
      window: { from: at(from), to: at(addDays(from, 7)), label: "this week" },
    };
  },
  (text, now, tz) => {
    const m = /\b(?:last|previous|prev)\s+(week|wk|month)\b/.exec(text);
    if (!m) return undefined;
    const local = new TZDate(now.getTime(), tz);
    if (m[1] === "month") {
      const to = startOfMonth(local);
      const from = subMonths(to, 1);
      return {
        index: m.index,
        phrase: m[0],
        window: { from: at(from), to: at(to), label: `last month (${format(from, "MMMM yyyy")})` },
      };
    }
    const to = startOfWeek(local, { weekStartsOn: 1 });
    const from = subWeeks(to, 1);
    return {
      index: m.index,
      phrase: m[0],
      window: {
        from: at(from),
        to: at(to),
        label: `last week (${formatDay(from, tz)} – ${formatDay(subDays(to, 1), tz)})`,
      },
    };
  },
  (text, now, tz) => {
    const m = /\b(?:last|yesterday)\s+night\b|\bovernight\b/.exec(text);
    if (!m) return undefined;
    const today = dayStart(now, tz);
    return {
      index: m.index,
      phrase: m[0],
      window: { from: at(addHours(subDays(today, 1), 18)), to: at(addHours(today, 6)), label: "last night" },
    };
  },
  (text, now, tz) => {
    // "this morning", "this am": the morning of today, [00:00, 12:00) local.
    const m = /\bthis\s+(?:morning|mornin|morn|am|a\.m\.)(?![\w.])/.exec(text);
    if (!m) return undefined;
    const today = dayStart(now, tz);
    return {
      index: m.index,
      phrase: m[0],
      window: { from: at(today), to: at(addHours(today, 12)), label: "this morning" },
    };
  },
  (text, now, tz) => {
    const m = /\b(?:to|2)\s*night\b/.exec(text);
    if (!m) return undefined;
    const today = dayStart(now, tz);
    return {
      index: m.index,
      phrase: m[0],
      window: { from: at(addHours(today, 18)), to: at(addHours(addDays(today, 1), 6)), label: "tonight" },
    };
  },
  (text, now, tz) => {
    const m = /\b(?:(?:the\s+)?rest\s+of\s+(?:the\s+)?(?:today|day)|later\s+today)\b/.exec(text);
    if (!m) return undefined;
    return {
      index: m.index,
      phrase: m[0],
      window: { from: now, to: at(addDays(dayStart(now, tz), 1)), label: "the rest of today" },
    };
  },
  // "between now and midnight", "till end of day": the rest of today.
  (text, now, tz) => {
    const m =
      /\b(?:between\s+now\s+and|from\s+now\s+(?:to|till|until)|until|till|til|before|by)\s+(?:midnight|eod|end\s+of\s+(?:the\s+)?day|close\s+of\s+day)\b/.exec(
        text,
      );
    if (!m) return undefined;
    return {
      index: m.index,
      phrase: m[0],
      window: { from: now, to: at(addDays(dayStart(now, tz), 1)), label: "the rest of today" },
    };
  },
  // "mon to now", "from tuesday till today": since that day.
  (text, now, tz) => {
    const m = /\b(?:from\s+)?(\S+(?:\s+\S+)?)\s+(?:to|till|til|until|thru|through)\s+(?:now|today)\b/.exec(
      text,
    );
    if (!m) return undefined;
    const words = m[1]!.split(/\s+/);
    // The day may be one word ("mon") or two ("nov 3"); take the longest that is a day.
    for (const k of [words.length, 1]) {
      const said = words.slice(-k).join(" ");
      const day = dayOf(said, now, tz);
      if (!day || day.index !== 0 || day.phrase.trim() !== said) continue;
      const index = m.index + m[0].indexOf(said);
      return {
        index: m[0].startsWith("from") ? m.index : index,
        phrase: m[0].startsWith("from") ? m[0] : text.slice(index, m.index + m[0].length),
        window: { from: day.from, to: now, label: `since ${formatDay(day.from, tz)}` },
      };
    }
    return undefined;
  },
  (text, now, tz) => {
    const m = /\bso\s+far\s+today\b|\btoday\s+so\s+far\b/.exec(text);
    if (!m) return undefined;
    return {
      index: m.index,
      phrase: m[0],
      window: { from: at(dayStart(now, tz)), to: now, label: "today so far" },
    };
  },
  // "since monday", "since yesterday", "since nov 3", "since 2026-11-01"
  (text, now, tz) => {
    const m = /\bsince\s+(.+)$/.exec(text);
    if (!m) return undefined;
    // "since 6am", "since 14:00": from that time today.
    const clock = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b|^(\d{1,2}):(\d{2})\b/.exec(m[1]!);
    if (clock) {
      let h = Number(clock[1] ?? clock[4]);
      if (clock[3] === "pm" && h < 12) h += 12;
      if (clock[3] === "am" && h === 12) h = 0;
      const from = at(addMinutes(dayStart(now, tz), h * 60 + Number(clock[2] ?? clock[5] ?? 0)));
      if (h < 24 && from.getTime() <= now.getTime())
        return {
          index: m.index,
          phrase: `since ${clock[0]}`,
          window: { from, to: now, label: `since ${clock[0]} today` },
        };
    }
    // "since the 1st": from that day of this month.
    const nth = /^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b/.exec(m[1]!);
    if (nth) {
      const from = dayOfMonth(Number(nth[1]), now, tz);
      return {
        index: m.index,
        phrase: `since ${nth[0]}`,
        window: { from: at(from), to: now, label: `since ${formatDay(from, tz)}` },
      };
    }
    const day = dayOf(m[1]!, now, tz);
    if (!day || day.index !== 0) return undefined;
    return {
      index: m.index,
      phrase: `since ${day.phrase}`,
      window: { from: day.from, to: now, label: `since ${formatDay(day.from, tz)}` },
    };
  },
  // "over the weekend", "this weekend": the most recent Saturday and Sunday (up to now);
  // "last weekend" on a weekend is the one before.
  (text, now, tz) => {
    const m = /\b(?:(?:over|during|on|at|for)\s+)?(the|this|last|past)\s+(?:week\s*end|weekend|wknd)\b/.exec(
      text,
    );
    if (!m) return undefined;
    const today = dayStart(now, tz);
    const dow = new TZDate(today.getTime(), tz).getDay(); // 0 Sunday … 6 Saturday
    let sat = subDays(today, (dow + 1) % 7);
    if (m[1] === "last" && (dow === 6 || dow === 0)) sat = subDays(sat, 7);
    const mon = addDays(sat, 2);
    return {
      index: m.index,
      phrase: m[0],
      window: {
        from: at(sat),
        to: new Date(Math.min(mon.getTime(), now.getTime())),
        label: `the weekend (${formatDay(sat, tz)} – ${formatDay(addDays(sat, 1), tz)})`,
      },
    };
  },
  // "month to date", "mtd", "week to date": this month or week, up to now.
  (text, now, tz) => {
    const m = /\b(?:(month|week)[\s-]+to[\s-]+date|(mtd|wtd))\b/.exec(text);
    if (!m) return undefined;
    const local = new TZDate(now.getTime(), tz);
    const month = m[1] === "month" || m[2] === "mtd";
    const from = month ? startOfMonth(local) : startOfWeek(local, { weekStartsOn: 1 });
    return {
      index: m.index,
      phrase: m[0],
      window: {
        from: at(from),
        to: now,
        label: `${month ? "this month" : "this week"} (since ${formatDay(from, tz)})`,
      },
    };
  },
  // "in october", "during march 2026": that calendar month (the last one of that name).
  (text, now, tz) => {
    const m =
      /\b(?:(?:in|during|for|of|throughout)\s+(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)|(january|february|april|june|july|august|september|october|november|december))(?:\s+(\d{4}))?\b(?!\s*\d)/.exec(
        text,
      );
    if (!m) return undefined;
    const name = (m[1] ?? m[2])!.slice(0, 3);
    const idx = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].indexOf(
      name,
    );
    const local = new TZDate(now.getTime(), tz);
    let year = m[3] ? Number(m[3]) : local.getFullYear();
    if (!m[3] && idx > local.getMonth()) year -= 1;
    const from = new TZDate(year, idx, 1, tz);
    const to = new TZDate(year, idx + 1, 1, tz);
    return {
      index: m.index,
      phrase: m[0],
      window: { from: at(from), to: at(to), label: `${format(from, "MMMM yyyy")}` },
    };
  },
  // "the 17th", "on the 3rd": that day of this month, or of last month when still ahead.
  (text, now, tz) => {
    const m = /\b(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)\b/.exec(text);
    if (!m) return undefined;
    const from = dayOfMonth(Number(m[1]), now, tz);
    return {
      index: m.index,
      phrase: m[0],
      window: { from: at(from), to: at(addDays(from, 1)), label: `on ${formatDay(from, tz)}` },
    };
  },
  // Everything chrono knows: a day.
  (text, now, tz) => {
    const day = dayOf(text, now, tz);
    if (!day) return undefined;
    const today = dayStart(now, tz);
    const t = day.from.getTime();
    const label =
      t === today.getTime()
        ? `today (${formatDay(day.from, tz)})`
        : t === subDays(today, 1).getTime()
          ? `yesterday (${formatDay(day.from, tz)})`
          : t === addDays(today, 1).getTime()
            ? `tomorrow (${formatDay(day.from, tz)})`
            : `on ${formatDay(day.from, tz)}`;
    return { index: day.index, phrase: day.phrase, window: { from: day.from, to: day.to, label } };
  },
];

/** The zone's offset from UTC at `now`, in minutes (what chrono takes as its reference zone). */
function offsetMinutes(now: Date, tz: string): number {
  return -new TZDate(now.getTime(), tz).getTimezoneOffset();
}

/**
 * The first local day chrono finds in the text. A weekday on its own is the most recent
 * one (today included); "next tuesday" and "tomorrow" stay in the future.
 */
function dayOf(
  text: string,
  now: Date,
  tz: string,
): { index: number; phrase: string; from: Date; to: Date } | undefined {
  const results = chrono.parse(text, { instant: now, timezone: offsetMinutes(now, tz) });
  for (const r of results) {
    // "now" and "right now" are the present moment, not today's window.
    if (/^(?:right\s+)?now$/.test(r.text.trim())) continue;
    // "2 weeks" or a bare time ("at 5") is not a day.
    if (
      !r.start.isCertain("day") &&
      !r.start.isCertain("weekday") &&
      !/\b(?:ago|today|yesterday|tomorrow|yday)\b/.test(r.text)
    )
      continue;
    const ymd = `${r.start.get("year")}-${String(r.start.get("month")).padStart(2, "0")}-${String(r.start.get("day")).padStart(2, "0")}`;
    let day = localDate(ymd, tz);
    if (Number.isNaN(day.from.getTime())) continue;
    const future = /\b(?:next|tomorrow|coming|this\s+coming)\b/.test(r.text);
    if (!future && day.from.getTime() > now.getTime()) {
      // A weekday or a date without a year that is still ahead means the last one.
      if (r.start.isCertain("weekday") && !r.start.isCertain("day")) day = localDate(shiftYmd(ymd, -7), tz);
      else if (!r.start.isCertain("year"))
        day = localDate(`${Number(ymd.slice(0, 4)) - 1}${ymd.slice(4)}`, tz);
    }
    return { index: r.index, phrase: r.text, ...day };
  }
  return undefined;
}

/** The start of day `n` of this month in the zone, or of last month when that is still ahead. */
function dayOfMonth(n: number, now: Date, tz: string): Date {
  const local = new TZDate(now.getTime(), tz);
  const from = new TZDate(local.getFullYear(), local.getMonth(), n, tz);
  return from.getTime() > now.getTime() ? new TZDate(local.getFullYear(), local.getMonth() - 1, n, tz) : from;
}

function shiftYmd(ymd: string, days: number): string {
  const d = new Date(`${ymd}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The earliest time expression in lower-cased text, as a window in the zone. */
export function parseTimeWindow(text: string, now: Date, tz: string): TimeWindow | undefined {
  let best: Found | undefined;
  for (const rule of RULES) {
    const f = rule(text, now, tz);
    if (
      f &&
      (!best || f.index < best.index || (f.index === best.index && f.phrase.length > best.phrase.length))
    )
      best = f;
  }
  return best && { ...best.window, phrase: best.phrase };
}

/**
 * "this week" and "this month" as the question families read them: up to now, not to the
 * calendar period's end (expected runs after now are not missed yet).
 */
export function untilNow(w: TimeWindow, now: Date): TimeWindow {
  return /^this\s+(?:week|wk|month)$/.test(w.phrase) && w.to > now ? { ...w, to: now } : w;
}

/** The window as it reads after a verb: "in the last 7 days", but "yesterday (Sat 21 Nov)". */
export function during(label: string): string {
  return label.startsWith("the ") ? `in ${label}` : label;
}
