// The missed-runs family against the demo fleet. Expected and missing slots are counted here
// with plain SQL over the demo's expected_runs table, never taken from the answer.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../../src/db/sql.ts";
import { formatDuration } from "../../src/questions/format.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { DEMO_NOW, demoContext, demoFleet, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const HOUR = 3_600_000;

interface Slots {
  expected: number;
  missing: { name: string; owner: string | null }[];
}

describeEachStore("missed-runs question family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const askIt = async (question: string, now = DEMO_NOW) => {
    const r = await ask(commands, demoContext(store, "UTC", now), question);
    return { ...r, out: answerBody(r.answer) };
  };

  /** Slots in [from, to) already due at `now`, and those of them without a run. */
  const slots = async (from: Date, to: Date, now: Date, extra = sql``): Promise<Slots> => {
    const rows = await store.query<{ name: string; owner: string | null; run_id: number | null }>(
      sql`SELECT j.name, j.owner, e.run_id::float8 AS run_id FROM expected_runs e JOIN jobs j ON j.id = e.job_id
          WHERE e.slot_at >= ${ts(from)} AND e.slot_at < ${ts(to)} AND e.due_at <= ${ts(now)} ${extra}`,
    );
    return { expected: rows.length, missing: rows.filter((r) => r.run_id === null) };
  };

  /** The headline answers the question as asked: "did every job run?" (Yes = none missing) or "any missed runs?" (Yes = some). */
  const headline = (s: Slots, label: string, asked: "all ran" | "any missed" = "all ran") =>
    s.missing.length === 0
      ? `${asked === "any missed" ? "No — none missed:" : "Yes —"} all ${s.expected} expected runs ran ${label}`
      : `${asked === "any missed" ? "Yes" : "No"} — ${s.missing.length} of ${s.expected} expected runs are missing ${label}`;

  it("answers whether every expected run of the last 24 hours ran", async () => {
    const s = await slots(new Date(DEMO_NOW.getTime() - 24 * HOUR), DEMO_NOW, DEMO_NOW);
    assert.ok(s.expected > 0);
    for (const [q, asked] of [
      ["did every job that was supposed to run actually run?", "all ran"],
      ["which expected runs are missing?", "all ran"],
      ["any missed runs last 24 hours?", "any missed"],
    ] as const) {
      const r = await askIt(q);
      assert.equal(r.family, "missed-runs", q);
      assert.ok(r.out.startsWith(headline(s, "in the last 24 hours", asked)), r.out);
    }
  });

  it("lists the missing slots by job with owners once their grace has passed", async () => {
    // At 13:00 the demo history (which ends at 09:00) has slots past due and no runs for them.
    const now = new Date("2026-11-22T13:00:00Z");
    const s = await slots(new Date(now.getTime() - 24 * HOUR), now, now);
    assert.ok(s.missing.length > 0);
    const r = await askIt("which expected runs are missing?", now);
    assert.equal(r.family, "missed-runs");
    assert.ok(r.out.startsWith(headline(s, "in the last 24 hours")), r.out);
    const jobs = new Map(s.missing.map((m) => [m.name, m.owner]));
    assert.match(r.out, new RegExp(`Missing \\(${jobs.size} jobs?\\)`));
    for (const [name, owner] of jobs) assert.ok(r.out.includes(`• \`${name}\` (${owner}) — `), name);
  });

  it("ranks jobs by missing slots, shows the first ten, and counts every other job", async () => {
    // Eleven hours after the demo history ends, every scheduled job has missed slots.
    const now = new Date("2026-11-22T20:00:00Z");
    const s = await slots(new Date(now.getTime() - 24 * HOUR), now, now);
    const byJob = new Map<string, number>();
    for (const m of s.missing) byJob.set(m.name, (byJob.get(m.name) ?? 0) + 1);
    const ranked = [...byJob].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    assert.ok(ranked.length > 10, `only ${ranked.length} jobs missed a slot`);

    const r = await askIt("which expected runs are missing?", now);
    assert.equal(r.family, "missed-runs");
    assert.match(r.out, new RegExp(`Missing \\(${ranked.length} jobs\\)`));
    const lines = r.out.split("\n").filter((l) => l.startsWith("• `"));
    assert.deepEqual(
      lines.slice(0, 10).map((l) => /^• `([^`]+)`/.exec(l)![1]),
      ranked.slice(0, 10).map(([name]) => name),
    );
    for (const [i, [name, n]] of ranked.slice(0, 10).entries())
      assert.ok(
        lines[i]!.includes(n === 1 ? " — expected " : ` — ${n} expected runs: `),
        `${name}: ${lines[i]}`,
      );
    assert.ok(r.out.includes(`and ${ranked.length - 10} more`), r.out);
  });

  it("counts gl_summary's late start yesterday separately from missing runs", async () => {
    const late = fleet.stories.find((s) => s.kind === "late_start")!;
    const from = new Date("2026-11-21T00:00:00Z");
    const to = new Date("2026-11-22T00:00:00Z");
    const rows = await store.query<{ slot_at: string; started_at: string; due_at: string }>(
      sql`SELECT e.slot_at::text, e.due_at::text, r.started_at::text FROM expected_runs e
          JOIN jobs j ON j.id = e.job_id JOIN runs r ON r.id = e.run_id
          WHERE j.name = ${late.subject} AND e.slot_at >= ${ts(from)} AND e.slot_at < ${ts(to)}`,
    );
    assert.equal(rows.length, 1);
    const delay = new Date(rows[0]!.started_at).getTime() - new Date(rows[0]!.slot_at).getTime();
    assert.ok(new Date(rows[0]!.started_at) > new Date(rows[0]!.due_at));
    assert.equal(formatDuration(delay), "2h 15m");
    const lateCount = (
      await store.query<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM expected_runs e JOIN runs r ON r.id = e.run_id
            WHERE e.slot_at >= ${ts(from)} AND e.slot_at < ${ts(to)} AND coalesce(r.started_at, r.run_at) > e.due_at`,
      )
    )[0]!.n;
    const s = await slots(from, to, DEMO_NOW);

    const r = await askIt("any missed runs yesterday?");
    assert.equal(r.family, "missed-runs");
    assert.ok(r.out.startsWith(headline(s, "yesterday (Sat 21 Nov)", "any missed")), r.out);
    assert.match(r.out, new RegExp(`${lateCount} runs? started late`));
    assert.ok(
      r.out.includes(
        `\`${late.subject}\` (@finance-data) — due yesterday 05:25, started 07:40: 2h 15m after its slot`,
      ),
    );
  });

  it("filters by environment and by group, and says so", async () => {
    const from = new Date(DEMO_NOW.getTime() - 24 * HOUR);
    const prod = await slots(from, DEMO_NOW, DEMO_NOW, sql`AND j.environment = 'prod'`);
    const r = await askIt("did every job run in the last 24 hours in prod?");
    assert.equal(r.family, "missed-runs");
    assert.ok(r.out.startsWith(headline(prod, "in the last 24 hours in prod")), r.out);

    const weekFrom = new Date("2026-11-16T00:00:00Z");
    const fin = await slots(weekFrom, DEMO_NOW, DEMO_NOW, sql`AND j.group_name = 'finance_close'`);
    const g = await askIt("missed runs in finance_close this week");
    assert.equal(g.family, "missed-runs");
    assert.ok(g.out.startsWith(headline(fin, "this week in `finance_close`")), g.out);
  });

  it("suggests the closest job for a mistyped name", async () => {
    const r = await askIt("missed runs for gl_sumary");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /No job `gl_sumary`; did you mean `finance_close\.gl_summary`/);
  });
});
