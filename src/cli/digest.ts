// `houston digest <sla|anomalies|resources> [--date YYYY-MM-DD] [--tz TZ] [--env E] [--group G]
// [--weekly] [--print | --channel C] [--png FILE]`: any day's digest, rendered the way the
// scheduler renders it. Printed to the terminal by default (a newcomer sees it on demo data),
// posted now to a channel with --channel (an operator re-sending one; recorded as a delivery
// like any other), and the chart written with --png.
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import type { webApi } from "@slack/bolt";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { isValidTimeZone } from "../config.ts";
import type { Store } from "../db/client.ts";
import { ts } from "../db/sql.ts";
import { digestToTerminal } from "../digests/common.ts";
import { type DeliveryResult, deliverOne, digestRequest, reportLoader } from "../digests/deliver.ts";
import { addDays, localDateOf, weekdayOf } from "../digests/slots.ts";
import { type AnomalySettings, REPORT_NAMES, type Report, type ReportName } from "../digests/types.ts";
import { mapEmoji } from "./ask.ts";
import { UsageError } from "./run.ts";

export const DIGEST_USAGE = `houston digest <${REPORT_NAMES.join("|")}> [--date YYYY-MM-DD] [--tz TZ] [--env E] [--group G]
                      [--weekly] [--print | --channel C] [--png FILE]
  --date     the (last) local day the digest covers; default yesterday in --tz
  --tz       IANA time zone whose midnights bound the day; default HOUSTON_TIMEZONE
  --weekly   the 7 days ending on --date instead of one day
  --print    print it here (the default)
  --channel  post it now to this Slack channel (needs SLACK_BOT_TOKEN); recorded as a delivery
  --png      write the chart to FILE`;

export interface DigestArgs {
  report: ReportName;
  date?: string;
  timezone?: string;
  environment?: string;
  group?: string;
  weekly: boolean;
  channel?: string;
  png?: string;
}

const VALUE_FLAGS = ["--date", "--tz", "--env", "--group", "--channel", "--png"];

export function parseDigestArgs(args: string[]): DigestArgs {
  const [report, ...rest] = args;
  if (!report || !(REPORT_NAMES as readonly string[]).includes(report)) {
    throw new UsageError(
      `${report ? `"${report}" is not a digest` : "houston digest needs a digest"} (one of: ${REPORT_NAMES.join(", ")})\n\n${DIGEST_USAGE}`,
    );
  }
  const out: DigestArgs = { report: report as ReportName, weekly: false };
  let print = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--print") print = true;
    else if (a === "--weekly") out.weekly = true;
    else if (VALUE_FLAGS.includes(a)) {
      const v = rest[i + 1];
      if (v === undefined || v.startsWith("--"))
        throw new UsageError(`${a} needs a value\n\n${DIGEST_USAGE}`);
      i++;
      if (a === "--date") {
        if (
          !/^\d{4}-\d{2}-\d{2}$/.test(v) ||
          Number.isNaN(Date.parse(`${v}T00:00:00Z`)) ||
          addDays(v, 0) !== v
        )
          throw new UsageError(`--date ${v}: expected a calendar date YYYY-MM-DD, e.g. 2026-11-21`);
        out.date = v;
      } else if (a === "--tz") {
        if (!isValidTimeZone(v))
          throw new UsageError(`--tz ${v} is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
        out.timezone = v;
      } else if (a === "--env") out.environment = v.toLowerCase();
      else if (a === "--group") out.group = v;
      else if (a === "--channel") out.channel = v;
      else out.png = v;
    } else throw new UsageError(`unknown option ${a}\n\n${DIGEST_USAGE}`);
  }
  if (print && out.channel) throw new UsageError("use either --print or --channel, not both");
  return out;
}

export interface DigestCommandDeps {
  store: Store;
  now: Date;
  /** HOUSTON_TIMEZONE, when --tz is not given. */
  timezone: string;
  log: Logger;
  /** Where the terminal output goes. */
  out: (line: string) => void;
  /** A Web API client with the bot token; required for --channel. */
  client?: webApi.WebClient;
  reports?: (name: ReportName) => Promise<Report>;
  jobAnomalies?: Record<string, Partial<AnomalySettings>>;
  anomalyDefaults?: Partial<AnomalySettings>;
}

/** Runs `houston digest`; resolves with the exit code. */
export async function digestCommand(a: DigestArgs, deps: DigestCommandDeps): Promise<number> {
  const timezone = a.timezone ?? deps.timezone;
  const date = a.date ?? addDays(localDateOf(deps.now, timezone), -1);
  const reports = deps.reports ?? reportLoader();
  const scope = {
    cadence: a.weekly ? ("weekly" as const) : ("daily" as const),
    timezone,
    ...(a.environment ? { environment: a.environment } : {}),
    ...(a.group ? { group: a.group } : {}),
  };
  if (a.channel) return post(a, deps, { ...scope, date, reports });
  const report = await reports(a.report);
  const digest = await report.build({
    ...digestRequest(deps, scope, date),
    chart: a.png !== undefined,
  });
  deps.out(mapEmoji(digestToTerminal(digest)));
  if (a.png !== undefined) {
    if (!digest.chart) {
      deps.out(
        `no chart: ${digest.empty ? "there is nothing to report for that day" : "this digest has none"}`,
      );
      return 1;
    }
    writeFileSync(a.png, digest.chart.png);
    deps.out(
      `chart written to ${a.png} (${digest.chart.width}×${digest.chart.height} PNG, ${digest.chart.png.length} bytes)`,
    );
  }
  return 0;
}

/**
 * --channel: a one-off subscription (source "cli", ended as it is created, so never
 * scheduled) and one delivery row at this instant, delivered through the same path as a
 * scheduled slot. One attempt: a failure is recorded and reported, not retried behind the
 * operator's back.
 */
async function post(
  a: DigestArgs,
  deps: DigestCommandDeps,
  s: {
    cadence: "daily" | "weekly";
    timezone: string;
    environment?: string;
    group?: string;
    date: string;
    reports: (name: ReportName) => Promise<Report>;
  },
): Promise<number> {
  if (!deps.client)
    throw new UsageError(
      "--channel needs Slack: set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET) as for the server",
    );
  const { store, now } = deps;
  // Inserted directly, not through createSubscription: that would take over (and here end)
  // a real subscription that happened to have the same identity.
  const [subscription] = await store.query<{ id: number }>(
    sql`INSERT INTO subscriptions (channel, report, cadence, weekday, local_time, timezone, environment, group_name,
          source, created_by, created_at, ended_at)
        VALUES (${a.channel!}, ${a.report}, ${s.cadence}, ${s.cadence === "weekly" ? weekdayAfter(s.date) : -1}, '00:00',
          ${s.timezone}, ${s.environment ?? ""}, ${s.group ?? ""}, 'cli', ${`cli:${hostname()}`}, ${ts(now)}, ${ts(now)})
        RETURNING id`,
  );
  const subscriptionId = Number(subscription!.id);
  const replicaId = `cli:${hostname()}:${process.pid}`;
  await store.query(
    sql`INSERT INTO digest_deliveries (subscription_id, slot_at, report, channel, reported_date, state,
          next_attempt_at, claimed_by, claimed_at)
        VALUES (${subscriptionId}, ${ts(now)}, ${a.report}, ${a.channel!}, ${s.date}::date, 'claimed', ${ts(now)},
          ${replicaId}, ${ts(now)})`,
  );
  const r: DeliveryResult | undefined = await deliverOne(
    {
      store,
      client: deps.client,
      log: deps.log,
      now: () => now,
      replicaId,
      reports: s.reports,
      maxAttempts: 1,
      ...(deps.jobAnomalies ? { jobAnomalies: deps.jobAnomalies } : {}),
      ...(deps.anomalyDefaults ? { anomalyDefaults: deps.anomalyDefaults } : {}),
    },
    subscriptionId,
    now,
  );
  if (r?.state === "delivered") {
    deps.out(
      `posted the ${a.report} digest for ${s.date} (${s.timezone}) to ${a.channel}: ts ${r.ts}` +
        `${r.fileId ? `, chart ${r.fileId}` : ""}, in ${r.durationMs} ms`,
    );
    return 0;
  }
  deps.out(
    `could not post the ${a.report} digest to ${a.channel}: ${r?.error ?? "the delivery was taken by another process"}`,
  );
  return 1;
}

/** The weekday a weekly digest covering the 7 days to `date` is sent on (the day after). */
function weekdayAfter(date: string): number {
  return weekdayOf(addDays(date, 1));
}
