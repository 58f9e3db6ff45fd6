// The demo fleet's numbers computed straight from its generated events (what was seeded),
// with plain loops and cron-parser: an independent check of the digests' SQL.
import { TZDate } from "@date-fns/tz";
import { CronExpressionParser } from "cron-parser";
import type { DemoFleet } from "../../src/demo/fleet.ts";
import type { DigestRequest } from "../../src/digests/types.ts";
import type { DatasetEvent, RunEvent, TestEvent } from "../../src/ingest/events.ts";
import type { TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
export const dayStart = (ymd: string) => Date.parse(`${ymd}T00:00:00Z`);

export interface Scope {
  environment?: string;
  group?: string;
}

export function truth(fleet: DemoFleet) {
  const runs = fleet.events.filter((e): e is RunEvent => e.type === "run");
  const updates = fleet.events.filter((e): e is DatasetEvent => e.type === "dataset");
  const tests = fleet.events.filter((e): e is TestEvent => e.type === "test");
  const jobOf = new Map(fleet.jobs.map((j) => [j.job, j]));
  const inScope = (job: string, s: Scope) => {
    const j = jobOf.get(job)!;
    return (!s.environment || j.environment === s.environment) && (!s.group || j.group === s.group);
  };
  const runAt = (r: RunEvent) => (r.startedAt ?? r.endedAt ?? r.scheduledFor)!.getTime();

  /** Expected slots of a UTC day, and how many ran / started after slot + grace. */
  function slots(ymd: string, s: Scope = {}) {
    const from = dayStart(ymd);
    const to = from + DAY;
    let expected = 0;
    let ran = 0;
    let late = 0;
    for (const sch of fleet.schedules) {
      if (!inScope(sch.job, s)) continue;
      const it = CronExpressionParser.parse(sch.cron, {
        tz: sch.timezone,
        currentDate: new Date(from - 1),
        endDate: new Date(to),
      });
      while (it.hasNext()) {
        const t = it.next().toDate().getTime();
        if (t >= to) break;
        if (t < from) continue;
        expected++;
        const run = runs.find((r) => r.job === sch.job && r.scheduledFor?.getTime() === t);
        if (!run) continue;
        ran++;
        if (run.startedAt!.getTime() > t + sch.graceSeconds * 1000) late++;
      }
    }
    return { expected, ran, missed: expected - ran, late, onTime: ran - late };
  }

  const failures = (ymd: string, s: Scope = {}) =>
    runs.filter(
      (r) =>
        r.status === "failed" &&
        inScope(r.job, s) &&
        runAt(r) >= dayStart(ymd) &&
        runAt(r) < dayStart(ymd) + DAY,
    ).length;

  /** Datasets with a freshness SLA and an update before the end of the day, and the stale ones. */
  function freshness(ymd: string) {
    const end = dayStart(ymd) + DAY;
    let withSla = 0;
    const stale: string[] = [];
    for (const d of fleet.datasets) {
      if (!d.maxAgeSeconds) continue;
      const last = updates
        .filter((u) => u.namespace === d.namespace && u.dataset === d.name && u.updatedAt.getTime() < end)
        .reduce((m, u) => Math.max(m, u.updatedAt.getTime()), -Infinity);
      if (last === -Infinity) continue;
      withSla++;
      if (end - last > d.maxAgeSeconds * 1000) stale.push(d.name);
    }
    return { withSla, stale };
  }

  /** Supplier deliveries expected on the UTC day: due, late (> expected + 30 min) or missing. */
  function deliveries(ymd: string) {
    const from = dayStart(ymd);
    const to = from + DAY;
    const out: { supplier: string; name: string; late: boolean; missing: boolean; delayMs: number }[] = [];
    for (const d of fleet.datasets) {
      if (!d.expectedArrival) continue;
      const [h, m] = d.expectedArrival.split(":").map(Number) as [number, number];
      for (let k = -1; k <= 1; k++) {
        const day = new Date(from + k * DAY);
        const t = new TZDate(
          day.getUTCFullYear(),
          day.getUTCMonth(),
          day.getUTCDate(),
          h,
          m,
          d.timezone ?? "UTC",
        ).getTime();
        if (t < from || t >= to) continue;
        const arrived = updates
          .filter(
            (u) =>
              u.namespace === d.namespace &&
              u.dataset === d.name &&
              Math.abs(u.updatedAt.getTime() - t) < 12 * 3_600_000,
          )
          .map((u) => u.updatedAt.getTime())
          .sort((a, b) => a - b)[0];
        out.push({
          supplier: d.supplier!,
          name: d.name,
          missing: arrived === undefined,
          late: arrived !== undefined && arrived > t + 30 * 60_000,
          delayMs: arrived === undefined ? 0 : arrived - t,
        });
      }
    }
    return out;
  }

  function testsOn(ymd: string, env = "prod") {
    const xs = tests.filter(
      (t) => t.environment === env && t.at.getTime() >= dayStart(ymd) && t.at.getTime() < dayStart(ymd) + DAY,
    );
    return {
      run: xs.filter((t) => t.status !== "skip").length,
      passed: xs.filter((t) => t.status === "pass").length,
    };
  }

  const duration = (r: RunEvent) => r.endedAt!.getTime() - r.startedAt!.getTime();
  /** A daily job's runs on a UTC day. */
  const runsOn = (job: string, ymd: string) =>
    runs.filter((r) => r.job === job && runAt(r) >= dayStart(ymd) && runAt(r) < dayStart(ymd) + DAY);

  /** Sum of a run figure over the runs that started on the UTC day (what run_daily sums). */
  function usage(ymd: string, s: Scope = {}) {
    let cost = 0;
    let cpu = 0;
    let memMb = 0;
    for (const r of runs) {
      if (!inScope(r.job, s) || runAt(r) < dayStart(ymd) || runAt(r) >= dayStart(ymd) + DAY) continue;
      cost += r.cost ?? 0;
      cpu += r.cpuSeconds ?? 0;
      memMb = Math.max(memMb, r.memoryMb ?? 0);
    }
    return { cost, cpu, memMb };
  }

  function jobUsage(job: string, ymd: string) {
    return runsOn(job, ymd).reduce((a, r) => a + (r.cost ?? 0), 0);
  }

  return {
    runs,
    updates,
    tests,
    slots,
    failures,
    freshness,
    deliveries,
    testsOn,
    duration,
    runsOn,
    usage,
    jobUsage,
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const daysBefore = (ymd: string, n: number) =>
  Array.from({ length: n }, (_, i) => new Date(dayStart(ymd) - (i + 1) * DAY).toISOString().slice(0, 10));

/** A daily UTC digest request for the demo's "yesterday", with overrides. */
export const demoRequest = (store: TestStore, over: Partial<DigestRequest> = {}): DigestRequest => ({
  store,
  date: "2026-11-21",
  days: 1,
  timezone: "UTC",
  chart: false,
  ...over,
});
