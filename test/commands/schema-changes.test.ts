// The schema-changes family: the demo's one production schema change (analytics.fct_orders
// gained a column), the environment rule, and a small store of hand-made updates that checks
// the rule where no run says the environment. What compute() returns is checked against
// the changes derived here from the fleet's (or the test's own) dataset events.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import schemaMeasure, { type SchemaChangesAsk } from "../../commands/schema-changes.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import { ts } from "../../src/db/sql.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import type { DatasetEvent } from "../../src/ingest/events.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const fleet = demoFleet();
const story = fleet.stories.find((s) => s.kind === "schema_change")!;
const asked = (over: Partial<SchemaChangesAsk> = {}): SchemaChangesAsk => ({
  allEnvironments: false,
  kinds: [],
  kindWords: "",
  yesNo: false,
  rate: true,
  ...over,
});
const last30 = (now: Date): MeasureWindow => ({
  from: new Date(now.getTime() - 30 * DAY),
  to: now,
  label: "the last 30 days",
  given: false,
});
/** Each update whose columns differ from the previous update's of the same dataset, with the columns added. */
function changesIn(events: DatasetEvent[], from: Date, to: Date) {
  const out: { namespace: string; name: string; at: number; added: string[] }[] = [];
  const prev = new Map<string, DatasetEvent>();
  for (const e of [...events].sort((a, b) => +a.updatedAt - +b.updatedAt)) {
    if (!e.schema) continue;
    const key = `${e.namespace}/${e.dataset}`;
    const p = prev.get(key);
    prev.set(key, e);
    if (!p?.schema || JSON.stringify(p.schema) === JSON.stringify(e.schema)) continue;
    if (e.updatedAt < from || e.updatedAt >= to) continue;
    const old = new Set(p.schema.map((f) => f.name));
    out.push({
      namespace: e.namespace,
      name: e.dataset,
      at: e.updatedAt.getTime(),
      added: e.schema.filter((f) => !old.has(f.name)).map((f) => `${f.name} ${f.type}`),
    });
  }
  return out.sort((a, b) => b.at - a.at);
}

describeEachStore("schema-changes family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = (text: string, tz = "UTC") => askDemo(commands, store, text, tz);

  it("the demo plants exactly one schema change, in production", async () => {
    assert.equal(story.subject, "analytics.fct_orders");
    assert.equal(story.day, "2026-11-17");
    const rows = await store.query<{ namespace: string; n: number }>(
      sql`SELECT d.namespace, count(*)::int AS n FROM dataset_updates u JOIN datasets d ON d.id = u.dataset_id
          WHERE u.schema_changed AND u.updated_at >= ${ts(new Date(DEMO_NOW.getTime() - 30 * DAY))}
          GROUP BY 1`,
    );
    assert.deepEqual(rows, [{ namespace: "warehouse", n: 1 }]);
  });

  it("computes the schema changes of the last 30 days in production: the columns added, by which job", async () => {
    const d = await schemaMeasure.compute(
      demoContext(store),
      { measure: "schema_changes", subject: { kind: "fleet" } },
      last30(DEMO_NOW),
      asked(),
    );
    const events = fleet.events.filter((e): e is DatasetEvent => e.type === "dataset");
    const want = changesIn(events, new Date(DEMO_NOW.getTime() - 30 * DAY), DEMO_NOW);
    assert.equal(d.environment, "prod");
    assert.deepEqual(
      d.changes.map((c) => ({
        namespace: c.namespace,
        name: c.name,
        at: c.at.getTime(),
        added: c.diff.added.map((f) => `${f.name} ${f.type}`),
      })),
      want,
    );
    assert.deepEqual(
      d.changes.map((c) => [c.job, c.diff.removed.length, c.diff.retyped.length]),
      [["orders_daily.fct_orders", 0, 0]],
    );
    assert.equal(d.elsewhere, 0);
    assert.equal(d.days, 30);
  });

  it("says how often the production schema changes: once in 30 days, with the column added", async () => {
    const r = await q("how often does the production schema change?");
    assert.equal(r.family, "schema-changes");
    assert.ok(r.head.startsWith("The production schema changed once in the last 30 days in 1 table"), r.head);
    assert.ok(r.head.includes(`${(1 / (30 / 7)).toFixed(1)} a week`), r.head);
    assert.ok(r.head.includes("`analytics.fct_orders` on Tue 17 Nov"), r.head);
    assert.match(r.out, /added discount_amount DECIMAL\(12,2\)/);
    assert.match(r.out, /by `orders_daily\.fct_orders`/);
    assert.match(r.out, /Production means/);
  });

  it("lists which tables changed schema", async () => {
    const r = await q("which tables changed schema in the last 30 days?");
    assert.equal(r.family, "schema-changes");
    assert.match(r.out, /`analytics\.fct_orders` \(warehouse\)/);
  });

  it("answers yes or no for one dataset in a window", async () => {
    const yes = await q("did the schema of analytics.fct_orders change this week?");
    assert.equal(yes.family, "schema-changes");
    assert.match(
      yes.head,
      /^Yes — the schema of `analytics\.fct_orders` in production changed once this week/,
    );
    const no = await q("did the schema of fct_orders change yesterday?");
    assert.equal(no.family, "schema-changes");
    assert.match(
      no.head,
      /^No — the schema of `analytics\.fct_orders` in production did not change yesterday/,
    );
  });

  it("filters by environment and says what it left out", async () => {
    const r = await q("were columns added or removed in staging this month?");
    assert.equal(r.family, "schema-changes");
    assert.match(r.head, /^No — the staging schema did not change this month/);
    assert.match(r.out, /Not counted: 1 change in other environments/);
    const all = await q("how often does the schema change in all environments?");
    assert.match(all.head, /^Schemas in all environments changed once/);
  });

  it("suggests the dataset meant for a misspelt name", async () => {
    const r = await q("did the schema of analytics.fct_orderz change?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `analytics\.fct_orders`/);
  });

  it("leaves schema deploys to the deploys family", async () => {
    assert.equal((await q("how many schema deploys in the last 30 days?")).family, "deploys");
  });

  it("its examples all work against the demo", async () => {
    const own = commands.find((c) => c.id === "schema-changes")!;
    for (const e of own.examples) assert.equal((await q(e)).family, "schema-changes", e);
  });
});

describeEachStore("schema-changes environment rule", (kind) => {
  let store: TestStore;
  let commands: Command[];
  const now = new Date("2026-03-10T12:00:00Z");
  before(async () => {
    store = await openTestStore(kind);
    commands = await loadCommands();
    // No producing run on any of these: only the namespace can tell the environment.
    const update = (namespace: string, dataset: string, day: string, cols: string[]): DatasetEvent => ({
      type: "dataset",
      namespace,
      dataset,
      updatedAt: new Date(`2026-03-${day}T06:00:00Z`),
      rows: 10,
      schema: cols.map((name) => ({ name, type: "VARCHAR" })),
    });
    await new Ingestor(store).apply([
      update("snowflake://acme/dev_db", "public.orders", "01", ["id"]),
      update("snowflake://acme/dev_db", "public.orders", "02", ["id", "note"]),
      update("s3://landing", "vendor/orders", "03", ["id"]),
      update("s3://landing", "vendor/orders", "04", ["id", "amount"]),
      update("s3://landing", "vendor/orders", "05", ["amount"]),
    ]);
  });
  after(() => store.dispose());

  const q = async (text: string) => {
    const r = await ask(commands, { store, now, timezone: "UTC" }, text);
    return { family: r.family, out: answerBody(r.answer), head: answerBody(r.answer).split("\n")[0]! };
  };

  it("computes each change's environment from its namespace, and keeps only the kinds of change asked", async () => {
    const frame = { measure: "schema_changes", subject: { kind: "fleet" } } as const;
    const all = await schemaMeasure.compute(
      { store, now, timezone: "UTC" },
      frame,
      last30(now),
      asked({ allEnvironments: true }),
    );
    assert.equal(all.environment, undefined);
    assert.deepEqual(
      all.changes.map((c) => [c.name, c.at.toISOString().slice(0, 10), c.environment]),
      [
        ["vendor/orders", "2026-03-05", "prod"],
        ["vendor/orders", "2026-03-04", "prod"],
        ["public.orders", "2026-03-02", "dev"],
      ],
    );
    const removed = await schemaMeasure.compute(
      { store, now, timezone: "UTC" },
      frame,
      last30(now),
      asked({ kinds: ["removed"], kindWords: "dropped" }),
    );
    assert.deepEqual(
      removed.changes.map((c) => [c.name, c.diff.removed.map((f) => f.name)]),
      [["vendor/orders", ["id"]]],
    );
    assert.equal(removed.noneOfKinds, false);
    assert.equal(removed.elsewhere, 1, "the dev change is not production's");
    const retyped = await schemaMeasure.compute(
      { store, now, timezone: "UTC" },
      frame,
      last30(now),
      asked({ kinds: ["retyped"], kindWords: "retyped" }),
    );
    assert.equal(retyped.noneOfKinds, true);
    assert.equal(retyped.changes.length, 2, "the production changes that were made instead");
  });

  it("counts a namespace that names no environment as production", async () => {
    const r = await q("how often does the production schema change?");
    assert.ok(
      r.head.startsWith("The production schema changed twice in the last 30 days in 1 table"),
      r.head,
    );
    assert.match(r.out, /added amount VARCHAR/);
    assert.match(r.out, /removed id/);
    assert.match(r.out, /Not counted: 1 change in other environments/);
  });

  it("reads dev from a namespace like snowflake://acme/dev_db", async () => {
    const r = await q("did the schema change in dev in the last 30 days?");
    assert.equal(r.family, "schema-changes");
    assert.match(r.head, /^Yes — the dev schema changed once/);
    assert.match(r.out, /`public\.orders` \(snowflake:\/\/acme\/dev_db\).*added note VARCHAR/);
  });
});
