// The freshness measure against the demo fleet. Ages and verdicts are computed here from the
// generated dataset events and the declared SLAs (what the demo planted), never from the
// answer: first on what compute() returns, then on the answers' wording.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import freshness from "../../commands/freshness.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import type { DatasetEvent } from "../../src/ingest/events.ts";
import { formatDuration } from "../../src/questions/format.ts";
import { parseQuestion } from "../../src/questions/parse.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { bestCommand } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, DEMO_UNTIL, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const HOUR = 3_600_000;
const fleet = demoFleet();
const updates = fleet.events.filter((e): e is DatasetEvent => e.type === "dataset");
const lastUpdate = (namespace: string, name: string, asOf = DEMO_NOW) =>
  Math.max(
    ...updates
      .filter((u) => u.namespace === namespace && u.dataset === name && u.updatedAt <= asOf)
      .map((u) => u.updatedAt.getTime()),
  );
const stale = fleet.stories.find((s) => s.kind === "stale_dataset")!;
/** The gaps between a dataset's latest 15 updates as of `asOf`, and their median. */
function usualGap(namespace: string, name: string, asOf = DEMO_NOW): number {
  const times = updates
    .filter((u) => u.namespace === namespace && u.dataset === name && u.updatedAt <= asOf)
    .map((u) => u.updatedAt.getTime())
    .sort((a, b) => b - a)
    .slice(0, 15);
  const gaps = times
    .slice(1)
    .map((t, i) => times[i]! - t)
    .sort((a, b) => a - b);
  const m = Math.floor(gaps.length / 2);
  return gaps.length % 2 ? gaps[m]! : (gaps[m - 1]! + gaps[m]!) / 2;
}
const NOW: MeasureWindow = { from: new Date(0), to: DEMO_NOW, label: "now", given: false };

describeEachStore("freshness family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = (text: string, tz = "UTC") => askDemo(commands, store, text, tz);

  it("the demo plants a stale analytics.dim_customers: 92 h old at midnight, SLA 26 h", () => {
    assert.equal(stale.subject, "analytics.dim_customers");
    assert.match(stale.detail, /freshness SLA 26 h, so it is 92\.0 h old at 2026-11-22 00:00 UTC/);
    const ageAtMidnight = DEMO_UNTIL.getTime() - lastUpdate("warehouse", "analytics.dim_customers");
    assert.equal((ageAtMidnight / HOUR).toFixed(1), "92.0");
  });

  it("computes dim_customers stale as of now: its age, its 26 h SLA and who writes it", async () => {
    const d = await freshness.compute(
      demoContext(store),
      { measure: "freshness", subject: { kind: "dataset", name: "analytics.dim_customers" } },
      NOW,
      "verdict",
    );
    assert.equal(d.kind, "dataset");
    if (d.kind !== "dataset") return;
    const v = d.copies[0]!;
    const last = lastUpdate("warehouse", "analytics.dim_customers");
    assert.equal(v.last?.getTime(), last);
    assert.equal(v.ageMs, DEMO_NOW.getTime() - last);
    assert.deepEqual([v.basis, v.limitMs, v.stale], ["sla", 26 * HOUR, true]);
    assert.equal(v.writer, "orders_daily.dim_customers");
    assert.equal(v.writerEnv, "prod");
  });

  it("computes fct_orders' production copy first, and its staging copy by its usual pace when asked in staging", async () => {
    const frame = {
      measure: "freshness",
      subject: { kind: "dataset", name: "analytics.fct_orders" },
    } as const;
    const all = await freshness.compute(demoContext(store), frame, NOW, "verdict");
    assert.ok(all.kind === "dataset");
    const sla = fleet.datasets.find((x) => x.namespace === "warehouse" && x.name === "analytics.fct_orders")!;
    assert.deepEqual(
      all.copies.map((c) => [c.namespace, c.basis, c.limitMs, c.stale]),
      [
        ["warehouse", "sla", sla.maxAgeSeconds! * 1000, false],
        ["warehouse_staging", "usual", usualGap("warehouse_staging", "analytics.fct_orders") * 1.5, false],
      ],
    );
    const staging = await freshness.compute(
      demoContext(store),
      { ...frame, environment: "staging" },
      NOW,
      "verdict",
    );
    assert.ok(staging.kind === "dataset");
    assert.deepEqual(
      staging.copies.map((c) => c.namespace),
      ["warehouse_staging"],
    );
    assert.equal(staging.copies[0]!.usualMs, usualGap("warehouse_staging", "analytics.fct_orders"));
    assert.equal(staging.everywhere.length, 2);
  });

  it("computes a past moment: dim_customers as of the end of 18 Nov", async () => {
    const end = new Date("2026-11-19T00:00:00Z");
    const d = await freshness.compute(
      demoContext(store),
      { measure: "freshness", subject: { kind: "dataset", name: "analytics.dim_customers" } },
      { from: new Date("2026-11-18T00:00:00Z"), to: end, label: "on the 18th", given: true },
      "verdict",
    );
    assert.ok(d.kind === "dataset");
    assert.equal(d.copies[0]!.ageMs, end.getTime() - lastUpdate("warehouse", "analytics.dim_customers", end));
    assert.equal(d.copies[0]!.stale, false);
  });

  it("computes every dataset of the fleet, exactly the ones past their SLA stale", async () => {
    const d = await freshness.compute(
      demoContext(store),
      { measure: "freshness", subject: { kind: "fleet" } },
      NOW,
      "verdict",
    );
    assert.ok(d.kind === "set");
    assert.equal(d.verdicts.length, fleet.datasets.length);
    const expected = fleet.datasets
      .filter((x) => x.maxAgeSeconds)
      .filter((x) => DEMO_NOW.getTime() - lastUpdate(x.namespace, x.name) > x.maxAgeSeconds! * 1000)
      .map((x) => `${x.namespace}/${x.name}`);
    const usualStale = fleet.datasets
      .filter(
        (x) => !x.maxAgeSeconds && updates.some((u) => u.namespace === x.namespace && u.dataset === x.name),
      )
      .filter(
        (x) => DEMO_NOW.getTime() - lastUpdate(x.namespace, x.name) > 1.5 * usualGap(x.namespace, x.name),
      )
      .map((x) => `${x.namespace}/${x.name}`);
    assert.deepEqual(
      d.verdicts.filter((v) => v.stale).map((v) => `${v.namespace}/${v.name}`),
      [...expected, ...usualStale].sort(),
    );
  });

  it("computes the data behind exec_kpis: what it writes and what its group ran before it, in its environment", async () => {
    const d = await freshness.compute(
      demoContext(store),
      { measure: "freshness", subject: { kind: "job", name: "dashboards_refresh.exec_kpis" } },
      NOW,
      "verdict",
    );
    assert.ok(d.kind === "set");
    assert.equal(d.behind?.group, "dashboards_refresh");
    assert.equal(d.behind?.environment, "prod");
    const names = d.verdicts.map((v) => v.name);
    assert.ok(names.includes("bi.exec_kpis_extract"), names.join());
    assert.ok(
      d.verdicts.every((v) => v.writerEnv === "prod"),
      "the staging copy is another environment",
    );
  });

  it("routes freshness phrasings here, not to did-it-run", () => {
    for (const text of [
      "is analytics.fct_orders fresh?",
      "how old is dim_customers?",
      "is the data in the exec_kpis dashboard fresh?",
      "which datasets are stale?",
      "when was analytics.fct_orders last updated?",
      "is analytics.fct_orders up to date?",
      ...commands.find((c) => c.id === "freshness")!.examples,
    ]) {
      const pq = parseQuestion(text, DEMO_NOW, "UTC");
      assert.equal(bestCommand(commands, pq)?.id, "freshness", text);
    }
  });

  it("says analytics.dim_customers is stale, with its age and SLA", async () => {
    const r = await q("is analytics.dim_customers fresh?");
    assert.equal(r.family, "freshness");
    const age = DEMO_NOW.getTime() - lastUpdate("warehouse", "analytics.dim_customers");
    assert.ok(age > 26 * HOUR);
    assert.ok(r.head.startsWith("No — `analytics.dim_customers` is stale"), r.head);
    assert.ok(r.head.includes(`${formatDuration(age)} ago`), r.head);
    assert.ok(r.head.includes(`${formatDuration(age - 26 * HOUR)} past its 26 h SLA`), r.head);
    assert.match(r.out, /Written by: `orders_daily\.dim_customers` \(prod\)/);
  });

  it("answers 'how old' with the age first", async () => {
    const r = await q("how old is dim_customers?");
    assert.equal(r.family, "freshness");
    const age = DEMO_NOW.getTime() - lastUpdate("warehouse", "analytics.dim_customers");
    assert.ok(r.head.startsWith(`\`analytics.dim_customers\` is ${formatDuration(age)} old`), r.head);
    assert.match(r.head, /stale: its SLA is 26 h/);
  });

  it("judges the production copy of analytics.fct_orders fresh and lists the staging copy", async () => {
    const r = await q("is analytics.fct_orders fresh?");
    assert.equal(r.family, "freshness");
    const age = DEMO_NOW.getTime() - lastUpdate("warehouse", "analytics.fct_orders");
    const sla = fleet.datasets.find((d) => d.namespace === "warehouse" && d.name === "analytics.fct_orders")!;
    assert.ok(age < sla.maxAgeSeconds! * 1000);
    assert.ok(r.head.startsWith("Yes — `warehouse/analytics.fct_orders` is fresh"), r.head);
    assert.ok(
      r.head.includes(`${formatDuration(age)} ago (its SLA is ${sla.maxAgeSeconds! / 3600} h)`),
      r.head,
    );
    assert.match(r.out, /`warehouse_staging\/analytics\.fct_orders`/);
  });

  it("filters to the staging copy when asked in staging, judged by its usual pace", async () => {
    const r = await q("is analytics.fct_orders fresh in staging?");
    assert.equal(r.family, "freshness");
    const age = DEMO_NOW.getTime() - lastUpdate("warehouse_staging", "analytics.fct_orders");
    assert.ok(r.head.startsWith("Yes — `warehouse_staging/analytics.fct_orders` is fresh"), r.head);
    assert.ok(r.head.includes(`${formatDuration(age)} ago (it usually updates every 24h 00m)`), r.head);
    assert.match(r.out, /Written by: `orders_daily\.fct_orders_staging` \(staging\)/);
  });

  it("judges a past moment when asked about a day: dim_customers was fresh on 18 Nov", async () => {
    const r = await q("was analytics.dim_customers fresh on 2026-11-18?");
    assert.equal(r.family, "freshness");
    const endOfDay = new Date("2026-11-19T00:00:00Z");
    const age = endOfDay.getTime() - lastUpdate("warehouse", "analytics.dim_customers", endOfDay);
    assert.ok(age < 26 * HOUR);
    assert.ok(r.head.startsWith("Yes — `analytics.dim_customers` is fresh as of Thu 19 Nov 00:00"), r.head);
    assert.ok(r.head.includes(`${formatDuration(age)} ago`), r.head);
  });

  it("lists exactly the datasets past their SLA when asked which are stale", async () => {
    const r = await q("which datasets are stale?");
    assert.equal(r.family, "freshness");
    const expected = fleet.datasets
      .filter((d) => d.maxAgeSeconds)
      .filter((d) => DEMO_NOW.getTime() - lastUpdate(d.namespace, d.name) > d.maxAgeSeconds! * 1000)
      .map((d) => d.name);
    assert.deepEqual(expected, ["analytics.dim_customers"]);
    assert.ok(
      r.head.startsWith(`No — 1 of ${fleet.datasets.length} datasets is stale: \`analytics.dim_customers\``),
      r.head,
    );
  });

  it("judges a dashboard by its own output and what ran before it in its group", async () => {
    const r = await q("is the data in the exec_kpis dashboard fresh?");
    assert.equal(r.family, "freshness");
    assert.match(r.out, /`bi\.exec_kpis_extract`/);
    assert.match(r.out, /jobs of `dashboards_refresh` \(prod\) that ran before it/);
    // exec_kpis_staging writes the staging copy: it is another environment, so not behind it.
    assert.doesNotMatch(r.out, /exec_kpis_staging/);
  });

  it("finds the stale dim_customers behind fct_orders, upstream in orders_daily", async () => {
    const r = await q("is the data in orders_daily.fct_orders fresh?");
    assert.equal(r.family, "freshness");
    assert.match(
      r.head,
      /^No — 1 of \d+ datasets behind `orders_daily\.fct_orders` is stale: `analytics\.dim_customers`/,
    );
  });

  it("answers 'when was it last updated' rather than did-it-run", async () => {
    const r = await q("when was analytics.fct_orders last updated?");
    assert.equal(r.family, "freshness");
    const last = new Date(lastUpdate("warehouse", "analytics.fct_orders"));
    assert.ok(r.out.includes(`Last update: Sun 22 Nov ${last.toISOString().slice(11, 16)} (UTC)`), r.out);
  });

  it("shows times in the asker's time zone", async () => {
    const r = await q("is analytics.dim_customers fresh?", "America/New_York");
    const last = new Date(lastUpdate("warehouse", "analytics.dim_customers"));
    const local = new Intl.DateTimeFormat("en-GB", {
      timeZone: "America/New_York",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(last);
    assert.ok(r.out.includes(`Last update: Tue 17 Nov ${local} (America/New_York)`), r.out);
  });

  it("suggests the right dataset for a misspelt name", async () => {
    const r = await q("is analytics.dim_customer fresh?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `analytics\.dim_customers`/);
  });
});
