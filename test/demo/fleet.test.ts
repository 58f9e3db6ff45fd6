import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { CronExpressionParser } from "cron-parser";
import { type DemoFleet, type DemoStory, generateDemoFleet } from "../../src/demo/fleet.ts";
import type { DatasetEvent, DeployEvent, RunEvent, TestEvent } from "../../src/ingest/events.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
// Crosses the end of daylight saving time in Europe (Oct 25) and the US (Nov 1).
const UNTIL = new Date("2026-11-03T00:00:00Z");
const HORIZON = UNTIL.getTime() + 6 * HOUR;
const fleet = generateDemoFleet({ until: UNTIL });

const runs = fleet.events.filter((e): e is RunEvent => e.type === "run");
const updates = fleet.events.filter((e): e is DatasetEvent => e.type === "dataset");
const tests = fleet.events.filter((e): e is TestEvent => e.type === "test");
const deploys = fleet.events.filter((e): e is DeployEvent => e.type === "deploy");

const offsetOf = (d: Date, until = UNTIL) => Math.floor((d.getTime() - until.getTime()) / DAY);
const dayOf = (offset: number) => new Date(UNTIL.getTime() + offset * DAY).toISOString().slice(0, 10);
const durationMs = (r: RunEvent) => r.endedAt!.getTime() - r.startedAt!.getTime();
const story = (f: DemoFleet, kind: DemoStory["kind"]) => {
  const s = f.stories.find((x) => x.kind === kind);
  assert.ok(s, `story ${kind} is planted`);
  return s;
};
const runsOf = (job: string) => runs.filter((r) => r.job === job);
const successOn = (job: string, from: number, to: number) =>
  runsOf(job).filter(
    (r) => r.status === "success" && offsetOf(r.scheduledFor!) >= from && offsetOf(r.scheduledFor!) <= to,
  );

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function robustZ(x: number, history: number[]): number {
  const med = median(history);
  const mad = median(history.map((h) => Math.abs(h - med)));
  if (mad === 0) return x === med ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(x - med) / (1.4826 * mad);
}

function sigmas(x: number, history: number[]): number {
  const mean = history.reduce((a, b) => a + b, 0) / history.length;
  const sd = Math.sqrt(history.reduce((a, b) => a + (b - mean) ** 2, 0) / (history.length - 1));
  return sd === 0 ? (x === mean ? 0 : Number.POSITIVE_INFINITY) : Math.abs(x - mean) / sd;
}

function slots(cron: string, tz: string, from: number, to: number): number[] {
  const it = CronExpressionParser.parse(cron, { tz, currentDate: new Date(from - 1), endDate: new Date(to) });
  const out: number[] = [];
  while (it.hasNext()) {
    const t = it.next().toDate().getTime();
    if (t >= to) break;
    out.push(t);
  }
  return out;
}

const METRICS: Record<string, (r: RunEvent) => number> = {
  duration: durationMs,
  rows: (r) => r.rows!,
  cpu: (r) => r.cpuSeconds!,
  memory: (r) => r.memoryMb!,
  cost: (r) => r.cost!,
};

describe("the demo fleet generator", () => {
  test("the same until gives byte-identical output", () => {
    const again = generateDemoFleet({ until: new Date(UNTIL.getTime()) });
    assert.deepEqual(again, fleet);
    const hash = (f: DemoFleet) => createHash("sha256").update(JSON.stringify(f)).digest("hex");
    assert.equal(hash(again), hash(fleet));
    assert.notEqual(hash(generateDemoFleet({ until: new Date(UNTIL.getTime() - DAY) })), hash(fleet));
  });

  test("it refuses an until that is not a UTC midnight and too few days", () => {
    assert.throws(() => generateDemoFleet({ until: new Date("2026-11-03T05:00:00Z") }), RangeError);
    assert.throws(() => generateDemoFleet({ until: UNTIL, days: 7 }), RangeError);
  });

  test("every event has a unique demo id", () => {
    const ids = fleet.events.map((e) => e.id);
    for (const id of ids) assert.match(id ?? "", /^demo:/);
    assert.equal(new Set(ids).size, ids.length);
  });

  test("the fleet has the promised size and shape", () => {
    assert.ok(fleet.events.length < 10_000, `${fleet.events.length} events`);
    assert.ok(fleet.jobs.length >= 45 && fleet.jobs.length <= 55, `${fleet.jobs.length} jobs`);
    assert.equal(new Set(fleet.jobs.map((j) => j.group)).size, 6);
    assert.deepEqual([...new Set(fleet.jobs.map((j) => j.namespace))].sort(), [
      "airflow",
      "cron",
      "dbt",
      "spark",
    ]);
    assert.deepEqual([...new Set(fleet.jobs.map((j) => j.environment))].sort(), ["dev", "prod", "staging"]);
    assert.equal(new Set(fleet.datasets.filter((d) => d.supplier).map((d) => d.supplier)).size, 4);
    assert.equal(fleet.schedules.length, fleet.jobs.length);
    assert.equal(new Set(fleet.jobs.map((j) => `${j.namespace}/${j.job}`)).size, fleet.jobs.length);
    for (const j of fleet.jobs) {
      assert.match(j.owner, /^@/);
      assert.match(j.slackChannel, /^#/);
    }
  });

  test("every event falls inside the seeded history and is time-ordered", () => {
    const start = UNTIL.getTime() - 30 * DAY;
    let last = 0;
    for (const e of fleet.events) {
      const t = (
        e.type === "run" ? e.eventTime : e.type === "dataset" ? e.updatedAt : e.type === "job" ? null : e.at
      )!;
      assert.ok(t.getTime() >= start && t.getTime() < HORIZON, `${e.id} at ${t.toISOString()}`);
      assert.ok(t.getTime() >= last, `${e.id} is out of order`);
      last = t.getTime();
    }
  });

  test("runs are single complete events except a couple still running at the end", () => {
    const running = runs.filter((r) => r.status === "running");
    assert.ok(running.length >= 1 && running.length <= 3, `${running.length} running`);
    for (const r of running) {
      assert.equal(r.endedAt, undefined);
      assert.equal(offsetOf(r.startedAt!), 0);
    }
    for (const r of runs.filter((x) => x.status !== "running")) {
      assert.ok(r.status === "success" || r.status === "failed", r.status);
      assert.ok(r.endedAt! > r.startedAt!, r.id);
      assert.ok(r.startedAt! >= r.scheduledFor!, r.id);
      assert.ok(r.cpuSeconds! > 0 && r.memoryMb! > 0 && r.cost! > 0, r.id);
      assert.ok(r.group && r.environment && r.tool && r.owner, r.id);
      if (r.status === "failed") assert.ok(r.error, `${r.id} has an error`);
      else assert.ok(r.rows! > 0, r.id);
    }
    const failed = runs.filter((r) => r.status === "failed").length;
    assert.ok(failed / runs.length < 0.01, `${failed} of ${runs.length} runs failed`);
  });

  test("all schedules are valid 5-field crons and runs fall on their slots", () => {
    // November crosses the end of daylight saving time, April its start (Europe, Mar 29).
    for (const until of [UNTIL, new Date("2026-04-15T00:00:00Z")]) {
      const f = until === UNTIL ? fleet : generateDemoFleet({ until });
      const start = until.getTime() - 30 * DAY;
      const end = until.getTime() + 6 * HOUR;
      const fRuns = f.events.filter((e): e is RunEvent => e.type === "run");
      for (const s of f.schedules) {
        assert.equal(s.cron.trim().split(/\s+/).length, 5, s.cron);
        CronExpressionParser.parse(s.cron, { tz: s.timezone });
        assert.ok(s.graceSeconds >= 1800 && s.graceSeconds <= 3600, `${s.job} grace`);
        const expected = new Set(slots(s.cron, s.timezone, start, end));
        const jobRuns = fRuns.filter((r) => r.job === s.job && r.namespace === s.namespace);
        assert.ok(jobRuns.length > 0, s.job);
        for (const r of jobRuns) assert.ok(expected.has(r.scheduledFor!.getTime()), `${r.id} off its cron`);
        // Every slot of the full days has its run.
        const fullDays = [...expected].filter((t) => t < until.getTime());
        const inFullDays = jobRuns.filter((r) => r.scheduledFor!.getTime() < until.getTime());
        assert.equal(inFullDays.length, fullDays.length, s.job);
      }
    }
    const zones = new Set(fleet.schedules.map((s) => s.timezone));
    assert.ok(zones.has("UTC") && zones.has("Europe/Berlin") && zones.has("America/New_York"));
    assert.ok(
      fleet.schedules.some((s) => s.cron.split(" ")[1] === "*"),
      "some jobs run hourly",
    );
  });

  test("within a group jobs run in dependency order", () => {
    let checked = 0;
    for (const j of fleet.jobs.filter((x) => x.after)) {
      const ups = new Map(runsOf(j.after!).map((r) => [r.scheduledFor!.toISOString().slice(0, 10), r]));
      for (const r of runsOf(j.job)) {
        const up = ups.get(r.scheduledFor!.toISOString().slice(0, 10));
        assert.ok(up?.endedAt, `${r.id} has a finished upstream run`);
        assert.ok(r.startedAt! > up.endedAt, `${r.id} starts after ${up.id} ends`);
        checked++;
      }
    }
    assert.ok(checked > 500);
  });

  test("each run writes its job's output dataset and suppliers deliver daily", () => {
    const byRun = new Map(updates.filter((u) => u.runId).map((u) => [u.runId, u]));
    const stale = story(fleet, "stale_dataset");
    for (const r of runs.filter((x) => x.status === "success")) {
      const u = byRun.get(r.runId);
      const j = fleet.jobs.find((x) => x.job === r.job)!;
      if (j.output.name === stale.subject && offsetOf(r.endedAt!) >= -3) {
        assert.equal(u, undefined);
        continue;
      }
      assert.ok(u, `${r.id} wrote its output`);
      assert.equal(u.dataset, j.output.name);
      assert.equal(u.namespace, j.output.namespace);
      assert.equal(u.rows, r.rows);
      assert.ok(u.schema && u.schema.length >= 3 && u.bytes! > 0);
    }
    for (const u of updates) {
      for (const f of u.schema ?? []) {
        assert.match(f.name, /^[a-z_][a-z0-9_]*$/, `${u.dataset} field ${f.name}`);
        assert.match(
          f.type,
          /^[A-Z0-9_]+(\(\d+(,\d+)?\)|<[A-Z0-9_]+>)?$/,
          `${u.dataset}.${f.name} type ${f.type}`,
        );
      }
    }
    for (const d of fleet.datasets.filter((x) => x.supplier)) {
      assert.match(d.expectedArrival ?? "", /^\d\d:\d\d$/);
      assert.ok(d.timezone && d.maxAgeSeconds);
      const got = updates.filter((u) => u.dataset === d.name && u.supplier === d.supplier);
      assert.ok(got.length >= 29 && got.length <= 31, `${d.name}: ${got.length} deliveries`);
    }
    const withSla = fleet.datasets.filter((d) => d.maxAgeSeconds).length;
    assert.ok(withSla / fleet.datasets.length > 0.6);
  });

  test("tests report daily in prod and qa, mostly passing", () => {
    assert.ok(new Set(tests.map((t) => t.test)).size >= 28);
    assert.deepEqual([...new Set(tests.map((t) => t.environment))].sort(), ["prod", "qa"]);
    const count = (s: string) => tests.filter((t) => t.status === s).length;
    assert.ok(count("pass") / tests.length > 0.95);
    assert.ok(count("warn") >= 5 && count("fail") >= 2 && count("fail") <= 6);
    for (const t of tests) {
      assert.ok(t.value && t.dataset && t.datasetNamespace && t.job && t.jobNamespace, t.id);
      assert.ok(fleet.datasets.some((d) => d.name === t.dataset && d.namespace === t.datasetNamespace));
    }
  });

  test("deploys move artifacts from dev through staging to prod, mostly successfully", () => {
    assert.ok(deploys.length >= 35 && deploys.length <= 50, `${deploys.length} deploys`);
    const kinds = new Set(deploys.map((d) => d.kind));
    for (const k of ["pipeline", "model", "dashboard", "code", "schema"]) assert.ok(kinds.has(k as never), k);
    for (const d of deploys) {
      assert.match(d.version ?? "", /^(v\d+\.\d+\.\d+|[0-9a-f]{7})$/);
      assert.match(d.project ?? "", /^PRJ-(CHECKOUT|GROWTH|FINANCE)$/);
      assert.ok(d.tickets.length > 0 && d.tickets.every((t) => /^DATA-\d{4}$/.test(t)));
    }
    assert.ok(deploys.filter((d) => d.status === "success").length >= deploys.length - 3);
    for (const key of new Set(deploys.map((d) => `${d.artifact}@${d.version}`))) {
      const envs = deploys.filter((d) => `${d.artifact}@${d.version}` === key);
      const order = ["dev", "staging", "prod"];
      const idx = envs.map((d) => order.indexOf(d.environment!));
      assert.deepEqual(idx, [...idx].sort(), `${key} is promoted in order`);
    }
  });

  test("all nine stories are planted with a subject and a UTC day", () => {
    const kinds = fleet.stories.map((s) => s.kind).sort();
    assert.deepEqual(kinds, [
      "cost_spike",
      "duration_anomaly",
      "failed_deploy",
      "flapping",
      "late_start",
      "late_supplier",
      "long_run",
      "schema_change",
      "stale_dataset",
    ]);
    for (const s of fleet.stories) {
      assert.match(s.day, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(s.subject && s.detail.length > 40);
    }
  });

  test("the flapping job alternates success and failure over the last ten days", () => {
    const s = story(fleet, "flapping");
    assert.equal(s.day, dayOf(-1));
    const last = runsOf(s.subject).filter(
      (r) => offsetOf(r.scheduledFor!) >= -10 && offsetOf(r.scheduledFor!) <= -1,
    );
    assert.equal(last.length, 10);
    assert.deepEqual(
      last.map((r) => r.status),
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? "success" : "failed")),
    );
    // "Troublesome pipelines" this week: the flapping job first, a clear runner-up second.
    const failures = new Map<string, number>();
    for (const r of runs) {
      if (r.status === "failed" && offsetOf(r.scheduledFor!) >= -7)
        failures.set(r.job, (failures.get(r.job) ?? 0) + 1);
    }
    const ranked = [...failures.entries()].sort((a, b) => b[1] - a[1]);
    assert.deepEqual(ranked[0], [s.subject, 4]);
    assert.deepEqual(ranked[1], ["ingest_suppliers.load_acme_settlements", 2]);
    // Nothing else failed yesterday.
    const yesterday = runs.filter((r) => r.status === "failed" && offsetOf(r.scheduledFor!) === -1);
    assert.deepEqual(
      yesterday.map((r) => r.job),
      [s.subject],
    );
  });

  test("the late start began 2h15m after its slot yesterday with a normal duration", () => {
    const s = story(fleet, "late_start");
    assert.equal(s.day, dayOf(-1));
    const [r] = successOn(s.subject, -1, -1);
    assert.ok(r);
    const late = r.startedAt!.getTime() - r.scheduledFor!.getTime();
    assert.ok(Math.abs(late - (2 * HOUR + 15 * 60_000)) < 60_000, `${late / 60_000} min late`);
    assert.ok(robustZ(durationMs(r), successOn(s.subject, -15, -2).map(durationMs)) < 3);
    // No other prod job started late yesterday.
    for (const other of runs.filter((x) => x.job !== s.subject && offsetOf(x.scheduledFor!) === -1)) {
      const delay = other.startedAt!.getTime() - other.scheduledFor!.getTime();
      assert.ok(delay < 5 * 60_000, `${other.id} started ${delay / 60_000} min late`);
    }
  });

  test("the long run took at least 3.5 times its 14-day median yesterday after a quiet history", () => {
    for (const kind of ["long_run", "duration_anomaly"] as const) {
      const s = story(fleet, kind);
      assert.equal(s.day, dayOf(-1));
      const [r] = successOn(s.subject, -1, -1);
      assert.ok(r);
      const history = successOn(s.subject, -15, -2).map(durationMs);
      assert.equal(history.length, 14);
      assert.ok(durationMs(r) >= 3.5 * median(history), `${durationMs(r) / median(history)}×`);
      assert.ok(robustZ(durationMs(r), history) >= 3);
      assert.ok(r.startedAt!.getTime() - r.scheduledFor!.getTime() < 5 * 60_000, "it started on time");
    }
  });

  test("the cost spike is about five times the usual cost and cpu", () => {
    const s = story(fleet, "cost_spike");
    assert.equal(s.day, dayOf(-1));
    const [r] = successOn(s.subject, -1, -1);
    assert.ok(r);
    const history = successOn(s.subject, -15, -2);
    for (const m of ["cost", "cpu"]) {
      const ratio = METRICS[m]!(r) / median(history.map(METRICS[m]!));
      assert.ok(ratio >= 4.5 && ratio <= 6, `${m} ${ratio}×`);
    }
  });

  test("the stale dataset has no update in the last three days while its job keeps succeeding", () => {
    const s = story(fleet, "stale_dataset");
    assert.equal(s.day, dayOf(-3));
    const d = fleet.datasets.find((x) => x.name === s.subject && x.namespace === "warehouse");
    assert.equal(d?.maxAgeSeconds, 26 * 3600);
    const mine = updates.filter((u) => u.dataset === s.subject && u.namespace === "warehouse");
    assert.ok(mine.length > 20);
    assert.ok(mine.every((u) => offsetOf(u.updatedAt) < -3));
    assert.ok(mine.some((u) => offsetOf(u.updatedAt) === -4));
    const producer = fleet.jobs.find(
      (j) => j.output.name === s.subject && j.output.namespace === "warehouse",
    )!;
    assert.equal(successOn(producer.job, -3, -1).length, 3);
  });

  test("every other dataset with a freshness SLA is fresh at the end of history", () => {
    const stale = story(fleet, "stale_dataset");
    for (const d of fleet.datasets.filter((x) => x.maxAgeSeconds)) {
      const last = updates.filter((u) => u.dataset === d.name && u.namespace === d.namespace).at(-1);
      assert.ok(last, `${d.name} has updates`);
      for (const at of [UNTIL.getTime(), HORIZON]) {
        const age = (at - last.updatedAt.getTime()) / 1000;
        if (d.name === stale.subject && d.namespace === "warehouse") assert.ok(age > d.maxAgeSeconds!);
        else assert.ok(age <= d.maxAgeSeconds!, `${d.namespace}/${d.name} is ${age / 3600} h old`);
      }
    }
  });

  test("the late supplier arrives about 3.5 hours late on each of the last three days only", () => {
    const s = story(fleet, "late_supplier");
    assert.equal(s.day, dayOf(-1));
    const own = fleet.datasets.filter((d) => d.supplier === s.subject);
    assert.ok(own.length >= 1);
    for (const d of fleet.datasets.filter((x) => x.supplier)) {
      const [h, m] = d.expectedArrival!.split(":");
      const expected = slots(
        `${Number(m)} ${Number(h)} * * *`,
        d.timezone!,
        UNTIL.getTime() - 31 * DAY,
        HORIZON,
      );
      for (const u of updates.filter((x) => x.dataset === d.name && x.supplier === d.supplier)) {
        const due = expected.filter((t) => t <= u.updatedAt.getTime() + 6 * HOUR).at(-1)!;
        const late = (u.updatedAt.getTime() - due) / HOUR;
        const offset = offsetOf(new Date(due));
        if (d.supplier === s.subject && offset >= -3 && offset <= -1) {
          assert.ok(late > 3.3 && late < 3.7, `${u.id} ${late} h late`);
        } else {
          assert.ok(late <= 0, `${u.id} ${late} h late`);
        }
      }
    }
  });

  test("the failed deploy went to prod and was followed by a successful one", () => {
    const s = story(fleet, "failed_deploy");
    const failed = deploys.filter((d) => d.status !== "success" && d.environment === "prod");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.artifact, s.subject);
    assert.equal(failed[0]!.at.toISOString().slice(0, 10), s.day);
    assert.ok(
      deploys.some(
        (d) =>
          d.artifact === s.subject &&
          d.environment === "prod" &&
          d.status === "success" &&
          d.at > failed[0]!.at,
      ),
    );
  });

  test("the schema change happens exactly once, on its day, and nowhere else", () => {
    const s = story(fleet, "schema_change");
    const byDataset = new Map<string, DatasetEvent[]>();
    for (const u of updates) {
      const k = `${u.namespace}/${u.dataset}`;
      byDataset.set(k, [...(byDataset.get(k) ?? []), u]);
    }
    const changes: string[] = [];
    for (const [k, list] of byDataset) {
      for (let i = 1; i < list.length; i++) {
        if (JSON.stringify(list[i]!.schema) !== JSON.stringify(list[i - 1]!.schema)) {
          changes.push(`${k}@${list[i]!.updatedAt.toISOString().slice(0, 10)}`);
        }
      }
    }
    assert.deepEqual(changes, [`warehouse/${s.subject}@${s.day}`]);
    assert.equal(s.day, dayOf(-5));
  });

  test("every job is quiet yesterday on every metric except the planted one", () => {
    const planted = new Set(
      fleet.stories.flatMap((s) =>
        s.kind === "long_run" || s.kind === "duration_anomaly"
          ? [`${s.subject}:duration`]
          : s.kind === "cost_spike"
            ? [`${s.subject}:cpu`, `${s.subject}:cost`]
            : [],
      ),
    );
    let checked = 0;
    for (const j of fleet.jobs) {
      const history = successOn(j.job, -15, -2);
      const yesterday = successOn(j.job, -1, -1);
      for (const [name, pick] of Object.entries(METRICS)) {
        if (planted.has(`${j.job}:${name}`)) continue;
        const h = history.map(pick);
        for (const r of yesterday) {
          const z = robustZ(pick(r), h);
          const sd = sigmas(pick(r), h);
          assert.ok(z < 3, `${j.job} ${name}: robust z ${z.toFixed(2)}`);
          assert.ok(sd < 2, `${j.job} ${name}: ${sd.toFixed(2)} σ`);
          checked++;
        }
      }
    }
    assert.ok(checked > 300, `${checked} checks`);
  });

  test("todayHours sets where the history ends on the until day", () => {
    const none = generateDemoFleet({ until: UNTIL, todayHours: 0 });
    const times = (f: DemoFleet) =>
      f.events.map(
        (e) =>
          (e.type === "run"
            ? e.eventTime
            : e.type === "dataset"
              ? e.updatedAt
              : e.type === "job"
                ? null
                : e.at)!,
      );
    assert.ok(times(none).every((t) => t < UNTIL));
    assert.equal(none.events.filter((e) => e.type === "run" && e.status === "running").length, 0);
    assert.deepEqual(none.stories, fleet.stories);
    const noon = generateDemoFleet({ until: UNTIL, todayHours: 12 });
    assert.ok(times(noon).some((t) => t.getTime() > HORIZON));
    // The days before until do not depend on where today ends.
    const before = (f: DemoFleet) => {
      const t = times(f);
      return f.events.filter((_, k) => t[k]! < UNTIL);
    };
    assert.deepEqual(before(noon), before(none));
    assert.throws(() => generateDemoFleet({ until: UNTIL, todayHours: 25 }), RangeError);
  });

  test("a different until shifts the stories with it", () => {
    const until = new Date("2026-04-15T00:00:00Z");
    const other = generateDemoFleet({ until });
    const s = story(other, "late_start");
    assert.equal(s.day, "2026-04-14");
    const r = other.events.find(
      (e): e is RunEvent =>
        e.type === "run" && e.job === s.subject && offsetOf(e.scheduledFor!, until) === -1,
    )!;
    const late = r.startedAt!.getTime() - r.scheduledFor!.getTime();
    assert.ok(Math.abs(late - (2 * HOUR + 15 * 60_000)) < 60_000);
    assert.equal(story(other, "schema_change").day, "2026-04-10");
  });
});
