import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import anomalies, {
  type AnomalyData,
  anomalyChartSpec,
  anomalySentence,
  computeAnomalies,
} from "../../reports/anomalies.ts";
import { flushAllRollups } from "../../src/db/rollup.ts";
import { digestToTerminal } from "../../src/digests/common.ts";
import type { DigestRequest } from "../../src/digests/types.ts";
import type { HoustonEvent } from "../../src/ingest/events.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import { demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { daysBefore, demoRequest, median, truth } from "./truth.ts";

const DAY = "2026-11-21";
const T = truth(demoFleet());
const keys = (d: AnomalyData) => d.anomalies.map((a) => `${a.name}:${a.metric}`).sort();

describeEachStore("anomaly digest on the demo fleet", (kind) => {
  let store: TestStore;
  let data: AnomalyData;
  const req = (over: Partial<DigestRequest> = {}) => demoRequest(store, over);
  before(async () => {
    store = await openDemoStore(kind);
    data = await computeAnomalies(req());
  });
  after(() => store.dispose());

  it("finds the planted stories and nothing else on the day", () => {
    assert.deepEqual(keys(data), [
      // Consequences of the late start and the long run: their outputs landed late.
      "finance.gl_summary:lateness",
      "ml.churn_scores:lateness",
      // The duration anomaly and the cost spike (as cpu).
      "ml_features.train_churn_model:duration",
      "ml_features.user_embeddings:cpu",
      // The late supplier.
      "shipfast_logistics/returns:lateness",
      "shipfast_logistics/shipments:lateness",
    ]);
    assert.equal(data.anomalies[0]!.name, "ml_features.train_churn_model", "the worst first");
    assert.ok(data.scored > 250);
  });

  it("scores train_churn_model's duration against the 14 days before, as computed from the seeded runs", () => {
    const a = data.anomalies.find((x) => x.metric === "duration")!;
    const job = "ml_features.train_churn_model";
    const today = T.duration(T.runsOn(job, DAY)[0]!);
    const history = daysBefore(DAY, 14).flatMap((d) => T.runsOn(job, d).map(T.duration));
    assert.equal(history.length, 14);
    assert.equal(a.verdict.value, today);
    assert.equal(a.verdict.n, 14);
    assert.ok(Math.abs(a.verdict.median! - median(history)) < 1e-6);
    const m = history.reduce((x, y) => x + y, 0) / 14;
    const sd = Math.sqrt(history.reduce((x, y) => x + (y - m) ** 2, 0) / 13);
    assert.ok(Math.abs(a.verdict.z! - (today - m) / sd) < 1e-6);
    assert.match(
      anomalySentence(a, false),
      /^`ml_features\.train_churn_model` ran 2h \d\dm, usual 3\d min \(median of 14 days\), \d+σ$/,
    );
  });

  it("catches the late supplier with the robust z although its earlier late days inflate the sd", () => {
    for (const name of ["shipfast_logistics/shipments", "shipfast_logistics/returns"]) {
      const a = data.anomalies.find((x) => x.name === name)!;
      assert.equal(a.verdict.by, "robust", name);
      assert.ok(Math.abs(a.verdict.z!) < 3, `${name}: classic z ${a.verdict.z} is masked`);
    }
  });

  it("applies per-job settings from houston.yml and the subscription's seasonality", async () => {
    const lenient = await computeAnomalies(
      req({ jobAnomalies: { "ml_features.train_churn_model": { sensitivity: 1000 } } }),
    );
    assert.ok(!keys(lenient).includes("ml_features.train_churn_model:duration"));
    assert.ok(keys(lenient).includes("ml_features.user_embeddings:cpu"));
    // Same weekday over 14 days: 2 points, fewer than the 7 needed, so no verdicts at all.
    const seasonal = await computeAnomalies(req({ anomalies: { seasonality: true } }));
    assert.equal(seasonal.scored, 0);
    assert.ok(seasonal.insufficient > 0);
    const d = await anomalies.build(req({ anomalies: { seasonality: true } }));
    assert.equal(d.empty, true);
    assert.match(digestToTerminal(d), /No anomalies: no series had enough history/);
  });

  it("narrows to an environment or a group", async () => {
    const ml = await computeAnomalies(req({ group: "ml_features" }));
    assert.deepEqual(keys(ml), [
      "ml.churn_scores:lateness",
      "ml_features.train_churn_model:duration",
      "ml_features.user_embeddings:cpu",
    ]);
    const staging = await computeAnomalies(req({ environment: "staging" }));
    assert.deepEqual(keys(staging), []);
    assert.ok(staging.scored > 0);
  });

  it("reports each day of a week, with the day named", async () => {
    const w = await computeAnomalies(req({ days: 7 }));
    const ship = w.anomalies
      .filter((a) => a.name === "shipfast_logistics/shipments" && a.metric === "lateness")
      .map((a) => a.day);
    assert.deepEqual(ship.sort(), ["2026-11-19", "2026-11-20", "2026-11-21"]);
    const a = w.anomalies.find((x) => x.metric === "duration" && x.name === "ml_features.train_churn_model")!;
    assert.match(anomalySentence(a, true), /^`ml_features\.train_churn_model` on Saturday 21 ran/);
  });

  it("names the usual band and the median line in the chart's legend", async () => {
    const spec = anomalyChartSpec(await computeAnomalies(req({ chart: true })))!.spec as any;
    const [band, median] = spec.layer;
    assert.match(band.encoding.fill.datum, /^usual range \(median ± [\d.]+ σ\)$/);
    assert.ok(band.encoding.fill.legend, "the band has a legend entry");
    assert.equal(median.encoding.stroke.datum, "median");
    assert.ok(median.encoding.stroke.legend, "the dashed median has a legend entry");
  });

  it("renders the ranked anomalies with sparklines and the worst one's chart", async () => {
    const d = await anomalies.build(req({ chart: true }));
    assert.equal(d.empty, false);
    const out = digestToTerminal(d);
    assert.match(out.split("\n")[2]!, /^6 anomalies — worst: `ml_features\.train_churn_model` ran/);
    assert.match(
      out,
      /`ml_features\.user_embeddings` used [\d.]+K cpu-s, usual [\d.]+K cpu-s \(median of 14 days\), \d+σ [▁-█]{14} — @ml-platform/,
    );
    assert.ok(d.blocks.length <= 50);
    assert.ok(d.chart);
    assert.match(d.chart.title, /^ml_features\.train_churn_model: duration/);
  });
});

/**
 * A fleet whose last day sits in the middle of each series: values cycle through a fixed
 * ±5% pattern for 20 days and the last day takes the middle value. A control job (its own
 * group) runs 3× longer that day.
 */
function quietFleet(): HoustonEvent[] {
  const pattern = [0.96, 1.03, 0.99, 1.04, 0.97, 1.01, 1.0, 0.98, 1.02, 0.95, 1.05, 1.0, 0.99, 1.01];
  const events: HoustonEvent[] = [];
  const jobs = [
    { job: "quiet.load", group: "quiet", min: 12, rows: 50_000, at: 2 },
    { job: "quiet.transform", group: "quiet", min: 30, rows: 900_000, at: 4 },
    { job: "quiet.export", group: "quiet", min: 6, rows: 1_200, at: 7 },
    { job: "control.spiky", group: "control", min: 10, rows: 10_000, at: 3 },
  ];
  for (const [k, j] of jobs.entries()) {
    for (let i = 0; i < 21; i++) {
      const day = Date.parse("2026-11-01T00:00:00Z") + i * 86_400_000;
      const last = i === 20;
      const f = last ? 1 : pattern[(i + 3 * k) % pattern.length]!;
      const g = last ? 1 : pattern[(i + 5 * k + 2) % pattern.length]!;
      const dur = j.min * 60_000 * f * (last && j.group === "control" ? 3 : 1);
      const start = day + j.at * 3_600_000;
      const end = start + dur;
      const runId = `q-${j.job}-${i}`;
      events.push({
        type: "run",
        id: `run:${runId}`,
        namespace: "quiet",
        job: j.job,
        runId,
        status: "success",
        scheduledFor: new Date(start),
        startedAt: new Date(start),
        endedAt: new Date(end),
        group: j.group,
        environment: "prod",
        owner: "@quiet-team",
        rows: Math.round(j.rows * g),
        cpuSeconds: (dur / 1000) * 2 * g,
        memoryMb: 1000 * f,
        cost: (dur / 1000) * 0.001 * g,
        eventTime: new Date(end),
      });
      events.push({
        type: "dataset",
        id: `ds:${runId}`,
        namespace: "wh",
        dataset: `${j.job}_out`,
        updatedAt: new Date(end),
        rows: Math.round(j.rows * g),
        runId,
        producer: { namespace: "quiet", job: j.job },
      });
    }
  }
  return events;
}

describeEachStore("anomaly digest on a quiet day", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
    await new Ingestor(store).applyOnly(quietFleet());
    await flushAllRollups(store);
  });
  after(() => store.dispose());

  it("raises no anomaly when every series is within its usual range", async () => {
    const r: DigestRequest = {
      store,
      date: "2026-11-21",
      days: 1,
      timezone: "UTC",
      chart: true,
      group: "quiet",
    };
    const data = await computeAnomalies(r);
    // 3 jobs × 4 metrics + 3 datasets × 2 metrics.
    assert.equal(data.scored, 18);
    assert.deepEqual(keys(data), []);
    const d = await anomalies.build(r);
    assert.equal(d.empty, true);
    assert.equal(d.chart, undefined);
    assert.equal(
      digestToTerminal(d),
      "Anomaly digest — Sat 21 Nov 2026 (UTC) (group quiet) — No anomalies (group quiet): 18 series of 3 jobs and 3 datasets were within their usual range.",
    );
  });

  it("still flags the control job that ran 3× longer the same day", async () => {
    const data = await computeAnomalies({
      store,
      date: "2026-11-21",
      days: 1,
      timezone: "UTC",
      chart: false,
      group: "control",
    });
    assert.ok(keys(data).includes("control.spiky:duration"));
    assert.ok(data.anomalies.every((a) => a.name.startsWith("control.spiky")));
  });
});

describeEachStore("anomaly digest with no data", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());

  it("says so in one line", async () => {
    const d = await anomalies.build({ store, date: DAY, days: 1, timezone: "UTC", chart: true });
    assert.equal(d.empty, true);
    assert.equal(d.blocks.length, 1);
    assert.match(digestToTerminal(d), /No anomalies: no series had enough history to judge \(0 with/);
  });
});
