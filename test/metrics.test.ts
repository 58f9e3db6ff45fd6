// GET /metrics on the real app: what ingest, questions and outbox deliveries count, the
// gauges read from the database at scrape time, the optional bearer token, and separate
// registries for separate apps in one process.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { OutboxWorker } from "../src/outbox/worker.ts";
import { buildTriggerEvent, createPagerDutyHandler } from "../src/pagerduty/events.ts";
import { startTestApp } from "./helpers/app.ts";
import { DEMO_NOW, openDemoStore } from "./helpers/demo.ts";
import { startFakePagerDuty } from "./helpers/fake-pagerduty.ts";
import { testLogger } from "./helpers/log.ts";
import { describeEachStore } from "./helpers/store.ts";
import { enqueueAt } from "./outbox/helpers.ts";
import { startSlackHarness } from "./slack/harness.ts";

export const METRICS_TOKEN = "metrics-scrape-token-5f0c1d";
const ROUTING_KEY = "METRICSR0UTINGKEY0123456789abcde";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format strictly enough that a malformed line fails the test. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) {
      labels[l[1]!] = l[2]!;
    }
    // NaN is legal (an event loop lag not sampled yet); Prometheus reads it case-insensitively.
    const value = /^nan$/i.test(m[3]!) ? Number.NaN : Number(m[3] === "+Inf" ? Infinity : m[3]);
    assert.ok(/^nan$/i.test(m[3]!) || !Number.isNaN(value), `a number: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = find(samples, name, labels);
  assert.ok(hits.length <= 1, `one sample of ${name} ${JSON.stringify(labels)}, got ${hits.length}`);
  return hits[0]?.value;
}

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/metrics`, { headers });
  const text = await res.text();
  return { res, text, ...(res.status === 200 ? parseExposition(text) : { samples: [], types: new Map() }) };
}

const olEvent = () => ({
  eventType: "COMPLETE",
  eventTime: "2026-11-22T08:30:00Z",
  producer: "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/airflow",
  schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
  run: { runId: randomUUID() },
  job: { namespace: "airflow-prod", name: "metrics_dag.load" },
  inputs: [],
  outputs: [],
});

describeEachStore("GET /metrics", (kind) => {
  it("counts ingested events by type and source, refusals by reason, and questions by family", async () => {
    const store = await openDemoStore(kind);
    const h = await startSlackHarness(kind, { store, now: () => DEMO_NOW });
    try {
      const events = [
        { type: "run", job: "metrics_job", status: "success", started_at: "2026-11-22T08:00:00Z" },
        { type: "run", job: "metrics_job", status: "failed", started_at: "2026-11-22T08:10:00Z" },
        { type: "dataset", dataset: "analytics.metrics_ds", updated_at: "2026-11-22T08:20:00Z" },
      ];
      assert.equal((await h.app.post("/api/v1/events", events)).status, 200);
      assert.equal((await h.app.post("/api/v1/lineage", olEvent())).status, 201);
      assert.equal(
        (await h.app.post("/api/v1/events", events[0]!, { authorization: "Bearer wrong-token-xyz" })).status,
        401,
      );
      assert.equal((await h.app.post("/api/v1/events", { type: "run" })).status, 400);

      await h.ask("did gl_summary run yesterday?");
      const line = await h.questionLog((l) => l["source"] === "command", "the question's log line");
      const family = String(line["family"]);

      // Shared state the gauges read: two triggered, one acknowledged, one resolved incident
      // and one Slack message waiting 90 s.
      const incident = (key: string, state: string) =>
        store.query(
          sql`INSERT INTO incidents (key, kind, subject_type, subject, severity, state, summary, opened_at, last_seen_at)
              VALUES (${key}, 'failed_run', 'job', 'metrics_job', 'error', ${state}, 'metrics test',
                      ${ts(DEMO_NOW)}, ${ts(DEMO_NOW)})`,
        );
      await incident("m1", "triggered");
      await incident("m2", "triggered");
      await incident("m3", "acknowledged");
      await incident("m4", "resolved");
      await enqueueAt(store, new Date(DEMO_NOW.getTime() - 90_000), [
        { target: "slack", orderingKey: "metrics-incident", payload: { channel: "#x", text: "hi" } },
      ]);

      // A run the daily rollup has not taken yet, marked 30 s ago (after the flush the posts
      // above started, so nothing takes it before the scrape).
      await h.app.app.ingestor.rollups.idle();
      await store.query(
        sql`INSERT INTO rollup_dirty (job_id, day, touched_at)
            SELECT id, '2026-11-22', ${ts(new Date(DEMO_NOW.getTime() - 30_000))} FROM jobs LIMIT 1`,
      );

      const { res, samples, types } = await scrape(h.app.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const ing = "houston_ingest_events_total";
      assert.equal(types.get(ing), "counter");
      assert.equal(value(samples, ing, { type: "run", source: "events" }), 2);
      assert.equal(value(samples, ing, { type: "dataset", source: "events" }), 1);
      assert.equal(value(samples, ing, { type: "run", source: "openlineage" }), 1);
      const errs = "houston_ingest_errors_total";
      assert.equal(value(samples, errs, { reason: "unauthorized", source: "events" }), 1);
      assert.equal(value(samples, errs, { reason: "invalid", source: "events" }), 1);

      assert.equal(
        value(samples, "houston_questions_total", { family, source: "command", outcome: "delivered" }),
        1,
      );
      assert.equal(types.get("houston_question_duration_seconds"), "histogram");
      assert.equal(value(samples, "houston_question_duration_seconds_count", { family }), 1);
      const inf = value(samples, "houston_question_duration_seconds_bucket", { family, le: "+Inf" });
      assert.equal(inf, 1);

      assert.equal(value(samples, "houston_incidents_open", { state: "triggered" }), 2);
      assert.equal(value(samples, "houston_incidents_open", { state: "acknowledged" }), 1);
      assert.equal(find(samples, "houston_incidents_open", { state: "resolved" }).length, 0);
      assert.equal(value(samples, "houston_outbox_pending", { target: "slack" }), 1);
      assert.equal(value(samples, "houston_outbox_oldest_pending_age_seconds", { target: "slack" }), 90);
      assert.equal(value(samples, "houston_rollup_lag_seconds"), 30);

      // digest_deliveries comes with the digests feature: counted when it exists, absent before.
      const [table] = await store.query<{ exists: boolean }>(
        sql`SELECT to_regclass('digest_deliveries') IS NOT NULL AS exists`,
      );
      const digestSamples = find(samples, "houston_digest_deliveries");
      if (table?.exists) {
        const [n] = await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM digest_deliveries`);
        assert.equal(
          digestSamples.reduce((a, s) => a + s.value, 0),
          n!.n,
        );
      } else assert.equal(digestSamples.length, 0);
      assert.equal(types.get("houston_digest_deliveries"), "gauge");
      assert.equal(value(samples, "houston_metrics_collect_errors_total"), undefined, "no failed reads");

      assert.ok(
        (value(samples, "houston_http_request_duration_seconds_count", {
          method: "POST",
          route: "/api/v1/events",
          status: "200",
        }) ?? 0) >= 1,
      );
      assert.ok((value(samples, "process_cpu_user_seconds_total") ?? 0) > 0, "process metrics");
      assert.ok(types.has("nodejs_eventloop_lag_seconds"), "Node.js runtime metrics");
    } finally {
      await h.close();
      await store.dispose();
    }
  });

  it("times PagerDuty calls by outcome and counts the ones that did not deliver", async () => {
    const t = await startTestApp(kind);
    const pd = await startFakePagerDuty();
    const { log, lines } = testLogger("info");
    const worker = new OutboxWorker({
      store: t.store,
      log,
      replicaId: "metrics-test",
      metrics: t.app.metrics,
      handlers: {
        pagerduty: createPagerDutyHandler({ server: pd.server, agent: pd.agent, timeoutMs: 5_000 }),
      },
      random: () => 0.5,
    });
    try {
      const body = (key: string) =>
        buildTriggerEvent(
          {
            key,
            kind: "failed_run",
            subject: "job.metrics",
            summary: `metrics ${key}`,
            severity: "error",
            groupName: null,
            details: {},
            routingKey: null,
          },
          { routingKey: ROUTING_KEY },
        );
      pd.script(202, 500, 400);
      await enqueueAt(t.store, new Date(Date.now() - 1_000), [
        { target: "pagerduty", orderingKey: "a", payload: body("a") },
        { target: "pagerduty", orderingKey: "b", payload: body("b") },
        { target: "pagerduty", orderingKey: "c", payload: body("c") },
      ]);
      // One at a time, so the scripted answers meet the rows in order.
      for (let i = 0; i < 3; i++) await worker.drainOnce(1);
      const { samples } = await scrape(t.url);
      const calls = "houston_delivery_duration_seconds_count";
      assert.equal(value(samples, calls, { target: "pagerduty", outcome: "delivered" }), 1);
      assert.equal(value(samples, calls, { target: "pagerduty", outcome: "retry" }), 1);
      assert.equal(value(samples, calls, { target: "pagerduty", outcome: "failed" }), 1);
      const errors = "houston_delivery_errors_total";
      assert.equal(value(samples, errors, { target: "pagerduty", outcome: "delivered" }), undefined);
      assert.equal(value(samples, errors, { target: "pagerduty", outcome: "retry" }), 1);
      assert.equal(value(samples, errors, { target: "pagerduty", outcome: "failed" }), 1);
      const sum = value(samples, "houston_delivery_duration_seconds_sum", {
        target: "pagerduty",
        outcome: "delivered",
      });
      assert.ok(sum !== undefined && sum > 0 && sum < 5, `a real call's duration: ${sum}`);
      // One log line per call, whatever its outcome, with its duration and correlation keys.
      const calls_ = lines().filter((l) => typeof l["ms"] === "number" && l["target"] === "pagerduty");
      assert.deepEqual(
        calls_.map((l) => [l["orderingKey"], l["level"]]),
        [
          ["a", 30],
          ["b", 40],
          ["c", 50],
        ],
      );
      // The one to retry is still pending: the gauge sees it.
      assert.equal(value(samples, "houston_outbox_pending", { target: "pagerduty" }), 1);
    } finally {
      await worker.stop(1_000);
      await pd.close();
      await t.close();
    }
  });

  it("requires `Authorization: Bearer <token>` when HOUSTON_METRICS_TOKEN is set", async () => {
    const t = await startTestApp(kind, { HOUSTON_METRICS_TOKEN: METRICS_TOKEN });
    try {
      const none = await scrape(t.url);
      assert.equal(none.res.status, 401);
      assert.match(none.res.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.doesNotMatch(none.text, /houston_/);
      const wrong = await scrape(t.url, { authorization: `Bearer ${METRICS_TOKEN}x` });
      assert.equal(wrong.res.status, 401);
      const ok = await scrape(t.url, { authorization: `Bearer ${METRICS_TOKEN}` });
      assert.equal(ok.res.status, 200);
      assert.ok(ok.types.has("houston_ingest_events_total"));
    } finally {
      await t.close();
    }
  });

  it("keeps a separate registry per app in one process", async () => {
    const a = await startTestApp(kind);
    const b = await startTestApp(kind);
    try {
      const r = await a.post("/api/v1/events", {
        type: "run",
        job: "only_in_a",
        status: "success",
        started_at: "2026-11-22T08:00:00Z",
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const sa = (await scrape(a.url)).samples;
      const sb = (await scrape(b.url)).samples;
      assert.equal(value(sa, "houston_ingest_events_total", { type: "run", source: "events" }), 1);
      assert.equal(value(sb, "houston_ingest_events_total", { type: "run", source: "events" }), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
