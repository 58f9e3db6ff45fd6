// The root-cause family against the demo fleet. Delays, durations and the first failure are
// computed here from the generated run events and the demo's stories, never from the answer.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import type { RunEvent } from "../../src/ingest/events.ts";
import { formatDuration } from "../../src/questions/format.ts";
import { parseQuestion } from "../../src/questions/parse.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { bestCommand } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const fleet = demoFleet();
const runs = fleet.events.filter((e): e is RunEvent => e.type === "run");
const YESTERDAY = new Date("2026-11-21T00:00:00Z");
const runOn = (job: string, day: Date) =>
  runs.find((r) => r.job === job && r.startedAt! >= day && r.startedAt!.getTime() < day.getTime() + DAY)!;
const hhmm = (d: Date, tz = "UTC") =>
  new Intl.DateTimeFormat("en-GB", {
    timeZone: tz,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(d);
const dur = (r: RunEvent) => r.endedAt!.getTime() - r.startedAt!.getTime();
/** The median duration of a daily job over the 14 days before `day`. */
function usual(job: string, day: Date): number {
  const xs: number[] = [];
  for (let d = 1; d <= 14; d++) xs.push(dur(runOn(job, new Date(day.getTime() - d * DAY))));
  xs.sort((a, b) => a - b);
  return (xs[6]! + xs[7]!) / 2;
}

describeEachStore("root-cause family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = (text: string, tz = "UTC") => askDemo(commands, store, text, tz);

  it("routes 'why was X late' and 'where did it start' here, not to did-it-run or freshness", () => {
    for (const text of [
      "why was gl_summary late yesterday?",
      "why did train_churn_model take so long yesterday?",
      "why did gl_summary run late yesterday?",
      "what failed first upstream of campaign_performance?",
      "where did the problem start?",
      "why did attribution_model fail?",
      "what's the root cause of the finance_close delay?",
      ...commands.find((c) => c.id === "root-cause")!.examples,
    ]) {
      const pq = parseQuestion(text, DEMO_NOW, "UTC");
      assert.equal(bestCommand(commands, pq)?.id, "root-cause", text);
    }
    const mine = commands.find((c) => c.id === "root-cause")!;
    for (const text of [
      "is analytics.dim_customers fresh?",
      "did gl_summary run yesterday?",
      "why did the tests fail?",
    ])
      assert.equal(mine.match(parseQuestion(text, DEMO_NOW, "UTC")), 0, text);
  });

  it("explains gl_summary's lateness yesterday as a late start with a normal duration", async () => {
    const story = fleet.stories.find((s) => s.kind === "late_start")!;
    assert.match(story.detail, /scheduled for 05:25 UTC but started at 07:40 UTC: 2h15m late/);
    const run = runOn("finance_close.gl_summary", YESTERDAY);
    const delay = run.startedAt!.getTime() - run.scheduledFor!.getTime();
    const r = await q("why was gl_summary late yesterday?");
    assert.equal(r.family, "root-cause");
    assert.equal(
      r.head,
      `\`finance_close.gl_summary\` was late on Sat 21 Nov because it started ${formatDuration(delay)} late (scheduled ${hhmm(run.scheduledFor!)}, started ${hhmm(run.startedAt!)}); its duration ${formatDuration(dur(run))} was normal (usually ${formatDuration(usual("finance_close.gl_summary", YESTERDAY))}).`,
    );
    assert.match(r.out, /not waiting on data/);
  });

  it("shows the slot and start in the asker's time zone", async () => {
    const run = runOn("finance_close.gl_summary", YESTERDAY);
    const r = await q("why was gl_summary late yesterday?", "Europe/Berlin");
    assert.ok(
      r.head.includes(
        `(scheduled ${hhmm(run.scheduledFor!, "Europe/Berlin")}, started ${hhmm(run.startedAt!, "Europe/Berlin")})`,
      ),
      r.head,
    );
  });

  it("explains train_churn_model's lateness yesterday as a long run against its 14-day median", async () => {
    const story = fleet.stories.find((s) => s.kind === "long_run")!;
    assert.match(story.detail, /4\.1× its 14-day median of 34m/);
    const run = runOn("ml_features.train_churn_model", YESTERDAY);
    const median = usual("ml_features.train_churn_model", YESTERDAY);
    const r = await q("why did train_churn_model take so long yesterday?");
    assert.equal(r.family, "root-cause");
    assert.ok(
      r.head.includes(
        `it started on time (scheduled ${hhmm(run.scheduledFor!)}, started ${hhmm(run.startedAt!)}) but ran ${formatDuration(dur(run))}, ${(dur(run) / median).toFixed(1)}× its usual ${formatDuration(median)}`,
      ),
      r.head,
    );
    assert.ok(r.head.includes("4.1×"));
  });

  it("finds the flapping attribution_model as what failed first upstream of campaign_performance", async () => {
    const failed = runOn("marketing_attribution.attribution_model", YESTERDAY);
    const downstream = runOn("marketing_attribution.campaign_performance", YESTERDAY);
    assert.equal(failed.status, "failed");
    assert.ok(failed.startedAt! <= downstream.endedAt!, "it ran alongside campaign_performance");
    const r = await q("what failed first upstream of campaign_performance?");
    assert.equal(r.family, "root-cause");
    assert.ok(
      r.head.startsWith(
        "`marketing_attribution.attribution_model` went wrong first upstream of `marketing_attribution.campaign_performance` on Sat 21 Nov: it failed",
      ),
      r.head,
    );
    assert.ok(r.head.includes("deadlock detected"), r.head);
  });

  it("names the fleet's first failure since yesterday when no job is given", async () => {
    const first = runs
      .filter((r) => r.status === "failed" && r.startedAt! >= YESTERDAY)
      .sort((a, b) => +a.startedAt! - +b.startedAt!)[0]!;
    const r = await q("where did the problem start?");
    assert.equal(r.family, "root-cause");
    assert.ok(
      r.head.startsWith(
        `It started with \`${first.job}\`: it failed (its run of yesterday ${hhmm(first.startedAt!)})`,
      ),
      r.head,
    );
  });

  it("counts late starts within a pipeline: finance_close's problem yesterday was gl_summary", async () => {
    const r = await q("where did the problem start in finance_close yesterday?");
    assert.equal(r.family, "root-cause");
    assert.match(
      r.head,
      /^It started with `finance_close\.gl_summary` in `finance_close`: it started 2h 1[45]m late/,
    );
  });

  it("leads with the error when asked why a job failed", async () => {
    const failed = runOn("marketing_attribution.attribution_model", YESTERDAY);
    const r = await q("why did attribution_model fail?");
    assert.equal(r.family, "root-cause");
    assert.ok(
      r.head.startsWith(
        `\`marketing_attribution.attribution_model\` failed on Sat 21 Nov at ${hhmm(failed.endedAt!)}: ${failed.error!.slice(0, 40)}`,
      ),
      r.head,
    );
  });

  it("says so when the job has no runs in the asked environment", async () => {
    const r = await q("why was gl_summary late yesterday in staging?");
    assert.equal(r.family, "root-cause");
    assert.equal(
      r.head,
      "`finance_close.gl_summary` has no runs in staging yesterday (Sat 21 Nov), so there is nothing to explain.",
    );
  });

  it("hands a late supplier to the delivery check", async () => {
    const r = await q("why was shipfast_logistics late?");
    assert.match(r.head, /deliveries from `shipfast_logistics` in the last 7 days, 6 late/);
  });

  it("suggests the right job for a misspelt name", async () => {
    const r = await q("why was gl_sumary late?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `finance_close\.gl_summary`/);
  });
});
