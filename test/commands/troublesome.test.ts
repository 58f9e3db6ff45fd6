// The troublesome measure against the demo fleet. Expected rankings, counts and flips are
// computed here from the generated run events (what the demo planted), never from the
// answer: first on what compute() returns, then on the answers' wording.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import troublesome from "../../commands/troublesome.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import type { RunEvent } from "../../src/ingest/events.ts";
import { parseQuestion } from "../../src/questions/parse.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { bestCommand } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const fleet = demoFleet();
const runs = fleet.events.filter((e): e is RunEvent => e.type === "run");
const runAt = (r: RunEvent) => (r.startedAt ?? r.endedAt ?? r.scheduledFor)!.getTime();
const FLAPPER = "marketing_attribution.attribution_model";
const RUNNER_UP = "ingest_suppliers.load_acme_settlements";

/** The whole UTC days a window touches (how the rollup counts). */
function utcDays(from: Date, to: Date): [number, number] {
  const start = Math.floor(from.getTime() / DAY) * DAY;
  const end = Math.floor((to.getTime() - 1) / DAY) * DAY + DAY;
  return [start, end];
}

interface Tally {
  job: string;
  runs: number;
  failures: number;
  flips: number;
  environment: string | undefined;
}

function tally(from: Date, to: Date, env?: string): Tally[] {
  const [start, end] = utcDays(from, to);
  const byJob = new Map<string, RunEvent[]>();
  for (const r of runs) {
    if (runAt(r) < start || runAt(r) >= end) continue;
    if (env && r.environment !== env) continue;
    byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
  }
  return [...byJob].map(([job, rs]) => {
    const decided = rs
      .filter((r) => r.status === "success" || r.status === "failed")
      .sort((a, b) => runAt(a) - runAt(b));
    let flips = 0;
    for (let i = 1; i < decided.length; i++) if (decided[i]!.status !== decided[i - 1]!.status) flips++;
    return {
      job,
      runs: rs.length,
      failures: rs.filter((r) => r.status === "failed").length,
      flips,
      environment: rs[0]!.environment,
    };
  });
}

const byFailures = (ts: Tally[]) =>
  ts
    .filter((t) => t.failures > 0)
    .sort((a, b) => b.failures - a.failures || b.failures / b.runs - a.failures / a.runs);

/** The ranking as the measure promises it: most failures, then the highest share, then by name. */
const ranking = (ts: Tally[]) =>
  byFailures(ts).sort(
    (a, b) =>
      b.failures - a.failures || b.failures / b.runs - a.failures / a.runs || (a.job < b.job ? -1 : 1),
  );
const lastDays = (n: number): MeasureWindow => ({
  from: new Date(DEMO_NOW.getTime() - n * DAY),
  to: DEMO_NOW,
  label: `the last ${n} days`,
  given: false,
});

describeEachStore("troublesome family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = (text: string, tz = "UTC") => askDemo(commands, store, text, tz);
  const last7 = tally(new Date(DEMO_NOW.getTime() - 7 * DAY), DEMO_NOW);

  it("the demo plants a flapping job with 4 failures in the last 7 days and a runner-up", () => {
    const story = fleet.stories.find((s) => s.kind === "flapping")!;
    assert.equal(story.subject, FLAPPER);
    assert.match(story.detail, /4 in the last 7 days/);
    assert.match(story.detail, new RegExp(`runner-up is ${RUNNER_UP}`));
    const ranked = byFailures(last7);
    assert.equal(ranked[0]!.job, FLAPPER);
    assert.equal(ranked[1]!.job, RUNNER_UP);
  });

  it("computes the failing jobs of the last 7 days' whole UTC days, most failures first, with their flips", async () => {
    const d = await troublesome.compute(
      demoContext(store),
      { measure: "troublesome", subject: { kind: "fleet" } },
      lastDays(7),
      { flapping: false, pipelines: false },
    );
    assert.equal(d.view, "jobs");
    const [start, end] = utcDays(lastDays(7).from, DEMO_NOW);
    assert.deepEqual([d.from.getTime(), d.to.getTime()], [start, end]);
    assert.deepEqual(d.totals, {
      runs: last7.reduce((n, t) => n + t.runs, 0),
      failures: last7.reduce((n, t) => n + t.failures, 0),
      jobs: last7.length,
    });
    const want = ranking(last7);
    assert.deepEqual(
      d.failing.map((j) => [j.name, j.failures, j.runs]),
      want.map((t) => [t.job, t.failures, t.runs]),
    );
    assert.deepEqual(
      d.failing.slice(0, 25).map((j) => j.flips),
      want.slice(0, 25).map((t) => t.flips),
    );
  });

  it("computes the failing pipelines when asked by pipeline, and only prod's jobs in prod", async () => {
    const groups = await troublesome.compute(
      demoContext(store),
      { measure: "troublesome", subject: { kind: "fleet" } },
      lastDays(7),
      { flapping: false, pipelines: true },
    );
    assert.equal(groups.view, "groups");
    const perGroup = new Map<string, number>();
    for (const t of last7) {
      const g = fleet.jobs.find((j) => j.job === t.job)?.group;
      if (g && t.failures) perGroup.set(g, (perGroup.get(g) ?? 0) + t.failures);
    }
    assert.deepEqual(new Map(groups.groups.map((g) => [g.group, g.failures])), perGroup);
    assert.equal(groups.groups[0]!.group, "marketing_attribution");
    const prod = await troublesome.compute(
      demoContext(store),
      { measure: "troublesome", subject: { kind: "fleet" }, environment: "prod" },
      lastDays(30),
      { flapping: false, pipelines: false },
    );
    const t = tally(lastDays(30).from, DEMO_NOW, "prod");
    assert.equal(
      prod.totals.runs,
      t.reduce((n, x) => n + x.runs, 0),
    );
    assert.deepEqual(
      prod.failing.map((j) => [j.name, j.failures]),
      ranking(t).map((x) => [x.job, x.failures]),
    );
  });

  it("routes every troublesome phrasing here, over all loaded commands", () => {
    for (const text of [
      "which pipelines fail the most?",
      "which jobs are flapping?",
      "most troublesome pipelines this week",
      "what failed the most in the last 30 days in prod",
      "which jobs failed most often yesterday",
      "what are the flakiest jobs?",
      ...commands.find((c) => c.id === "troublesome")!.examples,
    ]) {
      const pq = parseQuestion(text, DEMO_NOW, "UTC");
      assert.equal(bestCommand(commands, pq)?.id, "troublesome", text);
    }
  });

  it("leaves supplier, test and 'why' questions to their own families", () => {
    const mine = commands.find((c) => c.id === "troublesome")!;
    for (const text of [
      "which data supplier is troublesome?",
      "which tests fail the most?",
      "why did attribution_model fail?",
    ]) {
      assert.equal(mine.match(parseQuestion(text, DEMO_NOW, "UTC")), 0, text);
    }
  });

  it("ranks the flapping job first when asked which jobs fail the most, with its owner", async () => {
    const r = await q("which jobs fail the most?");
    assert.equal(r.family, "troublesome");
    const top = byFailures(last7)[0]!;
    assert.ok(
      r.head.startsWith(
        `\`${FLAPPER}\` failed the most in the last 7 days: ${top.failures} of ${top.runs} runs`,
      ),
      r.head,
    );
    const lines = r.out.split("\n").filter((l) => l.startsWith("• "));
    assert.ok(lines[0]!.includes(FLAPPER) && lines[0]!.includes(`${top.flips} flips`), lines[0]);
    assert.ok(lines[0]!.includes("owner @analytics"));
    assert.ok(lines[1]!.includes(RUNNER_UP), lines[1]);
  });

  it("ranks pipelines when the question says pipelines, naming the job behind the failures", async () => {
    const r = await q("which pipelines fail the most?");
    assert.equal(r.family, "troublesome");
    const groupFailures = byFailures(last7)
      .filter((t) => t.job.startsWith("marketing_attribution."))
      .reduce((n, t) => n + t.failures, 0);
    assert.ok(
      r.head.startsWith(
        `Pipeline \`marketing_attribution\` failed the most in the last 7 days: ${groupFailures} failures`,
      ),
      r.head,
    );
    assert.ok(r.head.includes(`all from \`${FLAPPER}\``), r.head);
    const pipelines = r.out.split("Pipelines by failures\n")[1]!.split("\n");
    assert.ok(pipelines[0]!.startsWith("• `marketing_attribution`"));
    assert.ok(pipelines[1]!.startsWith("• `ingest_suppliers`"));
  });

  it("names the flapping job with its number of success↔failure flips", async () => {
    const r = await q("which jobs are flapping?");
    assert.equal(r.family, "troublesome");
    const flapper = last7.find((t) => t.job === FLAPPER)!;
    assert.ok(flapper.flips >= 6, "the demo alternates daily");
    assert.ok(
      r.head.includes(
        `\`${FLAPPER}\` the most: it switched between success and failure ${flapper.flips} times`,
      ),
      r.head,
    );
  });

  it("reads a 30-day window in prod: all 5 planted failures of the flapping job", async () => {
    const r = await q("what failed the most in the last 30 days in prod");
    assert.equal(r.family, "troublesome");
    const t = tally(new Date(DEMO_NOW.getTime() - 30 * DAY), DEMO_NOW, "prod");
    const top = byFailures(t)[0]!;
    assert.equal(top.job, FLAPPER);
    assert.equal(top.failures, 5, "5 failures in 10 days, per the flapping story");
    assert.ok(r.head.includes(`in prod in the last 30 days: 5 of ${top.runs} runs`), r.head);
    const prodRuns = t.reduce((n, x) => n + x.runs, 0);
    assert.ok(r.out.includes(`from ${prodRuns.toLocaleString("en-US")} runs`), r.out);
  });

  it("says plainly that nothing failed in staging this week", async () => {
    const r = await q("what failed the most this week in staging?");
    assert.equal(r.family, "troublesome");
    const [start] = utcDays(new Date("2026-11-16T00:00:00Z"), DEMO_NOW);
    const stagingFailures = runs.filter(
      (x) => x.environment === "staging" && x.status === "failed" && runAt(x) >= start,
    ).length;
    assert.equal(stagingFailures, 0);
    assert.match(r.head, /^Nothing failed in staging this week: none of the \d+ runs of \d+ jobs failed/);
  });

  it("uses yesterday's window when asked about yesterday", async () => {
    const r = await q("which jobs failed most often yesterday");
    const y = tally(new Date("2026-11-21T00:00:00Z"), new Date("2026-11-22T00:00:00Z"));
    const top = byFailures(y)[0]!;
    assert.equal(top.job, FLAPPER);
    assert.ok(r.head.includes(`yesterday (Sat 21 Nov): ${top.failures} of ${top.runs} run`), r.head);
  });

  it("ranks within one pipeline, and offers the right name for a misspelt one", async () => {
    const r = await q("which jobs in ingest_suppliers fail the most?");
    assert.equal(r.family, "troublesome");
    assert.ok(r.head.startsWith(`\`${RUNNER_UP}\` failed the most in \`ingest_suppliers\``), r.head);
    const bad = await q("which jobs in ingest_supplier fail the most?");
    assert.equal(bad.family, "did-you-mean");
    assert.match(bad.out, /did you mean `ingest_suppliers`\?/);
  });
});
