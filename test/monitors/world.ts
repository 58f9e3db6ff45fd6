// A small, explicit world for monitor tests: jobs with schedules, runs, dataset SLAs,
// deliveries and test results, written through the real ingest path (Ingestor) and the
// real schedule/SLA sync (upsertSchedules / upsertDatasetSlas), on a fixed clock.
import { sql } from "drizzle-orm";
import type { Store } from "../../src/db/client.ts";
import { type DatasetSlaRow, upsertDatasetSlas, upsertSchedules } from "../../src/db/schedules.ts";
import type { RunStatus, TestStatus } from "../../src/db/schema.ts";
import {
  type HoustonFile,
  type MonitorConfig,
  monitorConfig,
  parseHoustonFile,
} from "../../src/houston-yml.ts";
import { Ingestor } from "../../src/ingest/apply.ts";

export const NS = "dbt";
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const at = (iso: string) => new Date(iso);
export const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);

/** A MonitorConfig from houston.yml text (defaults: channel #alerts, routing key RK). */
export function configOf(
  yml = "",
  env: { alertChannel?: string; routingKey?: string } = { alertChannel: "#alerts", routingKey: "RK" },
): MonitorConfig {
  const file: HoustonFile = parseHoustonFile(yml, "houston.yml", "UTC");
  return monitorConfig(file, env);
}

let seq = 0;

export class World {
  readonly ingestor: Ingestor;
  constructor(readonly store: Store) {
    this.ingestor = new Ingestor(store);
  }

  /** A job with a cron schedule (UTC unless given) and grace, in group/channel if given. */
  async schedule(
    job: string,
    cron: string,
    now: Date,
    opts: { graceSeconds?: number; timezone?: string; group?: string; channel?: string } = {},
  ): Promise<void> {
    await upsertSchedules(
      this.store,
      "config",
      [
        {
          namespace: NS,
          job,
          cron,
          timezone: opts.timezone ?? "UTC",
          graceSeconds: opts.graceSeconds ?? 3600,
        },
      ],
      now,
    );
    if (opts.group || opts.channel)
      await this.store.query(
        sql`UPDATE jobs SET group_name = coalesce(${opts.group ?? null}, group_name),
              slack_channel = coalesce(${opts.channel ?? null}, slack_channel)
            WHERE namespace = ${NS} AND name = ${job}`,
      );
  }

  /** A run: started (status running) or finished (ended given). Same runId → same run. */
  async run(
    job: string,
    runId: string,
    r: { start: Date; end?: Date; status?: RunStatus; scheduled?: Date; error?: string; group?: string },
  ): Promise<void> {
    const status: RunStatus = r.status ?? (r.end ? "success" : "running");
    await this.ingestor.apply([
      {
        type: "run",
        id: `t-${++seq}`,
        namespace: NS,
        job,
        runId,
        status,
        startedAt: r.start,
        ...(r.end ? { endedAt: r.end } : {}),
        ...(r.scheduled ? { scheduledFor: r.scheduled } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...(r.group ? { group: r.group } : {}),
        environment: "prod",
        eventTime: r.end ?? r.start,
      },
    ]);
  }

  /** Finished runs: one per day at `time` UTC for each status, oldest first, ending the day before `until`. */
  async history(job: string, until: Date, time: string, statuses: RunStatus[], durationMs = 30 * MIN) {
    const days = statuses.length;
    for (let i = 0; i < days; i++) {
      const day = new Date(until.getTime() - (days - i) * DAY).toISOString().slice(0, 10);
      const start = new Date(`${day}T${time}:00Z`);
      await this.run(job, `${job}-h-${day}`, {
        start,
        end: plus(start, durationMs),
        status: statuses[i]!,
        ...(statuses[i] === "failed" ? { error: `boom on ${day}` } : {}),
      });
    }
  }

  async sla(
    name: string,
    row: Omit<DatasetSlaRow, "namespace" | "name" | "timezone"> & { timezone?: string },
  ) {
    await upsertDatasetSlas(this.store, "config", [
      { namespace: "warehouse", name, timezone: row.timezone ?? "UTC", ...row },
    ]);
  }

  async update(dataset: string, when: Date, extra: { supplier?: string } = {}): Promise<void> {
    await this.ingestor.apply([
      {
        type: "dataset",
        id: `t-${++seq}`,
        namespace: "warehouse",
        dataset,
        updatedAt: when,
        rows: 100,
        ...(extra.supplier ? { supplier: extra.supplier } : {}),
      },
    ]);
  }

  async testResult(test: string, dataset: string, status: TestStatus, when: Date, environment = "prod") {
    await this.ingestor.apply([
      {
        type: "test",
        id: `t-${++seq}`,
        test,
        dataset,
        datasetNamespace: "warehouse",
        status,
        environment,
        value: status === "pass" ? "0 failing rows" : "3 failing rows",
        at: when,
      },
    ]);
  }

  async outbox(): Promise<{ id: number; target: string; ordering_key: string; payload: any }[]> {
    return this.store.query(sql`SELECT id::int AS id, target, ordering_key, payload FROM outbox ORDER BY id`);
  }

  async incidents(): Promise<
    {
      id: number;
      key: string;
      kind: string;
      state: string;
      silenced: boolean;
      severity: string;
      details: any;
    }[]
  > {
    return this.store.query(
      sql`SELECT id::int AS id, key, kind, state, silenced, severity, details FROM incidents ORDER BY id`,
    );
  }
}
