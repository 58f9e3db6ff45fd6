// Question benchmark: every question family asked N times (default 200) over a loaded
// store (run `npm run bench` first; it leaves the houston_bench database in place), timed
// from question text to rendered blocks — server side, no Slack round trip — with the
// p50 of the raw SQL behind each family for the ratio; then the Slack ack figures
// (bench/slack-ack.ts: the HTTP ack while slow questions are computed). Prints figures;
// not a test.
//
//   node --import tsx bench/questions.ts [--db URL] [--calls 200] [--only a,b] [--no-ack]
import { sql } from "drizzle-orm";
import { openStore, type Store } from "../src/db/client.ts";
import { ts } from "../src/db/sql.ts";
import { loadCommands } from "../src/questions/registry.ts";
import { ask } from "../src/questions/router.ts";
import type { Command } from "../src/questions/types.ts";
import { measureSlackAck, printAck } from "./slack-ack.ts";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const db = arg("--db") ?? process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/houston_bench";
const calls = Number(arg("--calls") ?? 200);
/** --only a,b: just these families (comparing a change without the whole run). */
const only = arg("--only")?.split(",");

/** Small seeded PRNG so the question mix is the same every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Names {
  jobs: string[];
  datasets: string[];
  groups: string[];
  artifacts: string[];
  projects: string[];
  suppliers: string[];
}

async function names(store: Store): Promise<Names> {
  const col = async (q: ReturnType<typeof sql>) => (await store.query<{ n: string }>(q)).map((r) => r.n);
  return {
    jobs: await col(sql`SELECT name AS n FROM jobs ORDER BY id LIMIT 2000`),
    datasets: await col(sql`SELECT name AS n FROM datasets ORDER BY id LIMIT 2000`),
    groups: await col(sql`SELECT DISTINCT group_name AS n FROM jobs WHERE group_name IS NOT NULL LIMIT 500`),
    artifacts: await col(sql`SELECT DISTINCT artifact AS n FROM deploys LIMIT 500`),
    projects: await col(sql`SELECT DISTINCT project AS n FROM deploys WHERE project IS NOT NULL LIMIT 50`),
    suppliers: await col(
      sql`SELECT DISTINCT supplier AS n FROM datasets WHERE supplier IS NOT NULL LIMIT 50`,
    ),
  };
}

/** The kinds of question each family is asked, with the names of the loaded fleet. */
function templates(
  n: Names,
  pick: <T>(xs: T[]) => T,
): Record<string, { scope: string; make: () => string; family?: string }> {
  const job = () => pick(n.jobs);
  return {
    "did-it-run": { scope: "one job", make: () => `did ${job()} run yesterday?` },
    ordering: {
      scope: "one job",
      make: () => `did ${job()} run after all jobs in ${pick(n.groups)} finished yesterday?`,
    },
    "root-cause": { scope: "one job", make: () => `why was ${job()} late yesterday?` },
    freshness: { scope: "one dataset", make: () => `is ${pick(n.datasets)} fresh?` },
    deploys: { scope: "one deploy", make: () => `did the deployment of ${pick(n.artifacts)} work?` },
    projects: {
      scope: "one project",
      make: () =>
        n.projects.length
          ? `which tickets were released in ${pick(n.projects)}?`
          : "which tickets were released this week?",
    },
    "yesterdays-work": {
      scope: "fleet",
      make: () => "how many jobs ran yesterday and how long did they take?",
    },
    "todays-plan": { scope: "fleet", make: () => "how many jobs will run today?" },
    "missed-runs": { scope: "fleet", make: () => "which expected runs are missing?" },
    troublesome: { scope: "fleet", make: () => "which pipelines fail the most this week?" },
    quality: { scope: "fleet", make: () => "test pass rate over time this week" },
    arrivals: { scope: "fleet", make: () => "which data supplier is troublesome?" },
    "schema-changes": { scope: "fleet", make: () => "how often does the production schema change?" },
    environments: { scope: "fleet", make: () => "how many pipelines are in production vs development?" },
    status: { scope: "fleet", make: () => "status" },
    // Measures of the catalogue: one job over 30 days, and fleet rankings.
    duration: { scope: "one job", make: () => `how long does ${job()} usually take?` },
    "duration (fleet)": { scope: "fleet", family: "duration", make: () => "slowest 5 jobs this week" },
    "failure-rate": { scope: "one job", make: () => `failure rate of ${job()} over the last 30 days` },
    "failure-rate (fleet)": {
      scope: "fleet",
      family: "failure-rate",
      make: () => "failure rate per environment this week",
    },
    cost: { scope: "one job", make: () => `how much did ${job()} cost this month?` },
    "cost (fleet)": { scope: "fleet", family: "cost", make: () => "most expensive 5 jobs last week" },
    resources: { scope: "one job", make: () => `cpu usage of ${job()} this week` },
    "resources (fleet)": { scope: "fleet", family: "resources", make: () => "top 5 memory hogs yesterday" },
    rows: { scope: "one job", make: () => `how many rows did ${job()} write yesterday?` },
    "last-run": { scope: "one job", make: () => `when did ${job()} last fail?` },
  };
}

/** The main SQL behind each family, run raw, for the answer/SQL ratio. */
function rawSql(n: Names, pick: <T>(xs: T[]) => T, now: Date): Record<string, () => ReturnType<typeof sql>> {
  const day = new Date(now.getTime() - 86_400_000);
  const from = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
  const to = new Date(from.getTime() + 86_400_000);
  const oneJob = () =>
    sql`SELECT r.status, r.run_at, r.duration_ms FROM runs r JOIN jobs j ON j.id = r.job_id
        WHERE j.name = ${pick(n.jobs)} AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)} ORDER BY r.run_at DESC LIMIT 10`;
  const fleetDay = () =>
    sql`SELECT count(DISTINCT job_id)::int, sum(runs)::int, sum(failures)::int FROM run_daily WHERE day = ${from.toISOString().slice(0, 10)}`;
  return {
    "did-it-run": oneJob,
    ordering: oneJob,
    "root-cause": oneJob,
    freshness: () =>
      sql`SELECT u.updated_at FROM dataset_updates u JOIN datasets d ON d.id = u.dataset_id
          WHERE d.name = ${pick(n.datasets)} ORDER BY u.updated_at DESC LIMIT 1`,
    deploys: () => sql`SELECT * FROM deploys WHERE artifact = ${pick(n.artifacts)} ORDER BY at DESC LIMIT 10`,
    projects: () =>
      sql`SELECT tickets FROM deploys WHERE project = ${n.projects.length ? pick(n.projects) : ""} ORDER BY at DESC LIMIT 100`,
    "yesterdays-work": fleetDay,
    "todays-plan": () =>
      sql`SELECT count(*)::int FROM expected_runs WHERE slot_at >= ${ts(to)} AND slot_at < ${ts(new Date(to.getTime() + 86_400_000))}`,
    "missed-runs": () =>
      sql`SELECT count(*)::int FROM expected_runs WHERE run_id IS NULL AND due_at >= ${ts(new Date(now.getTime() - 86_400_000))} AND due_at <= ${ts(now)}`,
    troublesome: () =>
      sql`SELECT job_id, sum(failures)::int AS f FROM run_daily WHERE day >= ${new Date(now.getTime() - 7 * 86_400_000).toISOString().slice(0, 10)}
          GROUP BY job_id ORDER BY f DESC LIMIT 10`,
    quality: () =>
      sql`SELECT status, count(*)::int FROM test_results WHERE at >= ${ts(new Date(now.getTime() - 7 * 86_400_000))} GROUP BY status`,
    arrivals: () => sql`SELECT count(*)::int FROM datasets WHERE expected_arrival IS NOT NULL`,
    "schema-changes": () =>
      sql`SELECT count(*)::int FROM dataset_updates WHERE schema_changed AND updated_at >= ${ts(new Date(now.getTime() - 30 * 86_400_000))}`,
    environments: () => sql`SELECT environment, count(*)::int FROM jobs GROUP BY environment`,
    status: () => sql`SELECT count(*)::int FROM runs WHERE status = 'running'`,
    duration: oneJob,
    "duration (fleet)": fleetDay,
    "failure-rate": oneJob,
    "failure-rate (fleet)": fleetDay,
    cost: oneJob,
    "cost (fleet)": fleetDay,
    resources: oneJob,
    "resources (fleet)": fleetDay,
    rows: oneJob,
    "last-run": oneJob,
  };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const store = await openStore({ databaseUrl: db, maxConnections: 2 });
  try {
    const commands: Command[] = await loadCommands();
    const byId = new Map(commands.map((c) => [c.id, c]));
    const n = await names(store);
    if (n.jobs.length === 0)
      throw new Error(`${db} has no jobs: run npm run bench first (it loads the store)`);
    const now = new Date();
    const r = rng(20261122);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const kinds = templates(n, pick);
    const raws = rawSql(n, pick, now);
    const [{ runs }] = (await store.query<{ runs: number }>(sql`SELECT count(*)::int AS runs FROM runs`)) as [
      { runs: number },
    ];
    console.log(
      `Question benchmark: ${calls} questions per family over ${runs.toLocaleString("en-US")} runs (${db})`,
    );
    console.log(
      "family               scope        answer p50   p99 ms   raw SQL p50 ms   answer/SQL  target p99",
    );
    for (const [label, t] of Object.entries(kinds)) {
      const family = t.family ?? label;
      if (!byId.has(family) || (only && !only.includes(family))) continue;
      const answerMs: number[] = [];
      let wrong = 0;
      for (let i = 0; i < 10; i++) await ask(commands, { store, now, timezone: "UTC" }, t.make()); // warm
      for (let i = 0; i < calls; i++) {
        const q = t.make();
        let fam = "";
        answerMs.push(
          await time(async () => {
            fam = (await ask(commands, { store, now, timezone: "UTC" }, q)).family;
          }),
        );
        if (fam !== family && fam !== "did-you-mean") wrong++;
      }
      const rawMs: number[] = [];
      for (let i = 0; i < calls; i++) rawMs.push(await time(() => store.query(raws[label]!())));
      const target = t.scope === "fleet" ? 150 : 25;
      const p99 = pct(answerMs, 99);
      console.log(
        `${label.padEnd(20)} ${t.scope.padEnd(12)} ${pct(answerMs, 50).toFixed(2).padStart(9)} ${p99.toFixed(2).padStart(8)} ` +
          `${pct(rawMs, 50).toFixed(2).padStart(16)} ${(pct(answerMs, 50) / Math.max(0.001, pct(rawMs, 50))).toFixed(1).padStart(10)}x` +
          `  ≤ ${target} ms: ${p99 <= target ? "ok" : "MISSED"}${wrong ? `  (${wrong} answered by another family)` : ""}`,
      );
    }
  } finally {
    await store.close();
  }
  if (!args.includes("--no-ack")) printAck(await measureSlackAck({ db }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
