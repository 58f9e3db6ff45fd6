import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { sql } from "drizzle-orm";
import { flushAllRollups, flushRollups, RollupFlusher } from "../../src/db/rollup.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import type { RunEvent } from "../../src/ingest/events.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const at = (iso: string) => new Date(`${iso}Z`);

function run(
  job: string,
  runId: string,
  status: RunEvent["status"],
  startedAt: string | undefined,
  endedAt?: string,
  extra: Partial<RunEvent> = {},
): RunEvent {
  const e: RunEvent = {
    type: "run",
    namespace: "default",
    job,
    runId,
    status,
    eventTime: at((endedAt ?? startedAt)!),
    ...extra,
  };
  if (startedAt) e.startedAt = at(startedAt);
  if (endedAt) e.endedAt = at(endedAt);
  return e;
}

interface Daily {
  job: string;
  day: string;
  runs: number;
  successes: number;
  failures: number;
  running: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
  total: number | null;
  rows: number | null;
  bad: number | null;
  cpu: number | null;
  mem: number | null;
  cost: number | null;
  first: string;
  last: string;
}

const iso = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;

/** run_daily as plain values (the same on both drivers). */
async function daily(store: TestStore): Promise<Daily[]> {
  return store.query<Daily>(
    sql`SELECT j.name AS job, d.day::text AS day, d.runs, d.successes, d.failures, d.running,
          d.duration_p50_ms AS p50, d.duration_p95_ms AS p95, d.duration_max_ms AS max,
          d.duration_total_ms AS total, d.rows::int AS rows, d.bad_records::float8 AS bad, d.cpu_seconds AS cpu, d.memory_mb_max AS mem,
          d.cost, to_char(d.first_run_at AT TIME ZONE 'UTC', ${sql.raw(iso)}) AS first,
          to_char(d.last_run_at AT TIME ZONE 'UTC', ${sql.raw(iso)}) AS last
        FROM run_daily d JOIN jobs j ON j.id = d.job_id ORDER BY j.name, d.day`,
  );
}

/** What run_daily should hold: the same aggregates computed from runs right now. */
async function recomputed(store: TestStore): Promise<Daily[]> {
  return store.query<Daily>(
    sql`SELECT j.name AS job, (r.run_at AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS runs,
          count(*) FILTER (WHERE r.status = 'success')::int AS successes,
          count(*) FILTER (WHERE r.status = 'failed')::int AS failures,
          count(*) FILTER (WHERE r.status = 'running')::int AS running,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms) AS p50,
          percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms) AS p95,
          max(r.duration_ms)::float8 AS max, sum(r.duration_ms)::float8 AS total, sum(r.rows)::int AS rows,
          sum(r.bad_records)::float8 AS bad,
          sum(r.cpu_seconds) AS cpu, max(r.memory_mb) AS mem, sum(r.cost) AS cost,
          to_char(min(r.run_at) AT TIME ZONE 'UTC', ${sql.raw(iso)}) AS first,
          to_char(max(r.run_at) AT TIME ZONE 'UTC', ${sql.raw(iso)}) AS last
        FROM runs r JOIN jobs j ON j.id = r.job_id GROUP BY 1, 2 ORDER BY 1, 2`,
  );
}

async function dirtyCount(store: TestStore): Promise<number> {
  const [r] = await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM rollup_dirty`);
  return r!.n;
}

describeEachStore("run_daily rollup", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(async () => {
    await store.dispose();
  });
  beforeEach(async () => {
    await store.query(sql`TRUNCATE runs, jobs, run_daily, rollup_dirty CASCADE`);
  });

  it("holds exact percentiles, counts and sums for a hand-made day after ingest", async () => {
    const ingestor = new Ingestor(store);
    await ingestor.apply([
      run("orders", "r1", "success", "2026-05-04T00:10:00", "2026-05-04T00:11:00", {
        rows: 100,
        badRecords: 3,
        cpuSeconds: 1.5,
        memoryMb: 512,
        cost: 0.25,
      }),
      run("orders", "r2", "success", "2026-05-04T03:00:00", "2026-05-04T03:02:00", {
        rows: 200,
        badRecords: 0,
        cpuSeconds: 2.5,
        memoryMb: 1024,
        cost: 0.5,
      }),
      run("orders", "r3", "failed", "2026-05-04T06:00:00", "2026-05-04T06:03:00", {
        cpuSeconds: 0.5,
        memoryMb: 256,
        cost: 0.125,
      }),
      run("orders", "r4", "success", "2026-05-04T12:00:00", "2026-05-04T12:04:00", {
        rows: 300,
        badRecords: 4,
      }),
    ]);
    // A second request adds to the same day; the rollup is recomputed, not incremented.
    await ingestor.apply([
      run("orders", "r5", "success", "2026-05-04T18:00:00", "2026-05-04T18:10:00", { rows: 400 }),
      run("orders", "r6", "running", "2026-05-04T23:59:00"),
      run("orders", "next-day", "success", "2026-05-05T00:00:00", "2026-05-05T00:00:30"),
      run("billing", "b1", "cancelled", "2026-05-04T09:00:00", "2026-05-04T09:00:01"),
    ]);
    // Durations 60, 120, 180, 240 and 600 s (r6 has none): p50 = 180 s;
    // p95 = 240 s + 0.8 × (600 s − 240 s) = 528 s (linear interpolation, percentile_cont).
    assert.deepEqual(await daily(store), [
      {
        job: "billing",
        day: "2026-05-04",
        runs: 1,
        successes: 0,
        failures: 0,
        running: 0,
        p50: 1000,
        p95: 1000,
        max: 1000,
        total: 1000,
        rows: null,
        bad: null,
        cpu: null,
        mem: null,
        cost: null,
        first: "2026-05-04T09:00:00Z",
        last: "2026-05-04T09:00:00Z",
      },
      {
        job: "orders",
        day: "2026-05-04",
        runs: 6,
        successes: 4,
        failures: 1,
        running: 1,
        p50: 180_000,
        p95: 528_000,
        max: 600_000,
        total: 1_200_000,
        rows: 1000,
        bad: 7,
        cpu: 4.5,
        mem: 1024,
        cost: 0.875,
        first: "2026-05-04T00:10:00Z",
        last: "2026-05-04T23:59:00Z",
      },
      {
        job: "orders",
        day: "2026-05-05",
        runs: 1,
        successes: 1,
        failures: 0,
        running: 0,
        p50: 30_000,
        p95: 30_000,
        max: 30_000,
        total: 30_000,
        rows: null,
        bad: null,
        cpu: null,
        mem: null,
        cost: null,
        first: "2026-05-05T00:00:00Z",
        last: "2026-05-05T00:00:00Z",
      },
    ]);
    assert.equal(await dirtyCount(store), 0);
    // The running run finishes: its duration joins the percentiles.
    await ingestor.apply([run("orders", "r6", "success", undefined, "2026-05-05T00:09:00")]);
    const [, orders] = await daily(store);
    assert.equal(orders!.running, 0);
    assert.equal(orders!.successes, 5);
    assert.equal(orders!.p50, 210_000, "median of 60, 120, 180, 240, 600, 600 s");
    assert.equal(orders!.max, 600_000);
    assert.equal(orders!.total, 1_800_000);
    assert.deepEqual(await daily(store), await recomputed(store));
  });

  it("moves a run whose finish arrived before its start to its start's day, leaving no empty row", async () => {
    const ingestor = new Ingestor(store);
    await ingestor.apply([
      run("etl", "stays", "success", "2026-05-04T10:00:00", "2026-05-04T10:05:00"),
      run("etl", "late", "success", undefined, "2026-05-05T00:20:00"),
    ]);
    // Only the finish is known: the run counts on the day it ended, without a duration.
    assert.deepEqual(
      (await daily(store)).map((d) => [d.day, d.runs, d.successes, d.p50, d.first]),
      [
        ["2026-05-04", 1, 1, 300_000, "2026-05-04T10:00:00Z"],
        ["2026-05-05", 1, 1, null, "2026-05-05T00:20:00Z"],
      ],
    );
    await ingestor.apply([run("etl", "late", "running", "2026-05-04T23:50:00")]);
    const rows = await daily(store);
    assert.deepEqual(
      rows.map((d) => [d.day, d.runs, d.successes, d.running, d.p50, d.max, d.first, d.last]),
      [["2026-05-04", 2, 2, 0, 1_050_000, 1_800_000, "2026-05-04T10:00:00Z", "2026-05-04T23:50:00Z"]],
    );
    assert.deepEqual(rows, await recomputed(store));
    assert.equal(await dirtyCount(store), 0);
  });

  it("moves a run to another day's rollup in a separate Ingestor, too", async () => {
    await new Ingestor(store).apply([run("etl", "late", "failed", undefined, "2026-05-05T00:20:00")]);
    await new Ingestor(store).apply([run("etl", "late", "running", "2026-05-04T23:50:00")]);
    assert.deepEqual(
      (await daily(store)).map((d) => [d.day, d.runs, d.failures]),
      [["2026-05-04", 1, 1]],
    );
  });

  it("flushes leftover dirty keys when called without keys, up to its limit", async () => {
    const ingestor = new Ingestor(store);
    const outcome = await ingestor.applyOnly([
      run("a", "1", "success", "2026-05-01T01:00:00", "2026-05-01T01:01:00"),
      run("a", "2", "success", "2026-05-02T01:00:00", "2026-05-02T01:01:00"),
      run("b", "1", "failed", "2026-05-02T01:00:00", "2026-05-02T01:02:00"),
    ]);
    assert.equal(outcome.marked, 3);
    assert.deepEqual(await daily(store), [], "applyOnly leaves the rollup to a flusher");
    assert.equal(await dirtyCount(store), 3);
    assert.equal(await flushRollups(store, 2), 2);
    assert.equal(await dirtyCount(store), 1);
    assert.equal(await flushRollups(store), 1);
    assert.equal(await flushRollups(store), 0);
    assert.deepEqual(await daily(store), await recomputed(store));
    assert.equal((await daily(store)).length, 3);
  });

  it("recomputes a day marked by several writes once, and flushAllRollups drains every mark", async () => {
    const ingestor = new Ingestor(store);
    await ingestor.applyOnly([run("a", "1", "success", "2026-05-01T01:00:00", "2026-05-01T01:01:00")]);
    await ingestor.applyOnly([run("a", "2", "success", "2026-05-01T02:00:00", "2026-05-01T02:01:00")]);
    await ingestor.applyOnly([run("a", "3", "failed", "2026-05-02T01:00:00", "2026-05-02T01:01:00")]);
    assert.equal(await dirtyCount(store), 3, "writers append marks without waiting on each other");
    assert.equal(await flushRollups(store, 2), 1, "two marks of one day are one recomputation");
    assert.equal(await dirtyCount(store), 1);
    assert.equal(await flushAllRollups(store), 1);
    assert.equal(await flushAllRollups(store), 0);
    assert.deepEqual(await daily(store), await recomputed(store));
    assert.deepEqual(
      (await daily(store)).map((d) => [d.day, d.runs]),
      [
        ["2026-05-01", 2],
        ["2026-05-02", 1],
      ],
    );
  });

  it("rolls up every job's day when runs stored before the ingest bounds would overflow a sum", async () => {
    const ingestor = new Ingestor(store);
    // Runs written before ingest bounded figures; summed as they are, they overflow float8.
    await ingestor.applyOnly([
      run("huge", "1", "success", "2026-05-01T01:00:00", "2026-05-01T01:01:00", {
        cost: 1.5e308,
        cpuSeconds: 1.5e308,
        badRecords: 9e18,
      }),
      run("huge", "2", "success", "2026-05-01T02:00:00", "2026-05-01T02:01:00", {
        cost: 1.5e308,
        cpuSeconds: 1.5e308,
        badRecords: 9e18,
      }),
      run("other", "1", "success", "2026-05-01T01:00:00", "2026-05-01T01:02:00", { cost: 2.5 }),
    ]);
    await flushAllRollups(store);
    const rows = await daily(store);
    assert.deepEqual(
      rows.map((d) => [d.job, d.runs]),
      [
        ["huge", 2],
        ["other", 1],
      ],
    );
    assert.equal(rows[1]!.cost, 2.5);
    assert.ok(Number.isFinite(rows[0]!.cost) && rows[0]!.cost! > 1e14, "an out-of-range sum saturates");
    const [bad] = await store.query<{ bad: string }>(
      sql`SELECT d.bad_records::text AS bad FROM run_daily d JOIN jobs j ON j.id = d.job_id WHERE j.name = 'huge'`,
    );
    assert.equal(bad!.bad, "9223372036854775807", "bad records beyond bigint saturate too");
    assert.equal(await dirtyCount(store), 0);
  });

  it("skips a job-day that cannot be recomputed, reports it and rolls up the others", async () => {
    const ingestor = new Ingestor(store);
    await ingestor.applyOnly([
      run("a", "1", "success", "2026-05-01T01:00:00", "2026-05-01T01:01:00"),
      run("b", "1", "failed", "2026-05-01T01:00:00", "2026-05-01T01:02:00"),
    ]);
    // A mark whose day has no timestamp (PostgreSQL's last date): recomputing it is a data error.
    await store.query(
      sql`INSERT INTO rollup_dirty (job_id, day) SELECT id, '5874897-12-31'::date FROM jobs WHERE name = 'a'`,
    );
    const skipped: { jobId: number; day: string }[] = [];
    await flushAllRollups(store, (key) => skipped.push(key));
    assert.deepEqual(
      skipped.map((k) => k.day),
      ["5874897-12-31"],
    );
    assert.deepEqual(await daily(store), await recomputed(store));
    assert.equal((await daily(store)).length, 2);
    assert.equal(await dirtyCount(store), 0, "the bad key's marks are dropped, not retried forever");
  });

  it("shares one flush among callers who arrive while a flush runs (RollupFlusher)", async () => {
    const ingestor = new Ingestor(store);
    const flusher = new RollupFlusher(store);
    await ingestor.applyOnly([run("a", "1", "success", "2026-05-01T01:00:00", "2026-05-01T01:01:00")]);
    await ingestor.applyOnly([run("b", "1", "success", "2026-05-01T01:00:00", "2026-05-01T01:01:00")]);
    const first = flusher.flush();
    // Callers while a flush runs may have committed marks it did not see: they get the next one.
    const second = flusher.flush();
    const third = flusher.flush();
    assert.equal(second, third, "callers during one flush share the next");
    assert.notEqual(first, second);
    await Promise.all([first, second]);
    const fourth = flusher.flush();
    assert.notEqual(fourth, second, "a caller after both flushes gets a new one");
    await fourth;
    assert.equal(await dirtyCount(store), 0);
    assert.deepEqual(await daily(store), await recomputed(store));
    assert.equal((await daily(store)).length, 2);
  });

  it(
    "stays equal to a recomputation from runs under concurrent ingest into one job and day",
    {
      skip: kind === "postgres" ? false : "PGlite is a single session: nothing runs concurrently",
    },
    async () => {
      const a = new Ingestor(store);
      const b = new Ingestor(store);
      const day = "2026-05-04";
      const minute = (n: number) =>
        `${day}T${String(Math.floor(n / 60) % 24).padStart(2, "0")}:${String(n % 60).padStart(2, "0")}:00`;
      for (let round = 0; round < 8; round++) {
        const batch = (who: string, offset: number) => {
          const events: RunEvent[] = [];
          for (let i = 0; i < 15; i++) {
            const n = round * 150 + offset + i * 5;
            // Runs of both writers start here and are finished by the other writer next round.
            events.push(run("shared", `${who}-${round}-${i}`, "running", minute(n)));
            if (round > 0) {
              const other = who === "a" ? "b" : "a";
              const prevN = (round - 1) * 150 + (offset === 0 ? 2 : 0) + i * 5;
              events.push(
                run(
                  "shared",
                  `${other}-${round - 1}-${i}`,
                  i % 4 === 0 ? "failed" : "success",
                  undefined,
                  minute(prevN + 3 + (i % 7)),
                  {
                    rows: i * 10,
                  },
                ),
              );
            }
          }
          return events;
        };
        await Promise.all([a.apply(batch("a", 0)), b.apply(batch("b", 2))]);
      }
      const rows = await daily(store);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.runs, 8 * 30);
      assert.equal(rows[0]!.running, 30, "the last round's runs are still running");
      assert.deepEqual(rows, await recomputed(store));
      assert.equal(await dirtyCount(store), 0);
    },
  );
});
