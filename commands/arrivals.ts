// Arrivals: did supplier deliveries land on time? Which supplier is late most often?
//
// A supplier dataset declares when it is expected each day: datasets.expected_arrival
// ("HH:MM") in datasets.arrival_timezone. For each day, the delivery is the first update
// within 12 hours either side of that expected time; it is on time when it lands by the
// expected time plus GRACE, late after that, and missing when nothing lands at all. The
// feeds and their updates are read by src/db/queries/arrivals.ts.
import { type FeedFilter, type SupplierFeed, supplierFeeds } from "../src/db/queries/arrivals.ts";
import { DELIVERY_GRACE_MS, DELIVERY_REACH_MS, expectedTimes } from "../src/digests/deliveries.ts";
import { AnswerBuilder, code, DEFAULT_LIST_LIMIT, esc, MAX_SECTION_CHARS } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";
import { defineMeasure, frameOfWords, windowOf } from "../src/questions/measure.ts";
import { closest, findKnown, knownNames, UnknownNameError } from "../src/questions/resolve.ts";
import { during, formatDay, formatTime } from "../src/time/index.ts";
import type { Answer, AskContext, Question } from "../src/questions/types.ts";
import type { Frame } from "../src/understanding/frame.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// The delivery rule (grace, reach, one expected time per local day) is shared with the SLA
// and anomaly digests, so a question and a digest never disagree about a late delivery.
const GRACE_MS = DELIVERY_GRACE_MS;
const REACH_MS = DELIVERY_REACH_MS;

const ARRIVE = /\b(?:arriv\w*|deliver\w*|landed|received)\b/;
const SUPPLIER = /\b(?:suppliers?|vendors?|providers?|source files?|source data|feeds?|partners?)\b/;
/** Questions that want a yes or no first ("did …", "has …"), unlike "why …" or "late deliveries". */
const YES_NO = /^(?:did|has|have|was|were|is|are|do|does)\b/;
const RANK = /\b(?:which|worst|most|rank\w*|troublesome|unreliable|problematic|often)\b/;

/** What an arrivals question asks beyond its frame (the frame has no slot for these yet). */
export interface ArrivalsAsk {
  /** "which supplier is worst": suppliers ranked by late and missing deliveries. */
  rank: boolean;
  /** A yes/no question ("did …", "has …"). */
  yesNo: boolean;
}

export type Outcome = "on_time" | "late" | "missing" | "pending";

export interface Delivery {
  feed: SupplierFeed;
  expected: Date;
  arrived?: Date;
  outcome: Outcome;
  /** arrived − expected (negative: early). */
  delayMs?: number;
}

export interface SupplierStat {
  supplier: string;
  owner: string | null;
  feeds: number;
  due: number;
  late: number;
  missing: number;
  worstMs: number;
}

const plural = (n: number, word: string) =>
  n === 1 ? `1 ${word}` : `${n} ${word.endsWith("y") ? `${word.slice(0, -1)}ies` : `${word}s`}`;

/** Each feed's deliveries expected with from ≤ expected < to, judged as of `now`. */
function deliveries(feeds: SupplierFeed[], w: { from: Date; to: Date }, now: Date): Delivery[] {
  const out: Delivery[] = [];
  // Feeds share a few (time, zone) schedules, and each expected time costs time-zone
  // arithmetic: computed once per schedule (hundreds of feeds, a handful of schedules).
  const times = new Map<string, Date[]>();
  for (const feed of feeds) {
    const updates = feed.updates;
    const schedule = { expectedArrival: feed.expectedArrival, timezone: feed.timezone || "UTC" };
    const key = `${schedule.expectedArrival}|${schedule.timezone}`;
    let expectedAll = times.get(key);
    if (!expectedAll) times.set(key, (expectedAll = expectedTimes(schedule, w.from, w.to)));
    for (const expected of expectedAll) {
      const e = expected.getTime();
      const first = updates.find((u) => u >= e - REACH_MS && u < e + REACH_MS && u <= now.getTime());
      if (first !== undefined) {
        out.push({
          feed,
          expected,
          arrived: new Date(first),
          delayMs: first - e,
          outcome: first > e + GRACE_MS ? "late" : "on_time",
        });
      } else out.push({ feed, expected, outcome: now.getTime() > e + GRACE_MS ? "missing" : "pending" });
    }
  }
  return out;
}

function stats(ds: Delivery[]): SupplierStat[] {
  const by = new Map<string, SupplierStat & { feedIds: Set<number> }>();
  for (const d of ds) {
    const key = d.feed.supplier ?? d.feed.name;
    let s = by.get(key);
    if (!s) {
      s = {
        supplier: key,
        owner: d.feed.owner,
        feeds: 0,
        due: 0,
        late: 0,
        missing: 0,
        worstMs: 0,
        feedIds: new Set(),
      };
      by.set(key, s);
    }
    s.feedIds.add(d.feed.id);
    s.feeds = s.feedIds.size;
    if (d.outcome === "pending") continue;
    s.due++;
    if (d.outcome === "late") {
      s.late++;
      s.worstMs = Math.max(s.worstMs, d.delayMs!);
    }
    if (d.outcome === "missing") s.missing++;
  }
  return [...by.values()]
    .map(({ feedIds: _ids, ...s }) => s)
    .sort(
      (a, b) =>
        b.late + b.missing - (a.late + a.missing) ||
        b.worstMs - a.worstMs ||
        (a.supplier < b.supplier ? -1 : 1),
    );
}

/** "10:30 (05:30 America/New_York)" when the zones differ. */
function expectedText(d: Delivery, tz: string): string {
  const local = d.feed.timezone || "UTC";
  const mine = formatTime(d.expected, tz);
  return local === tz ? mine : `${mine} (${d.feed.expectedArrival} ${local})`;
}

function deliveryLine(d: Delivery, ctx: AskContext): string {
  const tz = ctx.timezone;
  const when = `${formatDay(d.expected, d.feed.timezone || "UTC")}`;
  const feed = code(d.feed.name);
  if (d.outcome === "missing")
    return `:x: ${feed} ${when}: missing — expected by ${expectedText(d, tz)}, nothing arrived`;
  if (d.outcome === "pending")
    return `:hourglass: ${feed} ${when}: not due yet — expected by ${expectedText(d, tz)}`;
  const icon = d.outcome === "late" ? ":warning:" : ":white_check_mark:";
  const how =
    d.outcome === "late"
      ? `${formatDuration(d.delayMs!)} late`
      : d.delayMs! <= 0
        ? `on time (${formatDuration(-d.delayMs!)} early)`
        : `on time (${formatDuration(d.delayMs!)} after, within grace)`;
  return `${icon} ${feed} ${when}: arrived ${formatTime(d.arrived!, tz)}, ${how} — expected ${expectedText(d, tz)}`;
}

function statLine(s: SupplierStat): string {
  const bad =
    s.due === 0
      ? "nothing due yet"
      : s.late + s.missing === 0
        ? `all ${plural(s.due, "delivery")} on time`
        : `${[s.late ? `${s.late} late` : "", s.missing ? `${s.missing} missing` : ""].filter(Boolean).join(", ")} of ${plural(s.due, "delivery")}`;
  const worst = s.late ? `, worst ${formatDuration(s.worstMs)} late` : "";
  return `${code(s.supplier)} — ${bad} (${plural(s.feeds, "feed")})${worst}${s.owner ? `, owner ${esc(s.owner)}` : ""}`;
}

/**
 * List items for AnswerBuilder.list, formatting only the `limit` it shows: the rest are
 * counted for its "and N more" but never rendered (hundreds of feeds, ten lines shown).
 */
function listed<T>(items: T[], line: (item: T) => string, limit = DEFAULT_LIST_LIMIT): string[] {
  return items.map((item, i) => (i < limit ? line(item) : ""));
}

/**
 * "a, b, c" of many items for one section, built only as far as the section can show
 * (AnswerBuilder clips a section at MAX_SECTION_CHARS), so the clipped text is the same.
 */
function joinedUpTo<T>(items: T[], part: (item: T) => string, room = MAX_SECTION_CHARS): string {
  let out = "";
  for (const [i, item] of items.entries()) {
    out += (i ? ", " : "") + part(item);
    if (out.length > room) break;
  }
  return out;
}

/** Newest first, then by feed name. */
const newestFirst = (a: Delivery, b: Delivery) =>
  b.expected.getTime() - a.expected.getTime() || (a.feed.name < b.feed.name ? -1 : 1);

const looksLikeName = (n: string) => /[_.\d]/.test(n);

/** The subject the words name, as the family always found it: a supplier or one of its datasets, else every supplier. */
async function subjectOfWords(ctx: AskContext, q: Question): Promise<Frame["subject"]> {
  const words = q.text.split(/\s+/).filter((w) => w.length > 2);
  for (const cands of [q.names, words]) {
    const s = await findKnown(ctx.store, "supplier", cands);
    if (s) return { kind: "supplier", name: s };
    const d = await findKnown(ctx.store, "dataset", cands);
    if (d) return { kind: "dataset", name: d };
  }
  // "shipfast" for shipfast_logistics: the first word of a supplier's name, when unique.
  const suppliers = await knownNames(ctx.store, "supplier");
  for (const w of words) {
    const hits = suppliers.filter((s) => s.toLowerCase().split(/[_./-]/)[0] === w);
    if (hits.length === 1) return { kind: "supplier", name: hits[0]! };
  }
  const given = q.names.find(looksLikeName);
  if (given) {
    const feeds = (await knownNames(ctx.store, "dataset")).filter((n) =>
      suppliers.some((s) => n.startsWith(s)),
    );
    throw new UnknownNameError("supplier", given, closest(given, [...suppliers, ...feeds]));
  }
  return { kind: "fleet" };
}

function asked(q: Question): ArrivalsAsk {
  return { rank: RANK.test(q.text), yesNo: YES_NO.test(q.text) };
}

export interface ArrivalsData {
  /** Supplier datasets with an expected arrival time, in scope. */
  feeds: number;
  /** Every delivery expected in the window, by feed, pending ones (not due yet) included. */
  deliveries: Delivery[];
  /** Suppliers by late + missing deliveries, worst first. */
  suppliers: SupplierStat[];
  /** When none was due in the window: the deliveries due in the 7 days before it. */
  before?: Delivery[];
  /** How the question was put, which the answer follows. */
  asked: ArrivalsAsk;
}

const arrivals = defineMeasure<ArrivalsData, ArrivalsAsk>({
  id: "arrivals",
  title: "Supplier arrivals",
  summary:
    "whether supplier files arrived by their expected time, late or missing deliveries, and the worst supplier",
  examples: [
    "did my source files arrive on time?",
    "did shipfast_logistics deliver on time this week?",
    "which data supplier is troublesome?",
    "late deliveries in the last 14 days",
  ],
  measure: "arrivals",
  subjects: ["supplier", "dataset", "fleet"],
  defaultDays: 7,
  keywords: {
    match(q) {
      if (ARRIVE.test(q.text)) return 0.9;
      if (SUPPLIER.test(q.text)) return 0.85;
      return 0;
    },
    async frame(ctx, q) {
      return frameOfWords(q, "arrivals", await subjectOfWords(ctx, q));
    },
  },
  details: asked,
  async compute(ctx, frame, window, asked) {
    const { kind, name } = frame.subject;
    const filter: FeedFilter =
      kind === "supplier" ? { supplier: name! } : kind === "dataset" ? { dataset: name! } : {};
    // Deliveries expected later in a day asked about are shown as not due yet.
    const span = { from: window.from, to: window.end ?? window.to };
    const feeds = await supplierFeeds(ctx.store, filter, span.from, span.to);
    const all = deliveries(feeds, span, ctx.now);
    const data: ArrivalsData = { feeds: feeds.length, deliveries: all, suppliers: stats(all), asked };
    const ranking = asked.rank && kind === "fleet";
    if (feeds.length && !ranking && all.every((d) => d.outcome === "pending")) {
      // Say how the recent past went, so "not yet" is not the whole answer.
      const to = new Date(Math.min(window.from.getTime(), ctx.now.getTime()));
      const recent = { from: new Date(to.getTime() - 7 * DAY), to };
      const earlier = await supplierFeeds(ctx.store, filter, recent.from, recent.to);
      data.before = deliveries(earlier, recent, ctx.now).filter((d) => d.outcome !== "pending");
    }
    return data;
  },
  render(d, frame, ctx, window) {
    const b = new AnswerBuilder();
    const when = during(window.label);
    const { kind, name } = frame.subject;
    const one = kind !== "fleet";
    const subjectText = one ? code(name!) : "suppliers";
    if (d.feeds === 0) {
      b.headline(
        one
          ? `${code(name!)} has no expected arrival time (expected_arrival in houston.yml), so Houston can't tell late from on time.`
          : "No supplier dataset has an expected arrival time, so there is nothing to check.",
      );
      return b;
    }
    const all = d.deliveries;
    const due = all.filter((x) => x.outcome !== "pending");
    const bad = due.filter((x) => x.outcome !== "on_time").sort(newestFirst);
    const pending = all.filter((x) => x.outcome === "pending");
    const ranked = d.suppliers;
    const envNote = frame.environment
      ? ` _(Supplier deliveries have no environment; “in ${esc(frame.environment)}” is ignored.)_`
      : "";

    if (d.asked.rank && !one) {
      const worst = ranked[0];
      if (!worst || worst.late + worst.missing === 0) {
        b.headline(
          `No supplier was late or missing ${when}: all ${plural(due.length, "delivery")} from ${plural(ranked.length, "supplier")} arrived on time.`,
        );
      } else {
        b.headline(
          `${code(worst.supplier)} is the most troublesome supplier ${when}: ${worst.late} late and ${worst.missing} missing of ${worst.due} deliveries${worst.late ? `, up to ${formatDuration(worst.worstMs)} late` : ""}.`,
        );
      }
      b.list("Suppliers by late + missing deliveries", listed(ranked, statLine));
      b.list(
        "Late or missing",
        listed(bad, (x) => deliveryLine(x, ctx)),
      );
    } else if (due.length === 0) {
      b.headline(
        `Not due yet — no delivery from ${subjectText} was due ${when}: ${pending
          .slice(0, 4)
          .map((x) => `${code(x.feed.name)} by ${expectedText(x, ctx.timezone)}`)
          .join(
            ", ",
          )}${pending.length > 4 ? ` and ${pending.length - 4} more` : ""} (+${GRACE_MS / MINUTE} min grace).`,
      );
      const recent = d.before ?? [];
      const recentBad = recent.filter((x) => x.outcome !== "on_time").sort(newestFirst);
      b.section(
        recentBad.length
          ? `Before that, ${recentBad.length} of ${recent.length} deliveries in the 7 days before were late or missing:`
          : `Before that, all ${recent.length} deliveries in the 7 days before arrived on time.`,
      );
      b.list(
        "",
        listed(recentBad, (x) => deliveryLine(x, ctx)),
      );
    } else {
      const where = one ? `from ${subjectText}` : `from ${plural(ranked.length, "supplier")}`;
      if (bad.length === 0) {
        b.headline(
          pending.length
            ? `So far yes — ${due.length === 1 ? "the delivery" : `all ${due.length} deliveries`} due ${where} ${when} arrived on time; ${pending.length} not due yet.`
            : `Yes — ${due.length === 1 ? "the delivery" : `all ${due.length} deliveries`} ${where} arrived on time ${when}.`,
        );
      } else {
        const late = bad.filter((x) => x.outcome === "late");
        const missing = bad.filter((x) => x.outcome === "missing");
        const worst = late.reduce((m, x) => Math.max(m, x.delayMs!), 0);
        const who = [...new Set(bad.map((x) => x.feed.supplier ?? x.feed.name))];
        const what = [
          late.length ? `${late.length} late${late.length ? ` (up to ${formatDuration(worst)})` : ""}` : "",
          missing.length ? `${missing.length} missing` : "",
        ]
          .filter(Boolean)
          .join(" and ");
        const whose = one
          ? ""
          : who.length === 1
            ? `, all from ${code(who[0]!)}`
            : `, from ${who.map(code).join(", ")}`;
        const lead = d.asked.yesNo ? "No — of" : "Of";
        b.headline(`${lead} ${due.length} deliveries ${where} ${when}, ${what}${whose}.`);
      }
      if (!one || ranked.length > 1) b.list("By supplier", listed(ranked, statLine));
      b.list(
        "Late or missing (newest first)",
        listed(bad, (x) => deliveryLine(x, ctx)),
      );
      if (one && bad.length === 0)
        b.list(
          "Deliveries (newest first)",
          listed([...due].sort(newestFirst), (x) => deliveryLine(x, ctx), 7),
          7,
        );
      if (pending.length)
        b.section(
          `Not due yet: ${joinedUpTo(pending, (x) => `${code(x.feed.name)} by ${expectedText(x, ctx.timezone)}`)}.`,
        );
    }
    b.section(
      `_On time = the day's first delivery lands by the expected time + ${GRACE_MS / MINUTE} min grace. Times in ${esc(ctx.timezone)}._${envNote}`,
    );
    return b.from(
      `from ${all.length} expected deliveries of ${plural(d.feeds, "supplier dataset")} ${when} (dataset updates vs expected_arrival)`,
    );
  },
});

export default arrivals;

/**
 * The arrivals answer to a question, without the line saying what was understood: root
 * cause hands "why was shipfast_logistics late?" to it and opens the answer itself.
 */
export async function deliveriesAnswer(ctx: AskContext, q: Question): Promise<Answer> {
  const frame = frameOfWords(q, "arrivals", await subjectOfWords(ctx, q));
  const window = windowOf(q, frame, ctx.now, arrivals.defaultDays);
  const data = await arrivals.compute(ctx, frame, window, asked(q));
  return arrivals.render(data, frame, ctx, window).build();
}
