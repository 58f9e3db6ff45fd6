// The arrivals measure against the demo fleet. Late deliveries and delays are computed here
// from the generated supplier deliveries and declared expected times, never from the answer:
// first on what compute() returns, then on the answers' wording.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { TZDate } from "@date-fns/tz";
import arrivals from "../../commands/arrivals.ts";
import type { DatasetEvent } from "../../src/ingest/events.ts";
import { formatDuration } from "../../src/questions/format.ts";
import { parseQuestion } from "../../src/questions/parse.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { bestCommand } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const MIN = 60_000;
const DAY = 86_400_000;
const fleet = demoFleet();
const feeds = fleet.datasets.filter((d) => d.expectedArrival);
const deliveries = fleet.events.filter((e): e is DatasetEvent => e.type === "dataset" && !!e.supplier);

interface Expected {
  feed: string;
  supplier: string;
  expected: Date;
  arrived?: Date;
  late: boolean;
}

/** Each feed's expected times in [from, to), with the day's delivery (30 min grace). */
function expectedDeliveries(from: Date, to: Date): Expected[] {
  const out: Expected[] = [];
  for (const f of feeds) {
    const [h, m] = f.expectedArrival!.split(":").map(Number) as [number, number];
    for (let d = from.getTime() - DAY; d < to.getTime() + DAY; d += DAY) {
      const day = new Date(d);
      const e = new TZDate(
        day.getUTCFullYear(),
        day.getUTCMonth(),
        day.getUTCDate(),
        h,
        m,
        f.timezone ?? "UTC",
      );
      if (e.getTime() < from.getTime() || e.getTime() >= to.getTime()) continue;
      if (e.getTime() + 30 * MIN > DEMO_NOW.getTime()) continue; // not due yet
      const arrived = deliveries
        .filter((u) => u.dataset === f.name && Math.abs(u.updatedAt.getTime() - e.getTime()) < 12 * 3_600_000)
        .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())[0]?.updatedAt;
      out.push({
        feed: f.name,
        supplier: f.supplier!,
        expected: new Date(e.getTime()),
        ...(arrived ? { arrived } : {}),
        late: !arrived || arrived.getTime() > e.getTime() + 30 * MIN,
      });
    }
  }
  return out;
}

describeEachStore("arrivals family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = (text: string, tz = "UTC") => askDemo(commands, store, text, tz);
  const last7 = expectedDeliveries(new Date(DEMO_NOW.getTime() - 7 * DAY), DEMO_NOW);

  it("the demo plants shipfast_logistics ~3.5 h late on each of the last 3 days", () => {
    const story = fleet.stories.find((s) => s.kind === "late_supplier")!;
    assert.equal(story.subject, "shipfast_logistics");
    assert.match(story.detail, /2026-11-19\.\.2026-11-21/);
    const late = last7.filter((d) => d.late);
    assert.equal(late.length, 6);
    assert.ok(late.every((d) => d.supplier === "shipfast_logistics"));
    for (const d of late) {
      const delay = d.arrived!.getTime() - d.expected.getTime();
      assert.ok(Math.abs(delay - 3.5 * 3_600_000) < 10 * MIN);
    }
  });

  it("computes every delivery due in the last 7 days: when each was expected, when it landed, which were late", async () => {
    const d = await arrivals.compute(
      demoContext(store),
      { measure: "arrivals", subject: { kind: "fleet" } },
      { from: new Date(DEMO_NOW.getTime() - 7 * DAY), to: DEMO_NOW, label: "the last 7 days", given: false },
      { rank: false, yesNo: true },
    );
    assert.equal(d.feeds, feeds.length);
    const key = (feed: string, expected: Date) => `${feed}@${expected.toISOString()}`;
    assert.deepEqual(
      new Map(
        d.deliveries
          .filter((x) => x.outcome !== "pending")
          .map((x) => [key(x.feed.name, x.expected), [x.arrived?.getTime(), x.outcome !== "on_time"]]),
      ),
      new Map(last7.map((x) => [key(x.feed, x.expected), [x.arrived?.getTime(), x.late]])),
    );
    const worst = d.suppliers[0]!;
    assert.equal(worst.supplier, "shipfast_logistics");
    assert.equal(worst.late, last7.filter((x) => x.late && x.supplier === "shipfast_logistics").length);
    assert.equal(d.before, undefined, "deliveries were due: no look at the days before");
  });

  it("computes today's shipfast delivery as not due yet, and the 7 days before it", async () => {
    const today = new Date("2026-11-22T00:00:00Z");
    const d = await arrivals.compute(
      demoContext(store),
      { measure: "arrivals", subject: { kind: "supplier", name: "shipfast_logistics" } },
      { from: today, to: DEMO_NOW, label: "today", given: true, end: new Date(today.getTime() + DAY) },
      { rank: false, yesNo: true },
    );
    const mine = feeds.filter((f) => f.supplier === "shipfast_logistics");
    assert.equal(d.deliveries.length, mine.length);
    assert.ok(d.deliveries.every((x) => x.outcome === "pending" && x.expected > DEMO_NOW));
    const before = expectedDeliveries(new Date(today.getTime() - 7 * DAY), today).filter(
      (x) => x.supplier === "shipfast_logistics",
    );
    assert.deepEqual(
      d.before!.map((x) => [x.feed.name, x.expected.getTime(), x.outcome !== "on_time"]).sort(),
      before.map((x) => [x.feed, x.expected.getTime(), x.late]).sort(),
    );
  });

  it("routes delivery and supplier phrasings here, over all loaded commands", () => {
    for (const text of [
      "did my source files arrive on time?",
      "did shipfast_logistics deliver on time today?",
      "which data supplier is troublesome?",
      "late deliveries this week",
      "has acme_payments delivered today?",
      ...commands.find((c) => c.id === "arrivals")!.examples,
    ]) {
      const pq = parseQuestion(text, DEMO_NOW, "UTC");
      assert.equal(bestCommand(commands, pq)?.id, "arrivals", text);
    }
  });

  it("says No to 'did my source files arrive on time', counting shipfast's late deliveries", async () => {
    const r = await q("did my source files arrive on time?");
    assert.equal(r.family, "arrivals");
    const late = last7.filter((d) => d.late);
    const worst = Math.max(...late.map((d) => d.arrived!.getTime() - d.expected.getTime()));
    assert.equal(
      r.head,
      `No — of ${last7.length} deliveries from 4 suppliers in the last 7 days, ${late.length} late (up to ${formatDuration(worst)}), all from \`shipfast_logistics\`.`,
    );
  });

  it("lists yesterday's two late shipfast deliveries with how late each was", async () => {
    const r = await q("did shipfast_logistics deliver on time yesterday?");
    assert.equal(r.family, "arrivals");
    const y = expectedDeliveries(new Date("2026-11-21T00:00:00Z"), new Date("2026-11-22T00:00:00Z")).filter(
      (d) => d.supplier === "shipfast_logistics",
    );
    assert.equal(y.length, 2);
    assert.match(r.head, /^No — of 2 deliveries from `shipfast_logistics` yesterday \(Sat 21 Nov\), 2 late/);
    for (const d of y) {
      const hhmm = d.arrived!.toISOString().slice(11, 16);
      const delay = formatDuration(d.arrived!.getTime() - d.expected.getTime());
      assert.ok(
        r.out.includes(`\`${d.feed}\` Sat 21 Nov: arrived ${hhmm}, ${delay} late`),
        `${d.feed} ${delay}\n${r.out}`,
      );
    }
    assert.match(r.out, /expected 10:30 \(05:30 America\/New_York\)/);
  });

  it("says today's shipfast delivery is not due yet, and how the days before went", async () => {
    const r = await q("did shipfast_logistics deliver on time today?");
    assert.equal(r.family, "arrivals");
    assert.match(r.head, /^Not due yet — no delivery from `shipfast_logistics` was due today/);
    assert.match(r.out, /Before that, 6 of \d+ deliveries in the 7 days before were late or missing/);
  });

  it("names shipfast_logistics as the most troublesome supplier", async () => {
    const r = await q("which data supplier is troublesome?");
    assert.equal(r.family, "arrivals");
    const mine = last7.filter((d) => d.supplier === "shipfast_logistics");
    assert.ok(
      r.head.startsWith(
        `\`shipfast_logistics\` is the most troublesome supplier in the last 7 days: 6 late and 0 missing of ${mine.length} deliveries`,
      ),
      r.head,
    );
  });

  it("reads a longer window: the late deliveries of the last 14 days", async () => {
    const r = await q("late deliveries in the last 14 days");
    assert.equal(r.family, "arrivals");
    const d14 = expectedDeliveries(new Date(DEMO_NOW.getTime() - 14 * DAY), DEMO_NOW);
    assert.equal(d14.filter((d) => d.late).length, 6, "only the planted three days are late");
    assert.match(
      r.head,
      new RegExp(`^Of ${d14.length} deliveries from 4 suppliers in the last 14 days, 6 late`),
    );
  });

  it("says supplier deliveries have no environment when asked 'in prod'", async () => {
    const r = await q("did acme_payments deliver on time in prod?");
    assert.equal(r.family, "arrivals");
    const mine = last7.filter((d) => d.supplier === "acme_payments");
    assert.ok(mine.every((d) => !d.late));
    assert.ok(
      r.head.startsWith(`Yes — all ${mine.length} deliveries from \`acme_payments\` arrived on time`),
      r.head,
    );
    assert.match(r.out, /no environment; “in prod” is ignored/);
  });

  it("suggests the right supplier for a misspelt name", async () => {
    const r = await q("did shipfast_logistic deliver on time?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `shipfast_logistics`/);
  });
});
