// Arrivals: did supplier deliveries land on time? Which supplier is late most often?
//
// A supplier dataset declares when it is expected each day: datasets.expected_arrival
// ("HH:MM") in datasets.arrival_timezone. For each day, the delivery is the first update
// within 12 hours either side of that expected time; it is on time when it lands by the
// expected time plus GRACE, late after that, and missing when nothing lands at all.
// Each dataset is one range scan on dataset_updates (dataset_id, updated_at).
import { sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { DELIVERY_GRACE_MS, DELIVERY_REACH_MS, expectedTimes } from "../src/digests/deliveries.ts";
import { AnswerBuilder, code, DEFAULT_LIST_LIMIT, esc, MAX_SECTION_CHARS } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";
import { closest, findKnown, knownNames, UnknownNameError } from "../src/questions/resolve.ts";
import { formatDay, formatTime } from "../src/time/index.ts";
import type { AskContext, Command, Question, TimeWindow } from "../src/questions/types.ts";

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

interface FeedRow {
  id: number;
  name: string;
  supplier: string | null;
  owner: string | null;
  expected_arrival: string;
  arrival_timezone: string | null;
  updates: string[] | null;
}

type Outcome = "on_time" | "late" | "missing" | "pending";

interface Delivery {
  feed: FeedRow;
  expected: Date;
  arrived?: Date;
  outcome: Outcome;
  /** arrived − expected (negative: early). */
  delayMs?: number;
}

interface SupplierStat {
  supplier: string;
  owner: string | null;
  feeds: number;
  due: number;
  late: number;
  missing: number;
  worstMs: number;
}

function defaultWindow(now: Date): TimeWindow {
  return { from: new Date(now.getTime() - 7 * DAY), to: now, label: "the last 7 days", phrase: "" };
}

const during = (label: string) => (label.startsWith("the ") ? `in ${label}` : label);
const plural = (n: number, word: string) =>
  n === 1 ? `1 ${word}` : `${n} ${word.endsWith("y") ? `${word.slice(0, -1)}ies` : `${word}s`}`;

function deliveries(feeds: FeedRow[], w: TimeWindow, now: Date): Delivery[] {
  const out: Delivery[] = [];
  // Feeds share a few (time, zone) schedules, and each expected time costs time-zone
  // arithmetic: computed once per schedule (hundreds of feeds, a handful of schedules).
  const times = new Map<string, Date[]>();
  for (const feed of feeds) {
    const updates = (feed.updates ?? []).map((u) => new Date(u).getTime()).sort((a, b) => a - b);
    const schedule = { expectedArrival: feed.expected_arrival, timezone: feed.arrival_timezone || "UTC" };
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
  const local = d.feed.arrival_timezone || "UTC";
  const mine = formatTime(d.expected, tz);
  return local === tz ? mine : `${mine} (${d.feed.expected_arrival} ${local})`;
}

function deliveryLine(d: Delivery, ctx: AskContext): string {
  const tz = ctx.timezone;
  const when = `${formatDay(d.expected, d.feed.arrival_timezone || "UTC")}`;
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

type Subject = { kind: "supplier" | "dataset"; name: string } | { kind: "all" };

async function pickSubject(ctx: AskContext, q: Question): Promise<Subject> {
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
  return { kind: "all" };
}

const command: Command = {
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
  match(q) {
    if (ARRIVE.test(q.text)) return 0.9;
    if (SUPPLIER.test(q.text)) return 0.85;
    return 0;
  },
  async run(ctx, q) {
    const w = q.window ?? defaultWindow(ctx.now);
    const when = during(w.label);
    const subj = await pickSubject(ctx, q);
    const filter =
      subj.kind === "supplier"
        ? sql`AND d.supplier = ${subj.name}`
        : subj.kind === "dataset"
          ? sql`AND d.name = ${subj.name}`
          : sql``;
    const load = (win: TimeWindow) =>
      ctx.store.query<FeedRow>(
        sql`SELECT d.id, d.name, d.supplier, d.owner, d.expected_arrival, d.arrival_timezone,
              ARRAY(SELECT u.updated_at::text FROM dataset_updates u
                    WHERE u.dataset_id = d.id AND u.updated_at >= ${ts(new Date(win.from.getTime() - REACH_MS))}
                      AND u.updated_at < ${ts(new Date(win.to.getTime() + REACH_MS))}
                    ORDER BY u.updated_at) AS updates
            FROM datasets d
            WHERE d.expected_arrival IS NOT NULL ${filter}
            ORDER BY d.supplier NULLS LAST, d.name`,
      );
    const feeds = await load(w);
    const b = new AnswerBuilder();
    const subjectText = subj.kind === "all" ? "suppliers" : code(subj.name);
    if (feeds.length === 0) {
      b.headline(
        subj.kind === "all"
          ? "No supplier dataset has an expected arrival time, so there is nothing to check."
          : `${code(subj.name)} has no expected arrival time (expected_arrival in houston.yml), so Houston can't tell late from on time.`,
      );
      return b.build();
    }
    const all = deliveries(feeds, w, ctx.now);
    const due = all.filter((d) => d.outcome !== "pending");
    const bad = due.filter((d) => d.outcome !== "on_time").sort(newestFirst);
    const pending = all.filter((d) => d.outcome === "pending");
    const ranked = stats(all);
    const envNote = q.environment
      ? ` _(Supplier deliveries have no environment; “in ${esc(q.environment)}” is ignored.)_`
      : "";

    if (RANK.test(q.text) && subj.kind === "all") {
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
        listed(bad, (d) => deliveryLine(d, ctx)),
      );
    } else if (due.length === 0) {
      b.headline(
        `Not due yet — no delivery from ${subjectText} was due ${when}: ${pending
          .slice(0, 4)
          .map((d) => `${code(d.feed.name)} by ${expectedText(d, ctx.timezone)}`)
          .join(
            ", ",
          )}${pending.length > 4 ? ` and ${pending.length - 4} more` : ""} (+${GRACE_MS / MINUTE} min grace).`,
      );
      // Say how the recent past went, so "not yet" is not the whole answer.
      const recentW = defaultWindow(new Date(Math.min(w.from.getTime(), ctx.now.getTime())));
      const recent = deliveries(await load(recentW), recentW, ctx.now).filter((d) => d.outcome !== "pending");
      const recentBad = recent.filter((d) => d.outcome !== "on_time").sort(newestFirst);
      b.section(
        recentBad.length
          ? `Before that, ${recentBad.length} of ${recent.length} deliveries in the 7 days before were late or missing:`
          : `Before that, all ${recent.length} deliveries in the 7 days before arrived on time.`,
      );
      b.list(
        "",
        listed(recentBad, (d) => deliveryLine(d, ctx)),
      );
    } else {
      const where = subj.kind === "all" ? `from ${plural(ranked.length, "supplier")}` : `from ${subjectText}`;
      if (bad.length === 0) {
        b.headline(
          pending.length
            ? `So far yes — ${due.length === 1 ? "the delivery" : `all ${due.length} deliveries`} due ${where} ${when} arrived on time; ${pending.length} not due yet.`
            : `Yes — ${due.length === 1 ? "the delivery" : `all ${due.length} deliveries`} ${where} arrived on time ${when}.`,
        );
      } else {
        const late = bad.filter((d) => d.outcome === "late");
        const missing = bad.filter((d) => d.outcome === "missing");
        const worst = late.reduce((m, d) => Math.max(m, d.delayMs!), 0);
        const who = [...new Set(bad.map((d) => d.feed.supplier ?? d.feed.name))];
        const what = [
          late.length ? `${late.length} late${late.length ? ` (up to ${formatDuration(worst)})` : ""}` : "",
          missing.length ? `${missing.length} missing` : "",
        ]
          .filter(Boolean)
          .join(" and ");
        const whose =
          subj.kind !== "all"
            ? ""
            : who.length === 1
              ? `, all from ${code(who[0]!)}`
              : `, from ${who.map(code).join(", ")}`;
        const lead = YES_NO.test(q.text) ? "No — of" : "Of";
        b.headline(`${lead} ${due.length} deliveries ${where} ${when}, ${what}${whose}.`);
      }
      if (subj.kind === "all" || ranked.length > 1) b.list("By supplier", listed(ranked, statLine));
      b.list(
        "Late or missing (newest first)",
        listed(bad, (d) => deliveryLine(d, ctx)),
      );
      if (subj.kind !== "all" && bad.length === 0)
        b.list(
          "Deliveries (newest first)",
          listed([...due].sort(newestFirst), (d) => deliveryLine(d, ctx), 7),
          7,
        );
      if (pending.length)
        b.section(
          `Not due yet: ${joinedUpTo(pending, (d) => `${code(d.feed.name)} by ${expectedText(d, ctx.timezone)}`)}.`,
        );
    }
    b.section(
      `_On time = the day's first delivery lands by the expected time + ${GRACE_MS / MINUTE} min grace. Times in ${esc(ctx.timezone)}._${envNote}`,
    );
    return b
      .from(
        `from ${all.length} expected deliveries of ${plural(feeds.length, "supplier dataset")} ${when} (dataset updates vs expected_arrival)`,
      )
      .build();
  },
};

export default command;
