// The yesterdays-work family against the demo fleet. Expected counts, totals and
// percentiles are computed here from raw runs with plain SQL (and percentiles in JS), and
// the planted stories, never from the answer.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../../src/db/sql.ts";
import { formatDuration } from "../../src/questions/format.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { demoContext, demoFleet, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const story = (kind: string) => fleet.stories.find((s) => s.kind === kind)!;
const YESTERDAY = { from: new Date("2026-11-21T00:00:00Z"), to: new Date("2026-11-22T00:00:00Z") };

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const rank = p * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

interface Expected {
  jobs: number;
  runs: number;
  successes: number;
  failures: number;
  totalMs: number;
  durations: number[];
}

describeEachStore("yesterdays-work question family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const askIt = async (question: string, tz = "UTC") => {
    const r = await ask(commands, demoContext(store, tz), question);
    return { ...r, out: answerBody(r.answer) };
  };

  const expected = async (from: Date, to: Date, extra = sql``): Promise<Expected> => {
    const rows = await store.query<{ job_id: number; status: string; duration_ms: number | null }>(
      sql`SELECT r.job_id, r.status, r.duration_ms::float8 AS duration_ms
          FROM runs r JOIN jobs j ON j.id = r.job_id
          WHERE r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)} ${extra}`,
    );
    const durations = rows.flatMap((r) => (r.duration_ms === null ? [] : [r.duration_ms]));
    return {
      jobs: new Set(rows.map((r) => r.job_id)).size,
      runs: rows.length,
      successes: rows.filter((r) => r.status === "success").length,
      failures: rows.filter((r) => r.status === "failed").length,
      totalMs: durations.reduce((a, b) => a + b, 0),
      durations,
    };
  };

  const headline = (e: Expected, label: string) =>
    `${e.jobs} jobs ran ${e.runs} times ${label}: ${e.successes} succeeded, ${e.failures} failed`;

  it("answers how many jobs ran yesterday, their outcomes, total run time and exact p50/p95", async () => {
    const e = await expected(YESTERDAY.from, YESTERDAY.to);
    const r = await askIt("how many jobs ran yesterday and how long did they take?");
    assert.equal(r.family, "yesterdays-work");
    assert.ok(r.out.startsWith(headline(e, "yesterday (Sat 21 Nov)")), r.out);
    assert.match(r.out, new RegExp(`${formatDuration(e.totalMs)} of run time in total`));
    assert.match(
      r.out,
      new RegExp(`Median run \\(p50\\): ${formatDuration(percentile(e.durations, 0.5))}\\n`),
    );
    assert.match(r.out, new RegExp(`p95 run: ${formatDuration(percentile(e.durations, 0.95))}\\n`));
  });

  it("names the long-running train_churn_model as the slowest job with its duration", async () => {
    const rows = await store.query<{ ms: number; started: string; ended: string }>(
      sql`SELECT r.duration_ms::float8 AS ms, r.started_at::text AS started, r.ended_at::text AS ended
          FROM runs r JOIN jobs j ON j.id = r.job_id
          WHERE j.name = 'ml_features.train_churn_model'
            AND r.run_at >= ${ts(YESTERDAY.from)} AND r.run_at < ${ts(YESTERDAY.to)}`,
    );
    assert.equal(rows.length, 1);
    const ms = rows[0]!.ms;
    // The story says "ran 2h18m"; the stored run agrees.
    const m = Math.round(ms / 60_000);
    assert.ok(
      story("long_run").detail.includes(`ran ${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`),
    );
    const r = await askIt("yesterday's work");
    assert.equal(r.family, "yesterdays-work");
    const slowest = r.out.split("Slowest jobs\n")[1]!.split("\n");
    assert.equal(slowest[0], `• \`ml_features.train_churn_model\` — ${formatDuration(ms)}`);
    assert.equal(formatDuration(ms), "2h 18m");
  });

  it("lists the flapping job among yesterday's failures", async () => {
    const flapper = story("flapping").subject;
    const r = await askIt("how long did the jobs take yesterday?");
    assert.equal(r.family, "yesterdays-work");
    const failed = r.out.split("Failed\n")[1] ?? "";
    assert.match(failed, new RegExp(`\`${flapper.replace(".", "\\.")}\` — 1 failed run`));
  });

  it("filters by environment and says so", async () => {
    const e = await expected(YESTERDAY.from, YESTERDAY.to, sql`AND r.environment = 'prod'`);
    const r = await askIt("how many jobs ran yesterday in prod?");
    assert.equal(r.family, "yesterdays-work");
    assert.ok(r.out.startsWith(headline(e, "yesterday (Sat 21 Nov) in prod")), r.out);
  });

  it("reads a local day outside UTC from raw runs bounded by that day", async () => {
    // Yesterday in Berlin is 2026-11-20 23:00 UTC to 2026-11-21 23:00 UTC.
    const from = new Date("2026-11-20T23:00:00Z");
    const to = new Date("2026-11-21T23:00:00Z");
    const e = await expected(from, to);
    const r = await askIt("how many jobs ran yesterday?", "Europe/Berlin");
    assert.equal(r.family, "yesterdays-work");
    assert.ok(r.out.startsWith(headline(e, "yesterday (Sat 21 Nov)")), r.out);
    assert.match(r.out, new RegExp(`from ${e.runs} runs yesterday`));
    assert.match(
      r.out,
      new RegExp(`Median run \\(p50\\): ${formatDuration(percentile(e.durations, 0.5))}\\n`),
    );
  });

  it("honours a date and a group", async () => {
    const day = { from: new Date("2026-11-20T00:00:00Z"), to: new Date("2026-11-21T00:00:00Z") };
    const all = await expected(day.from, day.to);
    const r = await askIt("summary of runs on 2026-11-20");
    assert.equal(r.family, "yesterdays-work");
    assert.ok(r.out.startsWith(headline(all, "on Fri 20 Nov")), r.out);

    const weekFrom = new Date("2026-11-16T00:00:00Z");
    const now = demoContext(store).now;
    const g = await expected(weekFrom, now, sql`AND j.group_name = 'finance_close'`);
    const w = await askIt("how many jobs ran this week in finance_close?");
    assert.equal(w.family, "yesterdays-work");
    assert.ok(w.out.startsWith(`${g.jobs} jobs ran ${g.runs} times this week in \`finance_close\``), w.out);
  });

  it("says plainly when nothing ran", async () => {
    const r = await askIt("how many jobs ran on 2026-01-05?");
    assert.equal(r.family, "yesterdays-work");
    assert.match(r.out, /^No jobs ran on Mon 5 Jan\./);
  });

  it("suggests the closest group for a mistyped name", async () => {
    const r = await askIt("how many jobs ran yesterday in finance_clse?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `finance_close`/);
  });
});
