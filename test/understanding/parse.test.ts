// Questions → frames on the development corpus and on the phrasings that issue 13 lists as
// misunderstood. The held-out set is never read here (npm run bench:understanding scores it).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONFIDENT, parseFrame } from "../../src/understanding/parse.ts";
import { loadCorpus, loadFleet, score, scoreFollowUps } from "../corpus/score.ts";

const demo = loadFleet("demo");
const parse = (q: string) =>
  parseFrame(q, { now: new Date(demo.now), timezone: demo.timezone, names: demo.names });

describe("understanding questions", () => {
  it("understands the everyday phrasings that used to get 'I didn't understand'", () => {
    const cases: [string, string, string?][] = [
      ["what failed yesterday?", "failures", "fleet"],
      ["how many runs failed yesterday", "failures", "fleet"],
      ["did gl_summary fail yesterday", "failures", "finance_close.gl_summary"],
      ["is gl_summary ok?", "status", "finance_close.gl_summary"],
      ["gl_summary status", "status", "finance_close.gl_summary"],
      ["how long does gl_summary usually take", "duration", "finance_close.gl_summary"],
      ["what's the p95 runtime of gl_summary", "duration", "finance_close.gl_summary"],
      ["failure rate of gl_summary over the last 7 days", "failure_rate", "finance_close.gl_summary"],
      ["give me a summary of yesterday", "summary", "fleet"],
      ["anything I should worry about?", "summary", "fleet"],
      ["whats scheduled for tonight", "plan", "fleet"],
      ["how many jobs ran in the last 6h", "runs", "fleet"],
    ];
    for (const [q, measure, subject] of cases) {
      const p = parse(q);
      assert.equal(p.frame.measure, measure, q);
      assert.equal(p.frame.subject.name ?? p.frame.subject.kind, subject, q);
      assert.ok(p.confidence >= CONFIDENT, `${q}: confidence ${p.confidence}`);
    }
  });

  it("reads the questions it once answered wrongly with confidence", () => {
    const ordering = parse("did gl_summary run after everything in finance_close on tuesday?").frame;
    assert.equal(ordering.measure, "ordering");
    assert.deepEqual(ordering.against, { kind: "group", name: "finance_close", all: true });
    assert.deepEqual(ordering.window, { from: "2026-11-17T00:00:00.000Z", to: "2026-11-18T00:00:00.000Z" });

    const tuesday = parse("did user_embeddings run last tuesday").frame;
    assert.equal(tuesday.subject.name, "ml_features.user_embeddings");
    assert.deepEqual(tuesday.window, { from: "2026-11-17T00:00:00.000Z", to: "2026-11-18T00:00:00.000Z" });

    const missed = parse("any missed runs since monday").frame;
    assert.equal(missed.measure, "missed");
    assert.equal(missed.polarity, "present", "Yes must mean: there were missed runs");

    assert.equal(parse("did gl summary run yesterday").frame.subject.name, "finance_close.gl_summary");
    assert.equal(parse("how many jobs ran in the last 6h").frame.subject.kind, "fleet");
    assert.deepEqual(parse("how many deploys in the last week").frame.window, {
      from: "2026-11-15T09:00:00.000Z",
      to: "2026-11-22T09:00:00.000Z",
    });
    assert.equal(parse("did gl_summary start late or run long yesterday?").frame.measure, "root_cause");
    assert.equal(parse("were any columns dropped or renamed this month").frame.measure, "schema_changes");
    const dashboard = parse("is the finance dashboard data up to date").frame;
    assert.equal(dashboard.measure, "freshness");
    assert.equal(dashboard.subject.name, "bi.finance_dashboard_extract");
  });

  it("asks back rather than guess between two jobs the words fit equally", () => {
    const p = parse("did the fx rates job run yesterday");
    assert.ok(p.confidence < CONFIDENT || p.alternatives.length > 0, JSON.stringify(p));
  });

  it("asks which job when a word names several ('the billing job'), and finds the one it names ('the sync')", () => {
    const harbor = loadFleet("harbor");
    const ph = (q: string) =>
      parseFrame(q, { now: new Date(harbor.now), timezone: harbor.timezone, names: harbor.names });
    const billing = ph("did the billing job run last night");
    assert.ok(billing.confidence < CONFIDENT && billing.alternatives.length >= 2, JSON.stringify(billing));
    assert.deepEqual(ph("did the sync fail yesterday").frame.subject, {
      kind: "job",
      name: "risk_scoring.chargeback_sync",
    });
    assert.equal(ph("did billing nightly run yday").frame.subject.kind, "group");
    assert.equal(ph("which telemetry jobs are flaky").frame.subject.name, "fleet_telemetry");
  });

  it("reads a name's words in another order, and never a question word as the start of a name", () => {
    assert.equal(
      parse("is the crm sync failing again").frame.subject.name,
      "orders_daily.sync_orders_to_crm",
    );
    assert.equal(
      parse("is revenue recognition starting late again").frame.subject.name,
      "finance_close.revenue_recognition",
    );
    assert.equal(
      parse("cpu usage of user_embeddings this week").frame.subject.name,
      "ml_features.user_embeddings",
    );
  });

  it("reads 'X last run time' as when it last ran (whose answer says how long it took too)", () => {
    const p = parse("gl summary last run time");
    assert.ok(p.confidence >= CONFIDENT);
    assert.equal(p.frame.measure, "last_run");
  });

  for (const file of ["dev.jsonl", "dev5.jsonl", "dev6.jsonl"])
    it(`changes the right slot of every follow-up of ${file}`, () => {
      const { lines } = loadCorpus(file);
      const f = scoreFollowUps(lines);
      assert.ok(f.n >= 30);
      assert.deepEqual(f.wrong, []);
    });

  // Floors that keep what the development sets reached (2026-12-06, third session: 93.3 /
  // 92.8 / 90.6 / 89.9 / 87.3 / 86.9 %, confidently wrong 1.3–2.5 %) from sliding back
  // unnoticed. dev5 and dev6 were written fresh this session; their first scores, before
  // any tuning on them, were 82.1 % (5.2 % confidently wrong) and 81.5 % (4.7 %).
  for (const [file, floor] of [
    ["dev.jsonl", 0.91],
    ["dev2.jsonl", 0.9],
    ["dev3.jsonl", 0.88],
    ["dev4.jsonl", 0.87],
    ["dev5.jsonl", 0.85],
    ["dev6.jsonl", 0.84],
  ] as const)
    it(`understands at least ${floor * 100} % of ${file}, confidently wrong on at most 4 %`, () => {
      const { lines } = loadCorpus(file);
      const s = score(lines);
      assert.ok(s.correct / s.n >= floor, `frame accuracy ${(s.correct / s.n).toFixed(3)}`);
      assert.ok(
        s.confidentlyWrong / s.n <= 0.04,
        `confidently wrong ${(s.confidentlyWrong / s.n).toFixed(3)}`,
      );
    });
});
