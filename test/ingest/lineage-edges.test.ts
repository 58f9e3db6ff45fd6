import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { sql } from "drizzle-orm";
import { downstream, upstream } from "../../src/db/queries/lineage.ts";
import { syncConfigDatasets } from "../../src/db/schedules.ts";
import { parseHoustonFile } from "../../src/houston-yml.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import { lineageName, parseDatasetRef } from "../../src/ingest/dataset-names.ts";
import type { DatasetEvent, HoustonEvent, RunEvent } from "../../src/ingest/events.ts";
import { validateNativeEvent } from "../../src/ingest/native.ts";
import { mapLineageEvent } from "../../src/ingest/openlineage.ts";
import { FIXTURES_DIR, openLineageFixtures } from "../helpers/fixtures.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const fixtures = openLineageFixtures();
const skip = fixtures
  ? false
  : `shared fixtures are absent (${FIXTURES_DIR}); see ../shared/fixtures/README.md`;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The edges an OpenLineage event declares, read from its JSON (not through the mapper): a
 * RunEvent's inputs on START, RUNNING and COMPLETE are reads, its outputs on COMPLETE
 * writes; a JobEvent's inputs and outputs are reads and writes; a DatasetEvent has none.
 */
function declaredEdges(event: unknown): string[] {
  if (!isObj(event) || !isObj(event["job"])) return [];
  const job = event["job"];
  const who = `${String(job["namespace"])}/${String(job["name"])}`;
  const type = typeof event["eventType"] === "string" ? event["eventType"].toUpperCase() : "OTHER";
  const isRun = isObj(event["run"]);
  const list = (key: string) =>
    (Array.isArray(event[key]) ? (event[key] as Obj[]) : []).map((d) =>
      lineageName({ namespace: String(d["namespace"]), name: String(d["name"]) }),
    );
  const reads = !isRun || ["START", "RUNNING", "COMPLETE"].includes(type) ? list("inputs") : [];
  const writes = !isRun || type === "COMPLETE" ? list("outputs") : [];
  return [...reads.map((d) => `${who} read ${d}`), ...writes.map((d) => `${who} write ${d}`)];
}

async function edges(store: TestStore): Promise<string[]> {
  const rows = await store.query<{ e: string }>(
    sql`SELECT j.namespace || '/' || j.name || ' ' || e.direction || ' ' || e.dataset AS e
        FROM lineage_edges e JOIN jobs j ON j.id = e.job_id ORDER BY 1`,
  );
  return rows.map((r) => r.e);
}

interface Seen {
  first: string;
  last: string;
}

async function seen(store: TestStore, dataset: string): Promise<Seen[]> {
  return store.query<Seen>(
    sql`SELECT to_char(first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS first,
          to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS last
        FROM lineage_edges WHERE dataset = ${dataset}`,
  );
}

/** "HH:MM" on 2026-11-21, or "DD HH:MM" on that day of November 2026. */
const at = (t: string) =>
  new Date(t.length > 5 ? `2026-11-${t.slice(0, 2)}T${t.slice(3)}:00Z` : `2026-11-21T${t}:00Z`);
function run(
  job: string,
  runId: string,
  time: string,
  io: { inputs?: string[]; outputs?: string[] } = {},
): RunEvent {
  const e: RunEvent = {
    type: "run",
    namespace: "default",
    job,
    runId,
    status: "success",
    endedAt: at(time),
    eventTime: at(time),
  };
  if (io.inputs) e.inputs = io.inputs.map(parseDatasetRef);
  if (io.outputs) e.outputs = io.outputs.map(parseDatasetRef);
  return e;
}
const dataset = (name: string, time: string, runId?: string): DatasetEvent => ({
  type: "dataset",
  namespace: "default",
  dataset: name,
  updatedAt: at(time),
  ...(runId ? { runId } : {}),
});

describeEachStore("lineage edges from ingest", (kind) => {
  let store: TestStore;
  let ingestor: Ingestor;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());
  beforeEach(async () => {
    await store.reset();
    ingestor = new Ingestor(store);
  });

  it("stores exactly the edges each shared OpenLineage fixture declares", { skip }, async () => {
    let total = 0;
    for (const f of fixtures!) {
      await store.reset();
      const ing = new Ingestor(store);
      const want = new Set<string>();
      for (const [i, raw] of f.events.entries()) {
        const mapped = mapLineageEvent(raw, i);
        assert.ok(mapped.ok, `${f.file} event ${i} maps`);
        await ing.apply(mapped.events);
        for (const e of declaredEdges(raw)) want.add(e);
      }
      assert.deepEqual(await edges(store), [...want].sort(), f.file);
      total += want.size;
    }
    assert.ok(total > 100, `the fixtures declare edges (${total})`);
  });

  it(
    "names a dbt model's edges by schema.table and keeps a JobEvent's declared reads and writes",
    { skip },
    async () => {
      const dbt = fixtures!.find((f) => f.file.endsWith("successful_run_ol_events.json"))!;
      const jobEvent = fixtures!.find((f) => f.file.endsWith("event_job_event.json"))!;
      for (const raw of [...dbt.events, ...jobEvent.events]) {
        const mapped = mapLineageEvent(raw, 0);
        assert.ok(mapped.ok);
        await ingestor.apply(mapped.events);
      }
      const all = await edges(store);
      assert.ok(all.includes("dbt-test-namespace/model.jaffle_shop.stg_customers read public.raw_customers"));
      assert.ok(
        all.includes("dbt-test-namespace/model.jaffle_shop.stg_customers write public.stg_customers"),
      );
      assert.ok(
        all.includes("my-scheduler-namespace/myjob read my-datasource-namespace/instance.schema.input-1"),
      );
      assert.ok(
        all.includes("my-scheduler-namespace/myjob write my-datasource-namespace/instance.schema.output-1"),
      );
    },
  );

  it("records a FAIL's inputs and outputs as nothing, and a START's outputs as nothing until COMPLETE", async () => {
    const ev = (eventType: string, time: string) => ({
      eventType,
      eventTime: at(time).toISOString(),
      run: { runId: "0b7c7a4e-0000-4000-8000-000000000001" },
      job: { namespace: "airflow", name: "etl.load" },
      inputs: [{ namespace: "postgres://db:5432", name: "shop.raw.orders" }],
      outputs: [{ namespace: "postgres://db:5432", name: "shop.analytics.orders" }],
    });
    const apply = async (raw: unknown) => {
      const m = mapLineageEvent(raw, 0);
      assert.ok(m.ok);
      await ingestor.apply(m.events);
    };
    await apply({ ...ev("FAIL", "01:00") });
    assert.deepEqual(await edges(store), []);
    await apply(ev("START", "02:00"));
    assert.deepEqual(await edges(store), ["airflow/etl.load read raw.orders"]);
    // A long run: its COMPLETE is over a day after the START, so the read's last seen moves.
    await apply(ev("COMPLETE", "22 04:30"));
    assert.deepEqual(await edges(store), [
      "airflow/etl.load read raw.orders",
      "airflow/etl.load write analytics.orders",
    ]);
    assert.deepEqual(await seen(store, "raw.orders"), [
      { first: "2026-11-21T02:00Z", last: "2026-11-22T04:30Z" },
    ]);
  });

  it("stores native inputs and outputs by their lineage names", async () => {
    const v = validateNativeEvent(
      {
        type: "run",
        job: "nightly_orders",
        status: "success",
        ended_at: "2026-11-21T02:00:00Z",
        inputs: ["raw.Orders", "s3://landing/acme/orders.csv", "postgres://db:5432/shop.raw.payments"],
        outputs: ["warehouse/analytics.fct_orders"],
      },
      0,
    );
    assert.ok(v.ok);
    await ingestor.apply([v.event]);
    assert.deepEqual(await edges(store), [
      "default/nightly_orders read raw.orders",
      "default/nightly_orders read raw.payments",
      "default/nightly_orders read s3://landing/acme/orders.csv",
      "default/nightly_orders write warehouse/analytics.fct_orders",
    ]);
  });

  it("makes a dataset event's run_id a write of that run's job, whichever arrives first", async () => {
    // The run first, then its dataset event (another request).
    await ingestor.apply([run("load_a", "run-a", "01:00")]);
    await ingestor.apply([dataset("staging.a", "01:05", "run-a")]);
    // The dataset event first: its claim waits for the run, which makes the edge.
    await ingestor.apply([dataset("staging.b", "02:05", "run-b")]);
    assert.deepEqual(await edges(store), ["default/load_a write staging.a"]);
    const [pending] = await store.query<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM lineage_pending_writes`,
    );
    assert.equal(pending!.n, 1);
    await ingestor.apply([run("load_b", "run-b", "02:00")]);
    // Both in one request.
    await ingestor.apply([dataset("staging.c", "03:05", "run-c"), run("load_c", "run-c", "03:00")]);
    assert.deepEqual(await edges(store), [
      "default/load_a write staging.a",
      "default/load_b write staging.b",
      "default/load_c write staging.c",
    ]);
    const [left] = await store.query<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM lineage_pending_writes`,
    );
    assert.equal(left!.n, 0);
    assert.deepEqual(await seen(store, "staging.b"), [
      { first: "2026-11-21T02:05Z", last: "2026-11-21T02:05Z" },
    ]);
  });

  it("names no writer for a run_id that runs of two jobs share", async () => {
    await ingestor.apply([run("one", "shared-1", "01:00"), run("two", "shared-1", "01:00")]);
    await ingestor.apply([dataset("staging.x", "01:05", "shared-1")]);
    assert.deepEqual(await edges(store), []);
  });

  it("widens first and last seen to the events' times, in any order of arrival", async () => {
    const io = { inputs: ["raw.orders"] };
    await ingestor.apply([run("etl", "r2", "12 12:00", io)]);
    await ingestor.apply([run("etl", "r1", "06 12:00", io)]);
    await ingestor.apply([run("etl", "r3", "18 12:00", io)]);
    // Inside the known range: nothing changes.
    await ingestor.apply([run("etl", "r4", "09 12:00", io)]);
    assert.deepEqual(await seen(store, "raw.orders"), [
      { first: "2026-11-06T12:00Z", last: "2026-11-18T12:00Z" },
    ]);
    // Two runs of one job in one request: one edge, both times.
    await ingestor.apply([run("etl", "r5", "20 12:00", io), run("etl", "r0", "05 12:00", io)]);
    assert.deepEqual(await seen(store, "raw.orders"), [
      { first: "2026-11-05T12:00Z", last: "2026-11-20T12:00Z" },
    ]);
  });

  it("keeps first and last seen to the day: an event less than a day outside leaves the edge as it is", async () => {
    const io = { inputs: ["raw.orders"] };
    const expect = async (first: string, last: string) =>
      assert.deepEqual(await seen(store, "raw.orders"), [
        { first: `2026-11-${first.replace(" ", "T")}Z`, last: `2026-11-${last.replace(" ", "T")}Z` },
      ]);
    await ingestor.apply([run("etl", "a", "10 10:00", io)]);
    await ingestor.apply([run("etl", "b", "11 09:59", io), run("etl", "c", "09 10:01", io)]);
    await expect("10 10:00", "10 10:00");
    await ingestor.apply([run("etl", "d", "11 10:01", io)]);
    await expect("10 10:00", "11 10:01");
    // Another process, which has not seen the edge, records what it sees exactly; then it
    // too leaves the edge alone for events within a day of what it knows.
    const other = new Ingestor(store);
    await other.apply([run("etl", "e", "12 09:30", io)]);
    await expect("10 10:00", "12 09:30");
    await other.apply([run("etl", "f", "11 10:00", io), run("etl", "g", "13 09:00", io)]);
    await expect("10 10:00", "12 09:30");
    await other.apply([run("etl", "h", "09 09:00", io)]);
    await expect("09 09:00", "12 09:30");
    const [queue] = await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM lineage_sightings`);
    assert.equal(queue!.n, 0, "every sighting folded");
  });

  it("joins a dbt table and a native name by the rule, and a named namespace by houston.yml's alias", async () => {
    const complete = mapLineageEvent(
      {
        eventType: "COMPLETE",
        eventTime: "2026-11-21T03:00:00Z",
        run: { runId: "0b7c7a4e-0000-4000-8000-000000000002" },
        job: { namespace: "dbt", name: "model.shop.fct_orders" },
        inputs: [{ namespace: "postgres://db:5432", name: "shop.staging.stg_orders" }],
        outputs: [{ namespace: "postgres://db:5432", name: "shop.analytics.fct_orders" }],
      },
      0,
    );
    assert.ok(complete.ok);
    const events: HoustonEvent[] = [
      ...complete.events,
      run("exec_kpis", "k1", "04:00", {
        inputs: ["analytics.fct_orders"],
        outputs: ["warehouse/reports.kpis"],
      }),
      run("board_pack", "p1", "05:00", { inputs: ["reports.kpis"] }),
    ];
    await ingestor.apply(events);
    // The rule: dbt's postgres://db:5432 + shop.analytics.fct_orders is analytics.fct_orders.
    const down = await downstream(store, { dataset: "analytics.fct_orders" });
    assert.deepEqual(
      down.nodes.map((n) => `${n.depth} ${n.kind} ${n.name}`),
      ["1 job exec_kpis", "2 dataset warehouse/reports.kpis"],
    );
    const up = await upstream(store, {
      dataset: { namespace: "postgres://db:5432", name: "shop.analytics.fct_orders" },
    });
    assert.deepEqual(
      up.nodes.map((n) => `${n.depth} ${n.kind} ${n.name}`),
      ["1 job model.shop.fct_orders", "2 dataset staging.stg_orders"],
    );
    // warehouse/reports.kpis and reports.kpis differ until an alias says they are one.
    assert.equal((await downstream(store, { dataset: "analytics.fct_orders" })).nodes.length, 2);
    const file = parseHoustonFile(
      `datasets:\n  - name: reports.kpis\n    aliases: [warehouse/reports.kpis]\n`,
      "houston.yml",
      "UTC",
    );
    await syncConfigDatasets(store, file.datasets);
    const joined = await downstream(store, { dataset: "analytics.fct_orders" });
    assert.deepEqual(
      joined.nodes.map((n) => `${n.depth} ${n.kind} ${n.name} via ${n.via}`),
      [
        "1 job exec_kpis via analytics.fct_orders",
        "2 dataset reports.kpis via exec_kpis",
        "3 job board_pack via reports.kpis",
      ],
    );
    // Asked by the alias, the walk starts from the dataset it stands for.
    const byAlias = await upstream(store, { dataset: "warehouse/reports.kpis" });
    assert.deepEqual(byAlias.start, { kind: "dataset", name: "reports.kpis" });
    assert.equal(byAlias.nodes[0]!.name, "exec_kpis");
    // Removed from the file, the alias stops joining.
    await syncConfigDatasets(store, []);
    assert.equal((await downstream(store, { dataset: "analytics.fct_orders" })).nodes.length, 2);
  });
});
