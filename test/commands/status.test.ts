// The status family against the demo fleet. Failing, late and stale counts are computed here
// with plain SQL over the stored runs, slots and dataset updates, never taken from the answer.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../../src/db/sql.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { DEMO_NOW, demoContext, demoFleet, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const HOUR = 3_600_000;

interface Fleet {
  total: number;
  failing: string[];
  late: string[];
  stale: string[];
}

describeEachStore("status question family", (kind) => {
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

  /** The fleet at `now`, the plain way: each job's latest run, each dataset's latest update. */
  const fleetAt = async (now: Date, env?: string): Promise<Fleet> => {
    const envJ = env ? sql`AND j.environment = ${env}` : sql``;
    const jobs = await store.query<{ name: string; status: string | null; run_at: string | null }>(
      sql`SELECT j.name,
            (SELECT r.status FROM runs r WHERE r.job_id = j.id AND r.run_at <= ${ts(now)} ORDER BY r.run_at DESC LIMIT 1) AS status,
            (SELECT r.run_at::text FROM runs r WHERE r.job_id = j.id AND r.run_at <= ${ts(now)} ORDER BY r.run_at DESC LIMIT 1) AS run_at
          FROM jobs j WHERE true ${envJ}`,
    );
    const late = await store.query<{ name: string }>(
      sql`SELECT DISTINCT j.name FROM expected_runs e JOIN jobs j ON j.id = e.job_id
          WHERE e.run_id IS NULL AND e.due_at <= ${ts(now)} AND e.due_at >= ${ts(new Date(now.getTime() - 24 * HOUR))} ${envJ}`,
    );
    const datasets = await store.query<{
      name: string;
      max_age_seconds: number;
      last: string | null;
      env: string | null;
    }>(
      sql`SELECT d.name, d.max_age_seconds,
            (SELECT max(u.updated_at)::text FROM dataset_updates u WHERE u.dataset_id = d.id AND u.updated_at <= ${ts(now)}) AS last,
            (SELECT r.environment FROM dataset_updates u JOIN runs r ON r.id = u.run_id
             WHERE u.dataset_id = d.id AND u.updated_at <= ${ts(now)} ORDER BY u.updated_at DESC LIMIT 1) AS env
          FROM datasets d WHERE d.max_age_seconds IS NOT NULL`,
    );
    return {
      total: jobs.length,
      failing: jobs
        .filter((j) => j.status === "failed" && new Date(j.run_at!).getTime() >= now.getTime() - 72 * HOUR)
        .map((j) => j.name),
      late: late.map((l) => l.name),
      stale: datasets
        .filter(
          (d) =>
            (!env || d.env === env) &&
            (!d.last || now.getTime() - new Date(d.last).getTime() > d.max_age_seconds * 1000),
        )
        .map((d) => d.name),
    };
  };

  const headline = (f: Fleet, what = "") => {
    const bad = new Set([...f.failing, ...f.late]).size;
    return bad === 0 && f.stale.length === 0
      ? `All clear${what} — ${f.total} of ${f.total} jobs healthy`
      : `${f.failing.length} failing, ${f.late.length} late, ${f.stale.length} stale — ${f.total - bad} of ${f.total} jobs healthy${what}.`;
  };

  it("gives the fleet at a glance and names the stale dim_customers", async () => {
    const stale = fleet.stories.find((s) => s.kind === "stale_dataset")!;
    assert.equal(stale.subject, "analytics.dim_customers");
    const f = await fleetAt(DEMO_NOW);
    assert.ok(f.stale.includes(stale.subject));
    for (const q of ["status", "/houston status", "how are things?", "fleet status", "overview"]) {
      const r = await askIt(q);
      assert.equal(r.family, "status", q);
      assert.ok(r.out.startsWith(headline(f)), r.out);
      assert.match(
        r.out,
        /Stale datasets\n• `analytics\.dim_customers` in warehouse \(@data-eng\) — last updated Wed 18 Nov/,
      );
    }
  });

  it("shows the flapping job as failing right after its failed run", async () => {
    const flapper = fleet.stories.find((s) => s.kind === "flapping")!.subject;
    const now = new Date("2026-11-21T06:00:00Z");
    const f = await fleetAt(now);
    assert.ok(f.failing.includes(flapper));
    const r = await askIt("how are things?", now);
    assert.equal(r.family, "status");
    assert.ok(r.out.startsWith(headline(f)), r.out);
    assert.ok(r.out.includes(`Failing now\n• \`${flapper}\` (@analytics) — failed today 05:`), r.out);
  });

  it("counts late jobs from past-due slots without runs", async () => {
    // The demo history ends at 09:00; by 13:00 several slots are past due.
    const now = new Date("2026-11-22T13:00:00Z");
    const f = await fleetAt(now);
    assert.ok(f.late.length > 0);
    const r = await askIt("status", now);
    assert.ok(r.out.startsWith(headline(f)), r.out);
    for (const name of f.late) assert.ok(r.out.includes(`• \`${name}\``), name);
  });

  it("filters by environment and by group, and says so", async () => {
    const f = await fleetAt(DEMO_NOW, "prod");
    const r = await askIt("fleet status in prod");
    assert.equal(r.family, "status");
    assert.ok(r.out.startsWith(headline(f, " in prod")), r.out);
    const g = await askIt("status of finance_close");
    assert.equal(g.family, "status");
    const total = (
      await store.query<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM jobs WHERE group_name = 'finance_close'`,
      )
    )[0]!.n;
    assert.match(g.out, new RegExp(`${total} of ${total} jobs healthy`));
  });

  it("bounds the late and failing parts by a window when one is given", async () => {
    const late = await store.query<{ name: string }>(
      sql`SELECT DISTINCT j.name FROM expected_runs e JOIN jobs j ON j.id = e.job_id
          WHERE e.run_id IS NULL AND e.due_at >= '2026-11-16T00:00:00Z' AND e.due_at <= ${ts(DEMO_NOW)}`,
    );
    const r = await askIt("status since monday");
    assert.equal(r.family, "status");
    assert.match(r.out, new RegExp(`Late \\(since Mon 16 Nov\\): ${late.length}\n`));
  });

  it("has no incidents section until incidents are recorded", async () => {
    const r = await askIt("status");
    assert.doesNotMatch(r.out, /incident/i);
  });

  it("suggests the closest group for a mistyped name", async () => {
    const r = await askIt("status of finanse_close");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `finance_close`/);
  });
});
