// The App Home tab: the fleet at a glance for whoever opens it, rebuilt on every open
// (app_home_opened → views.publish). Loading is a handful of index-backed queries as of
// `now`; rendering is pure (data → Block Kit) and stays within Slack's limits for a Home
// view (100 blocks, 3,000 characters a section) however big the fleet is.
import type { KnownBlock } from "@slack/types";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";
import { ts } from "../db/sql.ts";
import { code, esc } from "../questions/answer.ts";
import { formatDuration } from "../questions/format.ts";
import { formatDateTime, formatTime, localDay } from "../time/index.ts";
import type { UserTimezones } from "./timezones.ts";

const HOUR_MS = 3_600_000;
/** A job whose latest run failed longer ago than this is not "failing now" (as /houston status). */
const FAILING_LOOKBACK_MS = 72 * HOUR_MS;
/** Missed slots are listed when they fell due within this window. */
const LATE_LOOKBACK_MS = 24 * HOUR_MS;
/** Rows listed per part; the rest is counted ("…and 12 more"). */
export const HOME_LIST_LIMIT = 10;
export const HOME_MAX_BLOCKS = 100;
const MAX_SECTION_CHARS = 3_000;

export interface HomeData {
  now: Date;
  timezone: string;
  failing: { name: string; runAt: Date; error: string | null }[];
  failingTotal: number;
  late: { name: string; firstSlotAt: Date; slots: number }[];
  lateTotal: number;
  stale: { name: string; updatedAt: Date | null; maxAgeSeconds: number }[];
  staleTotal: number;
  incidents: {
    byState: Record<string, number>;
    list: { state: string; severity: string; summary: string; openedAt: Date; silenced: boolean }[];
  };
  /** Expected slots since local midnight (in `timezone`) up to now. */
  sla: { since: Date; expected: number; ran: number; missed: number; notDueYet: number };
  /** null: this database has no subscriptions table yet. */
  subscriptions: Subscription[] | null;
}

export interface Subscription {
  channel: string;
  report: string;
  cadence: string;
  weekday: number;
  localTime: string;
  timezone: string;
  environment: string;
  group: string;
}

const msOf = (col: string) => sql.raw(`(extract(epoch FROM ${col}) * 1000)::float8`);
const date = (v: unknown): Date => new Date(Number(v));

export async function loadHome(store: Store, now: Date, userId: string, timezone: string): Promise<HomeData> {
  const at = ts(now);
  const failFrom = ts(new Date(now.getTime() - FAILING_LOOKBACK_MS));
  // Candidates from the partial index on failed runs, then each one's latest run.
  const failing = await store.query<{ name: string; run_at: number; error: string | null }>(
    sql`WITH cand AS (
          SELECT DISTINCT r.job_id FROM runs r
          WHERE r.status = 'failed' AND r.run_at >= ${failFrom} AND r.run_at <= ${at}
        )
        SELECT j.name, ${msOf("lr.run_at")} AS run_at, lr.error
        FROM cand JOIN jobs j ON j.id = cand.job_id
        CROSS JOIN LATERAL (
          SELECT r.status, r.run_at, r.error FROM runs r
          WHERE r.job_id = cand.job_id AND r.run_at >= ${failFrom} AND r.run_at <= ${at}
          ORDER BY r.run_at DESC, r.id DESC LIMIT 1) lr
        WHERE lr.status = 'failed'
        ORDER BY lr.run_at DESC, j.name`,
  );
  // Unmatched slots past due (the partial index on run_id IS NULL), one line per job.
  const late = await store.query<{ name: string; slots: number; first_slot: number }>(
    sql`SELECT j.name, count(*)::int AS slots, ${msOf("min(e.slot_at)")} AS first_slot
        FROM expected_runs e JOIN jobs j ON j.id = e.job_id
        WHERE e.run_id IS NULL AND e.due_at >= ${ts(new Date(now.getTime() - LATE_LOOKBACK_MS))}
          AND e.due_at <= ${at}
        GROUP BY j.name
        ORDER BY min(e.slot_at), j.name`,
  );
  const stale = await store.query<{ name: string; max_age_seconds: number; updated_at: number | null }>(
    sql`SELECT d.name, d.max_age_seconds, ${msOf("u.updated_at")} AS updated_at
        FROM datasets d
        LEFT JOIN LATERAL (
          SELECT x.updated_at FROM dataset_updates x
          WHERE x.dataset_id = d.id AND x.updated_at <= ${at}
          ORDER BY x.updated_at DESC, x.id DESC LIMIT 1) u ON true
        WHERE d.max_age_seconds IS NOT NULL
          AND (u.updated_at IS NULL OR u.updated_at < ${at} - d.max_age_seconds * interval '1 second')
        ORDER BY coalesce(u.updated_at, '-infinity'::timestamptz), d.name`,
  );
  const openCounts = await store.query<{ state: string; n: number }>(
    sql`SELECT state, count(*)::int AS n FROM incidents WHERE state <> 'resolved' GROUP BY state`,
  );
  const open = await store.query<{
    state: string;
    severity: string;
    summary: string;
    opened_at: number;
    silenced: boolean;
  }>(
    sql`SELECT state, severity, summary, ${msOf("opened_at")} AS opened_at, silenced
        FROM incidents WHERE state <> 'resolved'
        ORDER BY opened_at DESC LIMIT ${HOME_LIST_LIMIT}`,
  );
  const since = localDay(now, timezone).from;
  const [sla] = await store.query<{ expected: number; ran: number; missed: number }>(
    sql`SELECT count(*)::int AS expected, count(e.run_id)::int AS ran,
               count(*) FILTER (WHERE e.run_id IS NULL AND e.due_at <= ${at})::int AS missed
        FROM expected_runs e
        WHERE e.slot_at >= ${ts(since)} AND e.slot_at <= ${at}`,
  );
  const expected = Number(sla?.expected ?? 0);
  const ran = Number(sla?.ran ?? 0);
  const missed = Number(sla?.missed ?? 0);
  return {
    now,
    timezone,
    failing: failing
      .slice(0, HOME_LIST_LIMIT)
      .map((r) => ({ name: r.name, runAt: date(r.run_at), error: r.error })),
    failingTotal: failing.length,
    late: late
      .slice(0, HOME_LIST_LIMIT)
      .map((r) => ({ name: r.name, slots: Number(r.slots), firstSlotAt: date(r.first_slot) })),
    lateTotal: late.length,
    stale: stale.slice(0, HOME_LIST_LIMIT).map((r) => ({
      name: r.name,
      maxAgeSeconds: Number(r.max_age_seconds),
      updatedAt: r.updated_at === null ? null : date(r.updated_at),
    })),
    staleTotal: stale.length,
    incidents: {
      byState: Object.fromEntries(openCounts.map((r) => [r.state, Number(r.n)])),
      list: open.map((r) => ({
        state: r.state,
        severity: r.severity,
        summary: r.summary,
        openedAt: date(r.opened_at),
        silenced: r.silenced,
      })),
    },
    sla: { since, expected, ran, missed, notDueYet: Math.max(0, expected - ran - missed) },
    subscriptions: await loadSubscriptions(store, userId),
  };
}

/** The user's active digest subscriptions; null while the subscriptions table does not exist. */
async function loadSubscriptions(store: Store, userId: string): Promise<Subscription[] | null> {
  const [t] = await store.query<{ present: boolean }>(
    sql`SELECT to_regclass('subscriptions') IS NOT NULL AS present`,
  );
  if (!t?.present) return null;
  const rows = await store.query<{
    channel: string;
    report: string;
    cadence: string;
    weekday: number;
    local_time: string;
    timezone: string;
    environment: string;
    group_name: string;
  }>(
    sql`SELECT channel, report, cadence, weekday, local_time, timezone, environment, group_name
        FROM subscriptions WHERE created_by = ${userId} AND ended_at IS NULL
        ORDER BY id LIMIT ${HOME_LIST_LIMIT * 2}`,
  );
  return rows.map((r) => ({
    channel: r.channel,
    report: r.report,
    cadence: r.cadence,
    weekday: Number(r.weekday),
    localTime: r.local_time,
    timezone: r.timezone,
    environment: r.environment,
    group: r.group_name,
  }));
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const STATE_ICON: Record<string, string> = {
  triggered: ":red_circle:",
  acknowledged: ":large_yellow_circle:",
};

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function section(text: string): KnownBlock {
  return { type: "section", text: { type: "mrkdwn", text: clip(text, MAX_SECTION_CHARS) } };
}

function context(text: string): KnownBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text: clip(text, MAX_SECTION_CHARS) }] };
}

/** A titled list: as many lines as fit in one section, then how many more there are. */
function list(title: string, lines: string[], total: number, empty: string): KnownBlock[] {
  if (total === 0) return [section(`*${title}*\n${empty}`)];
  const head = `*${title}* (${total})`;
  // Room kept for the "…and N more" line.
  const budget = MAX_SECTION_CHARS - 40;
  let text = head;
  let shown = 0;
  for (const line of lines) {
    if (text.length + 1 + line.length > budget) break;
    text += `\n${line}`;
    shown++;
  }
  if (total > shown) text += `\n…and ${total - shown} more`;
  return [section(text)];
}

function channelRef(channel: string): string {
  return /^[CG][A-Z0-9]{2,}$/.test(channel) ? `<#${channel}>` : esc(channel);
}

export function renderHome(d: HomeData): { type: "home"; blocks: KnownBlock[] } {
  const when = (x: Date) => formatDateTime(x, d.timezone, d.now);
  const openTotal = Object.values(d.incidents.byState).reduce((a, n) => a + n, 0);
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: "Houston — the fleet at a glance" } },
    context(
      `As of ${formatTime(d.now, d.timezone)} (${esc(d.timezone)}) · refreshed each time you open this tab`,
    ),
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Failing now*\n${d.failingTotal}` },
        { type: "mrkdwn", text: `*Late*\n${d.lateTotal}` },
        { type: "mrkdwn", text: `*Stale datasets*\n${d.staleTotal}` },
        { type: "mrkdwn", text: `*Open incidents*\n${openTotal}` },
      ],
    },
    { type: "divider" },
    ...list(
      "Failing now",
      d.failing.map(
        (f) =>
          `• ${code(f.name)} — failed ${when(f.runAt)}${f.error ? ` · ${esc(clip(f.error.split("\n")[0]!, 120))}` : ""}`,
      ),
      d.failingTotal,
      "No job's latest run failed. :white_check_mark:",
    ),
    ...list(
      "Late",
      d.late.map(
        (l) =>
          `• ${code(l.name)} — expected ${when(l.firstSlotAt)}${l.slots > 1 ? ` (${l.slots} runs missing)` : ""}`,
      ),
      d.lateTotal,
      "Every run due in the last 24 hours has arrived. :white_check_mark:",
    ),
    ...list(
      "Stale datasets",
      d.stale.map(
        (s) =>
          `• ${code(s.name)} — ${s.updatedAt ? `last updated ${when(s.updatedAt)}` : "never updated"} (SLA ${formatDuration(s.maxAgeSeconds * 1000)})`,
      ),
      d.staleTotal,
      "Every dataset with a freshness SLA is fresh. :white_check_mark:",
    ),
    { type: "divider" },
    ...list(
      "Open incidents",
      d.incidents.list.map(
        (i) =>
          `${STATE_ICON[i.state] ?? ":white_circle:"} *${esc(i.state)}* · ${esc(i.severity)}${i.silenced ? " · silenced" : ""} — ${esc(clip(i.summary, 200))} _(since ${when(i.openedAt)})_`,
      ),
      openTotal,
      "None open. :white_check_mark:",
    ),
  ];
  const s = d.sla;
  const onTime = s.expected - s.notDueYet > 0 ? Math.round((100 * s.ran) / (s.expected - s.notDueYet)) : null;
  blocks.push(
    section(
      `*Today's SLA so far* (since ${formatTime(s.since, d.timezone)} ${esc(d.timezone)})` +
        (s.expected === 0
          ? "\nNo runs were expected yet today."
          : `\n${s.expected} expected · ${s.ran} ran · ${s.missed} missed · ${s.notDueYet} not due yet` +
            (onTime === null ? "" : ` — *${onTime}%* of the runs due so far arrived`)),
    ),
    { type: "divider" },
  );
  if (d.subscriptions === null) {
    blocks.push(
      section("*Your digest subscriptions*\nDigest subscriptions are not set up on this Houston yet."),
    );
  } else {
    blocks.push(
      ...list(
        "Your digest subscriptions",
        d.subscriptions.map((x) => {
          const when = x.cadence === "weekly" ? `weekly on ${WEEKDAYS[x.weekday] ?? "?"}s` : "daily";
          const scope = [x.environment && `env ${code(x.environment)}`, x.group && `group ${code(x.group)}`]
            .filter(Boolean)
            .join(", ");
          return `• ${code(x.report)} ${when} at ${esc(x.localTime)} ${esc(x.timezone)} in ${channelRef(x.channel)}${scope ? ` (${scope})` : ""}`;
        }),
        d.subscriptions.length,
        "You have none. In a channel, try `/houston subscribe sla daily 09:00`.",
      ),
    );
  }
  blocks.push(context("Ask anything with `/houston`, e.g. `/houston status` or `/houston help`."));
  return { type: "home", blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}

/** Plain numbers for the log line about a published Home. */
export function homeSummary(d: HomeData): Record<string, number> {
  return {
    failing: d.failingTotal,
    late: d.lateTotal,
    stale: d.staleTotal,
    incidents: Object.values(d.incidents.byState).reduce((a, n) => a + n, 0),
    subscriptions: d.subscriptions?.length ?? 0,
  };
}

export interface HomeDeps {
  store: Store;
  now: () => Date;
  /** The opener's Slack time zone (users.info, cached), else HOUSTON_TIMEZONE. */
  timezones: UserTimezones;
  log: Logger;
}
