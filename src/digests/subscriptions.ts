// Digest subscriptions: a channel's standing order for a report at a local time. Created from
// Slack (`/houston subscribe …`) or houston.yml (source "config", re-synced at start), ended
// by `/houston unsubscribe …` or by removal from the file. Rows are ended, never deleted, so
// past deliveries keep their subscription.
import { sql } from "drizzle-orm";
import { isValidTimeZone } from "../config.ts";
import type { Store } from "../db/client.ts";
import type { DeliveryState, DigestCadence, SubscriptionSource } from "../db/schema.ts";
import { json, ts } from "../db/sql.ts";
import { type AnomalySettings, REPORT_NAMES, type ReportName } from "./types.ts";

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const WEEKDAY_WORDS: Record<string, number> = {
  sun: 0,
  sunday: 0,
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
};

export interface SubscriptionSpec {
  report: ReportName;
  cadence: DigestCadence;
  /** 0 = Sunday … 6 = Saturday; weekly only. */
  weekday?: number;
  /** "HH:MM" local to timezone. */
  localTime: string;
  timezone: string;
  environment?: string;
  group?: string;
  /** Anomaly settings for the anomalies report. */
  settings?: Partial<AnomalySettings>;
}

export interface Subscription extends SubscriptionSpec {
  id: number;
  channel: string;
  source: SubscriptionSource;
  createdBy: string | null;
  createdAt: Date;
  endedAt: Date | null;
  channelGoneAt: Date | null;
  channelGoneError: string | null;
}

export class SubscriptionSyntaxError extends Error {
  override name = "SubscriptionSyntaxError";
}

export const SUBSCRIBE_EXAMPLES = [
  "sla daily 09:00 Europe/Berlin env prod",
  "anomalies weekly mon 08:30 group finance_close",
  "resources daily 07:00",
];

const usage = (verb: string) =>
  `Write it as \`${verb} <${REPORT_NAMES.join("|")}> daily HH:MM [Time/Zone] [env E] [group G]\` ` +
  `or \`${verb} <report> weekly <mon…sun> HH:MM …\`, e.g. \`${verb} ${SUBSCRIBE_EXAMPLES[0]}\`.`;

/** "9:00" / "09:00" → "09:00"; undefined when not a time of day. */
export function parseClock(text: string): string | undefined {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? `${m[1]!.padStart(2, "0")}:${m[2]}` : undefined;
}

function parseReport(word: string | undefined, verb: string): ReportName {
  const r = word?.toLowerCase();
  if (r && (REPORT_NAMES as readonly string[]).includes(r)) return r as ReportName;
  throw new SubscriptionSyntaxError(
    `${word ? `"${word}" is not a digest` : "Which digest?"} (one of: ${REPORT_NAMES.join(", ")}). ${usage(verb)}`,
  );
}

/** Settings a subscription may carry: `sensitivity 2.5`, `training 28d`, `min-points 10`, `seasonality`. */
function parseSetting(words: string[], i: number, settings: Partial<AnomalySettings>, verb: string): number {
  const w = words[i]!.toLowerCase();
  const value = words[i + 1];
  const bad = (what: string) =>
    new SubscriptionSyntaxError(`${w} needs ${what}${value ? `, not "${value}"` : ""}. ${usage(verb)}`);
  if (w === "seasonality" || w === "weekday-seasonality") {
    settings.seasonality = true;
    return i + 1;
  }
  if (w === "sensitivity") {
    const n = Number(value);
    if (!value || !Number.isFinite(n) || n < 1 || n > 10) throw bad("a number from 1 to 10 (e.g. 3)");
    settings.sensitivity = n;
    return i + 2;
  }
  if (w === "training" || w === "training-days") {
    const m = /^(\d+)d?$/.exec(value ?? "");
    const n = m ? Number(m[1]) : NaN;
    if (!Number.isInteger(n) || n < 3 || n > 365) throw bad("a number of days from 3 to 365 (e.g. 14d)");
    settings.trainingDays = n;
    return i + 2;
  }
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 3 || n > 365) throw bad("a whole number from 3 to 365 (e.g. 7)");
  settings.minPoints = n;
  return i + 2;
}

const SETTING_WORDS = new Set([
  "seasonality",
  "weekday-seasonality",
  "sensitivity",
  "training",
  "training-days",
  "min-points",
  "min_points",
]);

/**
 * Parses `sla daily 09:00 [Europe/Berlin] [env prod] [group G]` or
 * `anomalies weekly mon 09:00 …` (the words after /houston subscribe). Throws
 * SubscriptionSyntaxError naming what was wrong, with an example.
 */
export function parseSubscription(
  text: string,
  defaultTimezone: string,
  verb = "subscribe",
): SubscriptionSpec {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const report = parseReport(words[0], verb);
  const cadenceWord = words[1]?.toLowerCase();
  if (cadenceWord !== "daily" && cadenceWord !== "weekly") {
    throw new SubscriptionSyntaxError(
      `${cadenceWord ? `"${words[1]}" is not a cadence` : "How often?"}: say daily or weekly. ${usage(verb)}`,
    );
  }
  const spec: SubscriptionSpec = { report, cadence: cadenceWord, localTime: "", timezone: defaultTimezone };
  let i = 2;
  if (cadenceWord === "weekly") {
    const day = words[2]?.toLowerCase();
    const n = day === undefined ? undefined : WEEKDAY_WORDS[day];
    if (n === undefined)
      throw new SubscriptionSyntaxError(
        `weekly needs a weekday (${WEEKDAYS.join(", ")})${day ? `, not "${words[2]}"` : ""}. ${usage(verb)}`,
      );
    spec.weekday = n;
    i = 3;
  }
  const clock = words[i] === undefined ? undefined : parseClock(words[i]!);
  if (!clock)
    throw new SubscriptionSyntaxError(
      `${words[i] ? `"${words[i]}" is not a time of day` : "At what time?"}: give a 24-hour local time like 09:00. ${usage(verb)}`,
    );
  spec.localTime = clock;
  i++;
  const settings: Partial<AnomalySettings> = {};
  while (i < words.length) {
    const w = words[i]!;
    const lw = w.toLowerCase();
    if (lw === "env" || lw === "environment" || lw === "in") {
      const v = words[i + 1];
      if (!v)
        throw new SubscriptionSyntaxError(`${w} needs an environment name (e.g. env prod). ${usage(verb)}`);
      spec.environment = v.toLowerCase();
      i += 2;
    } else if (lw === "group" || lw === "pipeline") {
      const v = words[i + 1];
      if (!v)
        throw new SubscriptionSyntaxError(
          `${w} needs a group name (e.g. group finance_close). ${usage(verb)}`,
        );
      spec.group = v.replace(/^`|`$/g, "");
      i += 2;
    } else if (SETTING_WORDS.has(lw)) {
      if (report !== "anomalies")
        throw new SubscriptionSyntaxError(`${w} is an anomalies setting; the ${report} digest has none.`);
      i = parseSetting(words, i, settings, verb);
    } else if (/[/]/.test(w) || /^(utc|gmt)$/i.test(w)) {
      const zone = /^(utc|gmt)$/i.test(w) ? "UTC" : w;
      if (!isValidTimeZone(zone))
        throw new SubscriptionSyntaxError(
          `"${w}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC).`,
        );
      spec.timezone = zone;
      i++;
    } else {
      throw new SubscriptionSyntaxError(`I don't know what "${w}" means here. ${usage(verb)}`);
    }
  }
  if (Object.keys(settings).length) spec.settings = settings;
  return spec;
}

/** How a digest is named to people. */
export const REPORT_LABELS: Record<ReportName, string> = {
  sla: "SLA",
  anomalies: "anomalies",
  resources: "resource usage",
};

/** The zone's short name at an instant: CET, EST; "GMT+5" only where no locale has a name. */
function zoneAbbreviation(at: Date, timezone: string): string {
  let name = "";
  for (const locale of ["en-GB", "en-US"]) {
    name =
      new Intl.DateTimeFormat(locale, { timeZone: timezone, timeZoneName: "short" })
        .formatToParts(at)
        .find((x) => x.type === "timeZoneName")?.value ?? "";
    if (!/^(GMT|UTC)[+-]/.test(name)) break;
  }
  return name;
}

/** "Mon 23 Nov 09:00 CET" in the zone. */
export function formatLocal(at: Date, timezone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: timezone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  return `${p["weekday"]} ${p["day"]} ${p["month"]} ${p["hour"]}:${p["minute"]} ${zoneAbbreviation(at, timezone)}`;
}

/** "Sat 21 Nov" for a YYYY-MM-DD date. */
export function formatDay(date: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    weekday: "short",
    day: "numeric",
    month: "short",
  }).format(new Date(`${date}T12:00:00Z`));
}

/** "daily 09:00 Europe/Berlin", "weekly Mon 08:30 UTC". */
export function describeSchedule(
  s: Pick<SubscriptionSpec, "cadence" | "weekday" | "localTime" | "timezone">,
): string {
  const day =
    s.cadence === "weekly"
      ? ` ${WEEKDAYS[s.weekday ?? 1]![0]!.toUpperCase()}${WEEKDAYS[s.weekday ?? 1]!.slice(1)}`
      : "";
  return `${s.cadence}${day} ${s.localTime} ${s.timezone}`;
}

/** "env prod, group finance_close" or "". */
export function describeScope(s: Pick<SubscriptionSpec, "environment" | "group">): string {
  return [s.environment ? `env ${s.environment}` : "", s.group ? `group ${s.group}` : ""]
    .filter(Boolean)
    .join(", ");
}

interface Row {
  id: number;
  channel: string;
  report: ReportName;
  cadence: DigestCadence;
  weekday: number;
  local_time: string;
  timezone: string;
  environment: string;
  group_name: string;
  settings: Partial<AnomalySettings> | string;
  source: SubscriptionSource;
  created_by: string | null;
  created_at: string | Date;
  ended_at: string | Date | null;
  channel_gone_at: string | Date | null;
  channel_gone_error: string | null;
}

const COLUMNS = sql`id, channel, report, cadence, weekday, local_time, timezone, environment, group_name,
  settings, source, created_by, created_at, ended_at, channel_gone_at, channel_gone_error`;

const date = (v: string | Date | null): Date | null => (v === null ? null : new Date(v));

export function toSubscription(r: Row): Subscription {
  const settings =
    typeof r.settings === "string" ? (JSON.parse(r.settings) as Partial<AnomalySettings>) : r.settings;
  const out: Subscription = {
    id: Number(r.id),
    channel: r.channel,
    report: r.report,
    cadence: r.cadence,
    localTime: r.local_time,
    timezone: r.timezone,
    source: r.source,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at),
    endedAt: date(r.ended_at),
    channelGoneAt: date(r.channel_gone_at),
    channelGoneError: r.channel_gone_error,
  };
  if (r.cadence === "weekly") out.weekday = Number(r.weekday);
  if (r.environment) out.environment = r.environment;
  if (r.group_name) out.group = r.group_name;
  if (settings && Object.keys(settings).length) out.settings = settings;
  return out;
}

/** The identity of a subscription within a channel (the unique index's columns). */
function keyValues(spec: SubscriptionSpec) {
  return {
    report: spec.report,
    cadence: spec.cadence,
    weekday: spec.cadence === "weekly" ? (spec.weekday ?? 1) : -1,
    local_time: spec.localTime,
    environment: spec.environment ?? "",
    group_name: spec.group ?? "",
  };
}

export interface CreateResult {
  subscription: Subscription;
  /** "created": new; "exists": the same one was already active; "revived": it had lost its channel. */
  outcome: "created" | "exists" | "revived";
}

/**
 * Subscribes a channel. Idempotent: the same subscription twice is reported as existing
 * (its time zone and settings updated). One whose channel had been marked gone is ended and
 * created afresh, so the slots missed while it was gone are not caught up.
 */
export async function createSubscription(
  store: Store,
  spec: SubscriptionSpec,
  opts: { channel: string; source: SubscriptionSource; createdBy?: string; now: Date },
): Promise<CreateResult> {
  const k = keyValues(spec);
  return store.transaction(async (tx) => {
    const [existing] = await store.query<Row>(
      sql`SELECT ${COLUMNS} FROM subscriptions
          WHERE ended_at IS NULL AND channel = ${opts.channel} AND report = ${k.report} AND cadence = ${k.cadence}
            AND weekday = ${k.weekday} AND local_time = ${k.local_time} AND environment = ${k.environment}
            AND group_name = ${k.group_name}
          FOR UPDATE`,
      tx,
    );
    let source = opts.source;
    if (existing && existing.channel_gone_at === null) {
      const [updated] = await store.query<Row>(
        sql`UPDATE subscriptions SET timezone = ${spec.timezone}, settings = ${json(spec.settings ?? {})}
            WHERE id = ${existing.id} RETURNING ${COLUMNS}`,
        tx,
      );
      return { subscription: toSubscription(updated!), outcome: "exists" as const };
    }
    if (existing) {
      // A config subscription stays config-owned: removing it from houston.yml still ends it.
      source = existing.source;
      await store.query(
        sql`UPDATE subscriptions SET ended_at = ${ts(opts.now)} WHERE id = ${existing.id}`,
        tx,
      );
    }
    const [row] = await store.query<Row>(
      sql`INSERT INTO subscriptions (channel, report, cadence, weekday, local_time, timezone, environment,
            group_name, settings, source, created_by, created_at)
          VALUES (${opts.channel}, ${k.report}, ${k.cadence}, ${k.weekday}, ${k.local_time}, ${spec.timezone},
            ${k.environment}, ${k.group_name}, ${json(spec.settings ?? {})}, ${source}, ${opts.createdBy ?? null},
            ${ts(opts.now)})
          RETURNING ${COLUMNS}`,
      tx,
    );
    return {
      subscription: toSubscription(row!),
      outcome: existing ? ("revived" as const) : ("created" as const),
    };
  });
}

export interface EndFilter {
  channel: string;
  /** Leave subscriptions of this source alone (Slack does not end houston.yml's). */
  keepSource?: SubscriptionSource;
  report?: ReportName;
  cadence?: DigestCadence;
  weekday?: number;
  localTime?: string;
  environment?: string;
  group?: string;
}

/** Ends the channel's active subscriptions matching the filter; returns those ended. */
export async function endSubscriptions(store: Store, f: EndFilter, now: Date): Promise<Subscription[]> {
  const cond = [sql`ended_at IS NULL`, sql`channel = ${f.channel}`];
  if (f.report) cond.push(sql`report = ${f.report}`);
  if (f.keepSource) cond.push(sql`source <> ${f.keepSource}`);
  if (f.cadence) cond.push(sql`cadence = ${f.cadence}`);
  if (f.weekday !== undefined) cond.push(sql`weekday = ${f.weekday}`);
  if (f.localTime) cond.push(sql`local_time = ${f.localTime}`);
  if (f.environment !== undefined) cond.push(sql`environment = ${f.environment}`);
  if (f.group !== undefined) cond.push(sql`group_name = ${f.group}`);
  const rows = await store.query<Row>(
    sql`UPDATE subscriptions SET ended_at = ${ts(now)} WHERE ${sql.join(cond, sql` AND `)} RETURNING ${COLUMNS}`,
  );
  return rows.map(toSubscription).sort((a, b) => a.id - b.id);
}

/**
 * Parses what follows `/houston unsubscribe`: a report, optionally narrowed like a
 * subscription (`sla daily 09:00 env prod`); `all` ends every digest of the channel.
 */
export function parseUnsubscribe(text: string, defaultTimezone: string): Omit<EndFilter, "channel"> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words[0]?.toLowerCase() === "all" && words.length === 1) return {};
  if (words.length <= 1) return { report: parseReport(words[0], "unsubscribe") };
  // Narrowed: the same grammar as subscribe, but the cadence, time and scope all filter.
  const report = parseReport(words[0], "unsubscribe");
  const out: Omit<EndFilter, "channel"> = { report };
  const rest = words.slice(1);
  if (rest[0] && /^(daily|weekly)$/i.test(rest[0])) {
    const spec = parseSubscription(words.join(" "), defaultTimezone, "unsubscribe");
    out.cadence = spec.cadence;
    if (spec.weekday !== undefined) out.weekday = spec.weekday;
    out.localTime = spec.localTime;
    if (spec.environment) out.environment = spec.environment;
    if (spec.group) out.group = spec.group;
    return out;
  }
  for (let i = 0; i < rest.length; i += 2) {
    const w = rest[i]!.toLowerCase();
    const v = rest[i + 1];
    if ((w === "env" || w === "environment" || w === "in") && v) out.environment = v.toLowerCase();
    else if ((w === "group" || w === "pipeline") && v) out.group = v.replace(/^`|`$/g, "");
    else
      throw new SubscriptionSyntaxError(
        `I don't know what "${rest[i]}" means here. Write \`unsubscribe sla\` (every SLA digest of this channel), ` +
          "`unsubscribe sla env prod`, `unsubscribe sla daily 09:00`, or `unsubscribe all`.",
      );
  }
  return out;
}

export interface DeliverySummary {
  state: DeliveryState;
  slotAt: Date;
  reportedDate: string;
  error: string | null;
  finishedAt: Date | null;
  attempts: number;
}

export interface ListedSubscription extends Subscription {
  last?: DeliverySummary;
}

/**
 * Subscriptions of a channel (or all channels), active ones plus those whose channel is
 * gone, with the latest delivery of each (a PK probe of digest_deliveries).
 */
export async function listSubscriptions(
  store: Store,
  opts: { channel?: string; includeEnded?: boolean } = {},
): Promise<ListedSubscription[]> {
  const cond = [sql`TRUE`];
  if (opts.channel) cond.push(sql`s.channel = ${opts.channel}`);
  if (!opts.includeEnded) cond.push(sql`s.ended_at IS NULL`);
  const rows = await store.query<
    Row & {
      d_state: DeliveryState | null;
      d_slot_at: string | Date | null;
      d_reported_date: string | Date | null;
      d_error: string | null;
      d_finished_at: string | Date | null;
      d_attempts: number | null;
    }
  >(
    sql`SELECT s.id, s.channel, s.report, s.cadence, s.weekday, s.local_time, s.timezone, s.environment,
          s.group_name, s.settings, s.source, s.created_by, s.created_at, s.ended_at, s.channel_gone_at,
          s.channel_gone_error, d.state AS d_state, d.slot_at AS d_slot_at, d.reported_date::text AS d_reported_date,
          d.error AS d_error, d.finished_at AS d_finished_at, d.attempts AS d_attempts
        FROM subscriptions s
        LEFT JOIN LATERAL (
          SELECT state, slot_at, reported_date, error, finished_at, attempts FROM digest_deliveries
          WHERE subscription_id = s.id ORDER BY slot_at DESC LIMIT 1) d ON TRUE
        WHERE ${sql.join(cond, sql` AND `)}
        ORDER BY s.channel, s.report, s.id`,
  );
  return rows.map((r) => {
    const s: ListedSubscription = toSubscription(r);
    if (r.d_state && r.d_slot_at) {
      s.last = {
        state: r.d_state,
        slotAt: new Date(r.d_slot_at),
        reportedDate: String(r.d_reported_date).slice(0, 10),
        error: r.d_error,
        finishedAt: date(r.d_finished_at),
        attempts: Number(r.d_attempts ?? 0),
      };
    }
    return s;
  });
}

/** Active subscriptions the scheduler should send: not ended, channel not gone. */
export async function activeSubscriptions(store: Store): Promise<Subscription[]> {
  const rows = await store.query<Row>(
    sql`SELECT ${COLUMNS} FROM subscriptions WHERE ended_at IS NULL AND channel_gone_at IS NULL ORDER BY id`,
  );
  return rows.map(toSubscription);
}

export async function getSubscription(store: Store, id: number): Promise<Subscription | undefined> {
  const [row] = await store.query<Row>(sql`SELECT ${COLUMNS} FROM subscriptions WHERE id = ${id}`);
  return row ? toSubscription(row) : undefined;
}

/**
 * The bot can no longer post to the channel (removed, archived, deleted): every active
 * subscription of the channel stops being scheduled until someone subscribes again.
 */
export async function markChannelGone(
  store: Store,
  channel: string,
  error: string,
  now: Date,
): Promise<number[]> {
  const rows = await store.query<{ id: number }>(
    sql`UPDATE subscriptions SET channel_gone_at = ${ts(now)}, channel_gone_error = ${error}
        WHERE channel = ${channel} AND ended_at IS NULL AND channel_gone_at IS NULL RETURNING id`,
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/** A houston.yml `subscriptions:` entry. */
export interface ConfigSubscription extends SubscriptionSpec {
  channel: string;
}

export interface SyncResult {
  created: number;
  updated: number;
  ended: number;
}

/**
 * Makes the config-sourced subscriptions match houston.yml: entries are created or updated
 * (time zone, settings; a Slack-made subscription with the same identity is taken over),
 * config rows no longer in the file are ended. A channel marked gone stays gone.
 */
export async function syncConfigSubscriptions(
  store: Store,
  entries: ConfigSubscription[],
  now: Date,
): Promise<SyncResult> {
  const input = entries.map((e) => ({
    channel: e.channel,
    ...keyValues(e),
    timezone: e.timezone,
    settings: e.settings ?? {},
  }));
  return store.transaction(async (tx) => {
    const up = await store.query<{ inserted: boolean; changed: boolean }>(
      sql`WITH input AS (
            SELECT * FROM jsonb_to_recordset(${json(input)}) AS x(channel text, report text, cadence text,
              weekday int, local_time text, environment text, group_name text, timezone text, settings jsonb)),
          old AS (
            SELECT s.id, s.timezone, s.settings, s.source, i.channel, i.report, i.cadence, i.weekday, i.local_time,
              i.environment, i.group_name
            FROM subscriptions s JOIN input i USING (channel, report, cadence, weekday, local_time, environment, group_name)
            WHERE s.ended_at IS NULL),
          up AS (
            INSERT INTO subscriptions AS s (channel, report, cadence, weekday, local_time, timezone, environment,
              group_name, settings, source, created_at)
            SELECT channel, report, cadence, weekday, local_time, timezone, environment, group_name, settings,
              'config', ${ts(now)}
            FROM input ORDER BY channel, report
            ON CONFLICT (channel, report, cadence, weekday, local_time, environment, group_name)
              WHERE ended_at IS NULL
            DO UPDATE SET timezone = excluded.timezone, settings = excluded.settings, source = 'config'
            RETURNING s.id)
          SELECT (o.id IS NULL) AS inserted,
            (o.id IS NOT NULL AND (o.timezone, o.settings, o.source) IS DISTINCT FROM (i.timezone, i.settings, 'config'::text))
              AS changed
          FROM input i LEFT JOIN old o USING (channel, report, cadence, weekday, local_time, environment, group_name)`,
      tx,
    );
    const keys = input.map((i) =>
      [i.channel, i.report, i.cadence, i.weekday, i.local_time, i.environment, i.group_name].join("\u001f"),
    );
    const ended = await store.query<{ id: number }>(
      sql`UPDATE subscriptions SET ended_at = ${ts(now)}
          WHERE source = 'config' AND ended_at IS NULL
            AND concat_ws(chr(31), channel, report, cadence, weekday::text, local_time, environment, group_name)
              NOT IN (SELECT jsonb_array_elements_text(${json(keys)}))
          RETURNING id`,
      tx,
    );
    return {
      created: up.filter((r) => r.inserted).length,
      updated: up.filter((r) => r.changed).length,
      ended: ended.length,
    };
  });
}
