// The quality measure against the demo fleet. Test counts, outcomes and daily pass rates are
// computed here from the generated test events, never from the answer: first on what
// compute() returns, then on the answers' wording.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import quality from "../../commands/quality.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import type { TestEvent } from "../../src/ingest/events.ts";
import { parseQuestion } from "../../src/questions/parse.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { bestCommand } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const fleet = demoFleet();
const results = fleet.events.filter((e): e is TestEvent => e.type === "test");
const inWindow = (from: Date, to: Date = DEMO_NOW, env?: string) =>
  results.filter((t) => t.at >= from && t.at < to && (!env || t.environment === env));
const count = (ts: TestEvent[], status: string) => ts.filter((t) => t.status === status).length;
const weekAgo = new Date(DEMO_NOW.getTime() - 7 * DAY);
const LAST_7: MeasureWindow = { from: weekAgo, to: DEMO_NOW, label: "the last 7 days", given: false };
const outcomes = (ts: TestEvent[]) => ({
  pass: count(ts, "pass"),
  fail: count(ts, "fail"),
  warn: count(ts, "warn"),
  error: count(ts, "error"),
  skip: count(ts, "skip"),
});

describeEachStore("quality family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = (text: string, tz = "UTC") => askDemo(commands, store, text, tz);

  it("routes quality and test phrasings here, over all loaded commands", () => {
    for (const text of [
      "is analytics.fct_orders the right quality?",
      "how many tests run in production?",
      "test pass rate over time",
      "tests pass/fail trend this week",
      "how many tests ran in QA, passed, failed, warned?",
      "which tests failed yesterday?",
      ...commands.find((c) => c.id === "quality")!.examples,
    ]) {
      const pq = parseQuestion(text, DEMO_NOW, "UTC");
      assert.equal(bestCommand(commands, pq)?.id, "quality", text);
    }
  });

  it("computes the latest result of each test on analytics.fct_orders in each environment, prod judged", async () => {
    const d = await quality.compute(
      demoContext(store),
      { measure: "tests", subject: { kind: "dataset", name: "analytics.fct_orders" } },
      LAST_7,
      { trend: false },
    );
    assert.ok(d.view === "latest");
    assert.equal(d.primary, "prod");
    const since = DEMO_NOW.getTime() - 30 * DAY;
    const latest = new Map<string, TestEvent>();
    for (const t of results)
      if (t.dataset === "analytics.fct_orders" && t.at.getTime() >= since && t.at <= DEMO_NOW) {
        const key = `${t.environment}|${t.test}`;
        if (!latest.has(key) || latest.get(key)!.at < t.at) latest.set(key, t);
      }
    assert.deepEqual(
      new Map(d.results.map((r) => [`${r.environment}|${r.test}`, [r.status, r.at.getTime()]])),
      new Map([...latest].map(([k, t]) => [k, [t.status, t.at.getTime()]])),
    );
  });

  it("computes prod's tests, results and outcomes over the last 7 days, and the ones that did not pass", async () => {
    const d = await quality.compute(
      demoContext(store),
      { measure: "tests", subject: { kind: "fleet" }, environment: "prod" },
      LAST_7,
      { trend: false },
    );
    assert.ok(d.view === "counts");
    const prod = inWindow(weekAgo, DEMO_NOW, "prod");
    assert.deepEqual(d.total, { ...outcomes(prod), results: prod.length });
    assert.equal(d.tests, new Set(prod.map((t) => t.test)).size);
    const problems = prod.filter((t) => ["fail", "warn", "error"].includes(t.status));
    assert.deepEqual(
      d.problems.map((r) => [r.test, r.status, r.at.getTime()]).sort(),
      problems.map((t) => [t.test, t.status, t.at.getTime()]).sort(),
    );
  });

  it("computes the outcomes of every day of this week, in the asker's days", async () => {
    const monday = new Date("2026-11-16T00:00:00Z");
    const d = await quality.compute(
      demoContext(store),
      { measure: "tests", subject: { kind: "fleet" } },
      { from: monday, to: DEMO_NOW, label: "this week", given: true },
      { trend: true },
    );
    assert.ok(d.view === "trend");
    assert.equal(d.days.length, 7);
    d.days.forEach((x, i) => {
      const from = new Date(monday.getTime() + i * DAY);
      assert.equal(x.day.getTime(), from.getTime());
      const day = inWindow(from, new Date(Math.min(from.getTime() + DAY, DEMO_NOW.getTime())));
      assert.deepEqual(x.outcomes, day.length ? outcomes(day) : null, from.toISOString());
    });
    assert.deepEqual(d.total, outcomes(inWindow(monday)));
  });

  it("says Yes when every test on analytics.fct_orders passed in its latest prod run", async () => {
    const r = await q("is analytics.fct_orders the right quality?");
    assert.equal(r.family, "quality");
    const onIt = results.filter((t) => t.dataset === "analytics.fct_orders" && t.environment === "prod");
    const names = [...new Set(onIt.map((t) => t.test))];
    const latest = names.map((n) => onIt.filter((t) => t.test === n).sort((a, b) => +b.at - +a.at)[0]!);
    assert.ok(latest.every((t) => t.status === "pass"));
    assert.equal(
      r.head,
      `Yes — all ${names.length} tests on \`analytics.fct_orders\` passed in the latest run in prod.`,
    );
    const qaTests = new Set(
      results
        .filter((t) => t.dataset === "analytics.fct_orders" && t.environment === "qa")
        .map((t) => t.test),
    );
    assert.ok(r.out.includes(`In qa: ${qaTests.size} of ${qaTests.size} tests passed.`), r.out);
  });

  it("warns that dim_customers' test results are old, since the dataset stopped updating", async () => {
    const r = await q("is dim_customers good quality?");
    assert.equal(r.family, "quality");
    assert.match(r.out, /these tests have not reported since/);
  });

  it("counts the tests that ran in production in the last 7 days", async () => {
    const r = await q("how many tests run in production?");
    assert.equal(r.family, "quality");
    const prod = inWindow(weekAgo, DEMO_NOW, "prod");
    const tests = new Set(prod.map((t) => t.test)).size;
    assert.ok(
      r.head.startsWith(
        `${tests} tests ran in prod in the last 7 days, ${prod.length} times in all: ${count(prod, "pass")} passed, ${count(prod, "fail")} failed, ${count(prod, "warn")} warned`,
      ),
      r.head,
    );
  });

  it("counts QA passes, failures and warnings, and shows the QA failure", async () => {
    const r = await q("how many tests ran in QA, passed, failed, warned?");
    assert.equal(r.family, "quality");
    const qa = inWindow(weekAgo, DEMO_NOW, "qa");
    assert.equal(count(qa, "fail"), 1, "the demo plants one QA failure yesterday");
    assert.ok(
      r.head.startsWith(
        `${new Set(qa.map((t) => t.test)).size} tests ran in qa in the last 7 days, ${qa.length} times in all: ${count(qa, "pass")} passed, 1 failed, ${count(qa, "warn")} warned`,
      ),
      r.head,
    );
    assert.match(
      r.out,
      /`accepted_values_stg_payments_method` on `staging\.stg_payments` — fail: 1 unexpected value: 'klarna'/,
    );
  });

  it("shows the daily pass/fail trend with a sparkline, this week", async () => {
    const r = await q("tests pass/fail trend this week");
    assert.equal(r.family, "quality");
    const monday = new Date("2026-11-16T00:00:00Z");
    const week = inWindow(monday);
    const judged = week.filter((t) => t.status !== "skip");
    const pct = ((100 * count(week, "pass")) / judged.length).toFixed(1);
    assert.ok(
      r.head.startsWith(
        `Test pass rate this week: ${pct}% (${count(week, "pass")} of ${judged.length} results)`,
      ),
      r.head,
    );
    const sat = inWindow(new Date("2026-11-21T00:00:00Z"), new Date("2026-11-22T00:00:00Z"));
    assert.ok(
      r.out.includes(
        `Sat 21 Nov — ${count(sat, "pass")} pass, ${count(sat, "fail")} fail, ${count(sat, "warn")} warn`,
      ),
      r.out,
    );
    const spark = /`([▁▂▃▄▅▆▇█·]+)`/.exec(r.out)?.[1];
    assert.equal(spark?.length, 7, "one bar per day, Mon to Sun");
  });

  it("shows the pass rate over time in qa only when asked in qa", async () => {
    const r = await q("test pass rate over time in qa");
    assert.equal(r.family, "quality");
    const qa = inWindow(weekAgo, DEMO_NOW, "qa");
    assert.ok(r.head.startsWith(`Test pass rate in qa in the last 7 days: `), r.head);
    assert.ok(r.head.includes(`(${count(qa, "pass")} of ${qa.length} results)`), r.head);
    assert.match(r.head, /lowest Sat 21 Nov/);
  });

  it("suggests the right dataset for a misspelt name", async () => {
    const r = await q("is analytics.fct_order the right quality?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `analytics\.fct_orders`/);
  });
});
