// The todays-plan family against the demo fleet. Slot counts and states are computed here
// with plain SQL over expected_runs, and typical durations from run_daily in JS, never taken
// from the answer.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../../src/db/sql.ts";
import { formatDuration } from "../../src/questions/format.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { DEMO_NOW, demoContext, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const TODAY = { from: new Date("2026-11-22T00:00:00Z"), to: new Date("2026-11-23T00:00:00Z") };

interface Plan {
  expected: number;
  jobs: number;
  done: number;
  upcoming: { name: string; slot: Date }[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

describeEachStore("todays-plan question family", (kind) => {
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

  const plan = async (from: Date, to: Date, extra = sql``): Promise<Plan> => {
    const rows = await store.query<{
      name: string;
      slot_at: string;
      due_at: string;
      status: string | null;
      matched: boolean;
    }>(
      sql`SELECT j.name, e.slot_at::text, e.due_at::text, r.status, e.run_id IS NOT NULL AS matched
          FROM expected_runs e JOIN jobs j ON j.id = e.job_id LEFT JOIN runs r ON r.id = e.run_id
          WHERE e.slot_at >= ${ts(from)} AND e.slot_at < ${ts(to)} ${extra}`,
    );
    return {
      expected: rows.length,
      jobs: new Set(rows.map((r) => r.name)).size,
      done: rows.filter((r) => r.matched && r.status !== "running").length,
      upcoming: rows
        .filter((r) => !r.matched && new Date(r.due_at) > DEMO_NOW)
        .map((r) => ({ name: r.name, slot: new Date(r.slot_at) }))
        .sort((a, b) => a.slot.getTime() - b.slot.getTime() || (a.name < b.name ? -1 : 1)),
    };
  };

  const headline = (p: Plan, label: string) =>
    `${p.expected} runs of ${p.jobs} jobs are scheduled ${label}: ${p.done} done`;

  it("answers how many jobs will run today, how many are done and how many are still to come", async () => {
    const p = await plan(TODAY.from, TODAY.to);
    assert.ok(p.expected > 0 && p.upcoming.length > 0);
    for (const q of [
      "how many jobs will run today?",
      "what is scheduled for the rest of today?",
      "today's plan",
      "what's running today?",
    ]) {
      const r = await askIt(q);
      assert.equal(r.family, "todays-plan", q);
      assert.ok(r.out.startsWith(headline(p, "today (Sun 22 Nov)")), r.out);
      assert.match(r.out, new RegExp(`${p.upcoming.length} still to come\\.`));
    }
  });

  it("shows the next run with its start and its 14-day typical duration", async () => {
    const p = await plan(TODAY.from, TODAY.to);
    const next = p.upcoming[0]!;
    const p50s = await store.query<{ p50: number }>(
      sql`SELECT d.duration_p50_ms::float8 AS p50 FROM run_daily d JOIN jobs j ON j.id = d.job_id
          WHERE j.name = ${next.name} AND d.day >= '2026-11-08' AND d.day < '2026-11-22'
            AND d.duration_p50_ms IS NOT NULL`,
    );
    const typical = median(p50s.map((r) => r.p50));
    const hhmm = next.slot.toISOString().slice(11, 16);
    const r = await askIt("how many jobs will run today?");
    const first = r.out.split("Next up\n")[1]!.split("\n")[0]!;
    assert.ok(first.startsWith(`• ${hhmm}`), first);
    assert.ok(first.includes(`\`${next.name}\` — usually ${formatDuration(typical)}`), first);
  });

  it("filters by environment and by group, and says so", async () => {
    const prod = await plan(TODAY.from, TODAY.to, sql`AND j.environment = 'prod'`);
    const r = await askIt("what's running today in prod?");
    assert.equal(r.family, "todays-plan");
    assert.ok(r.out.startsWith(headline(prod, "today (Sun 22 Nov) in prod")), r.out);

    const fin = await plan(TODAY.from, TODAY.to, sql`AND j.group_name = 'finance_close'`);
    const g = await askIt("what's left to run today in finance_close?");
    assert.equal(g.family, "todays-plan");
    assert.ok(g.out.startsWith(headline(fin, "today (Sun 22 Nov) in `finance_close`")), g.out);
  });

  it("reads today as the asker's local day", async () => {
    // At 09:00 UTC it is 04:00 in New York: its day runs 05:00 UTC to 05:00 UTC.
    const ny = await plan(new Date("2026-11-22T05:00:00Z"), new Date("2026-11-23T05:00:00Z"));
    const r = await askIt("how many jobs will run today?", "America/New_York");
    assert.equal(r.family, "todays-plan");
    assert.ok(r.out.startsWith(headline(ny, "today (Sun 22 Nov)")), r.out);
  });

  it("plans tomorrow when asked", async () => {
    const t = await plan(TODAY.to, new Date(TODAY.to.getTime() + 86_400_000));
    const r = await askIt("how many jobs will run tomorrow?");
    assert.equal(r.family, "todays-plan");
    assert.ok(
      r.out.startsWith(`${t.expected} runs of ${t.jobs} jobs are scheduled tomorrow (Mon 23 Nov): 0 done`),
      r.out,
    );
  });

  it("suggests the closest group for a mistyped name", async () => {
    const r = await askIt("today's plan for finanse_close");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `finance_close`/);
  });
});
