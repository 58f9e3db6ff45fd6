// `houston demo`: seeds the deterministic 30-day demo fleet into the store. Every event
// carries a fixed id, so seeding twice is a no-op and gives the same data.
import { sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { flushAllRollups } from "../db/rollup.ts";
import { SLOT_HORIZON_MS, upsertDatasetSlas, upsertSchedules } from "../db/schedules.ts";
import { expandSlots, loadSchedules } from "../db/slots.ts";
import { generateDemoFleet } from "../demo/fleet.ts";
import { Ingestor } from "../ingest/apply.ts";

export interface DemoSummary {
  until: string;
  events: number;
  accepted: number;
  duplicates: number;
  jobs: number;
  stories: { kind: string; subject: string; day: string; detail: string }[];
}

/** `until` is the UTC midnight ending the history (default: today's). */
export async function seedDemo(
  store: Store,
  opts: { until: Date; days?: number; now: Date },
): Promise<DemoSummary> {
  // Today's history runs up to the current hour, so nothing after 06:00 looks missed.
  const todayHours = Math.max(
    0,
    Math.min(24, Math.floor((opts.now.getTime() - opts.until.getTime()) / 3_600_000)),
  );
  const fleet = generateDemoFleet({ until: opts.until, days: opts.days ?? 30, todayHours });
  const ingestor = new Ingestor(store);
  let accepted = 0;
  let duplicates = 0;
  for (let i = 0; i < fleet.events.length; i += 1000) {
    const r = await ingestor.applyOnly(fleet.events.slice(i, i + 1000));
    accepted += r.accepted;
    duplicates += r.duplicates;
  }
  // Slack channels are metadata no event carries.
  await store.query(
    sql`UPDATE jobs j SET slack_channel = x.channel
        FROM jsonb_to_recordset(${JSON.stringify(fleet.jobs.map((j) => ({ namespace: j.namespace, name: j.job, channel: j.slackChannel })))}::jsonb)
          AS x(namespace text, name text, channel text)
        WHERE j.namespace = x.namespace AND j.name = x.name AND j.slack_channel IS DISTINCT FROM x.channel`,
  );
  await upsertSchedules(
    store,
    "demo",
    fleet.schedules.map((s) => ({
      namespace: s.namespace,
      job: s.job,
      cron: s.cron,
      timezone: s.timezone,
      graceSeconds: s.graceSeconds,
    })),
    opts.now,
  );
  await upsertDatasetSlas(
    store,
    "demo",
    fleet.datasets.map((d) => ({
      namespace: d.namespace,
      name: d.name,
      maxAgeSeconds: d.maxAgeSeconds,
      expectedArrival: d.expectedArrival,
      timezone: d.timezone ?? "UTC",
      supplier: d.supplier,
      owner: d.owner,
    })),
  );
  // Expected slots over the whole seeded history, so "missed runs" has a past to look at.
  const days = opts.days ?? 30;
  const from = new Date(opts.until.getTime() - days * 86_400_000);
  const to = new Date(Math.max(opts.until.getTime(), opts.now.getTime()) + SLOT_HORIZON_MS);
  await expandSlots(store, await loadSchedules(store), from, to);
  await flushAllRollups(store);
  return {
    until: opts.until.toISOString().slice(0, 10),
    events: fleet.events.length,
    accepted,
    duplicates,
    jobs: fleet.jobs.length,
    stories: fleet.stories,
  };
}
