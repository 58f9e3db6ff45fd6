// The deploys measure against the demo fleet. Expected numbers come from the generated deploy
// events (what the demo planted), never from the answer: first on what compute() returns,
// then on the answers' wording.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import deploysMeasure, { type DeploysAsk } from "../../commands/deploys.ts";
import type { DeployEvent } from "../../src/ingest/events.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import type { Frame } from "../../src/understanding/frame.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const deploys = demoFleet().events.filter((e): e is DeployEvent => e.type === "deploy");
const between = (from: Date, to: Date = DEMO_NOW) =>
  deploys.filter((d) => d.at.getTime() >= from.getTime() && d.at.getTime() < to.getTime());
const hhmm = (d: Date) => d.toISOString().slice(11, 16);
const failedProd = deploys.find(
  (d) => d.artifact === "finance_close" && d.environment === "prod" && d.status === "failed",
)!;
const fixedProd = deploys.find(
  (d) => d.artifact === "finance_close" && d.environment === "prod" && d.status === "success",
)!;
/** What a plain "deploys" question asks, with `over` its overrides. */
const asked = (over: Partial<DeploysAsk> = {}): DeploysAsk => ({
  versions: false,
  counting: false,
  plural: false,
  rate: false,
  asksFailure: false,
  status: undefined,
  kinds: [],
  names: [],
  ...over,
});
const THIS_MONTH: MeasureWindow = {
  from: new Date("2026-11-01T00:00:00Z"),
  to: DEMO_NOW,
  label: "this month",
  given: true,
};
const LAST_30: MeasureWindow = {
  from: new Date(DEMO_NOW.getTime() - 30 * DAY),
  to: DEMO_NOW,
  label: "the last 30 days",
  given: false,
};
const fleetFrame: Frame = { measure: "deploys", subject: { kind: "fleet" } };
const artifactFrame = (name: string): Frame => ({ measure: "deploys", subject: { kind: "artifact", name } });

describeEachStore("deploys family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = (text: string, tz = "UTC") => askDemo(commands, store, text, tz);

  it("the demo plants the deploys these tests rely on", () => {
    assert.equal(failedProd.version, "v1.8.0");
    assert.deepEqual(failedProd.tickets, ["DATA-1252"]);
    assert.equal(fixedProd.version, "v1.8.1");
    assert.ok(fixedProd.at > failedProd.at);
  });

  it("computes this month's deploys per kind, status and environment, and each failure with the deploy that fixed it", async () => {
    const d = await deploysMeasure.compute(
      demoContext(store),
      fleetFrame,
      THIS_MONTH,
      asked({ counting: true, status: "failed" }),
    );
    assert.ok(d.view === "counts");
    const month = between(THIS_MONTH.from);
    const tally = new Map<string, number>();
    for (const x of month) {
      const k = `${x.kind}|${x.status}|${x.environment ?? ""}`;
      tally.set(k, (tally.get(k) ?? 0) + 1);
    }
    assert.deepEqual(
      new Map(d.counts.map((c) => [`${c.kind}|${c.status}|${c.environment ?? ""}`, c.n])),
      tally,
    );
    const failed = month.filter((x) => x.status !== "success").sort((a, b) => +b.at - +a.at);
    assert.deepEqual(
      d.failures.map((x) => [x.artifact, x.version, x.environment]),
      failed.map((x) => [x.artifact, x.version, x.environment]),
    );
    // What fixed each: the first later success of the artifact in the same environment.
    const fix = (x: DeployEvent) =>
      deploys
        .filter(
          (y) =>
            y.artifact === x.artifact &&
            y.environment === x.environment &&
            y.status === "success" &&
            y.at > x.at,
        )
        .sort((a, b) => +a.at - +b.at)[0]?.version ?? null;
    assert.deepEqual(
      d.failures.map((x) => x.fixVersion),
      failed.map(fix),
    );
    assert.deepEqual(d.recent, [], "failures asked: no list of the latest");
  });

  it("computes model deploys only when the kind is asked, and the latest ten of them", async () => {
    const d = await deploysMeasure.compute(
      demoContext(store),
      fleetFrame,
      LAST_30,
      asked({ counting: true, kinds: ["model"] }),
    );
    assert.ok(d.view === "counts");
    const models = between(LAST_30.from).filter((x) => x.kind === "model");
    assert.equal(
      d.counts.reduce((n, c) => n + c.n, 0),
      models.length,
    );
    assert.ok(d.counts.every((c) => c.kind === "model"));
    assert.deepEqual(
      d.recent.map((x) => [x.artifact, x.version, x.environment]),
      [...models]
        .sort((a, b) => +b.at - +a.at)
        .slice(0, 10)
        .map((x) => [x.artifact, x.version, x.environment ?? null]),
    );
  });

  it("computes finance_close's deploys newest first: the fix, then the failed attempt before it", async () => {
    const d = await deploysMeasure.compute(
      demoContext(store),
      artifactFrame("finance_close"),
      LAST_30,
      asked(),
    );
    assert.ok(d.view === "latest");
    const mine = deploys.filter((x) => x.artifact === "finance_close").sort((a, b) => +b.at - +a.at);
    assert.deepEqual(
      d.deploys.map((x) => [x.version, x.environment, x.status, new Date(x.at).getTime()]),
      mine.map((x) => [x.version, x.environment, x.status, x.at.getTime()]),
    );
    const prod = d.deploys.filter((x) => x.environment === "prod");
    assert.deepEqual(
      prod.slice(0, 2).map((x) => [x.version, x.status]),
      [
        [fixedProd.version, "success"],
        [failedProd.version, "failed"],
      ],
    );
  });

  it("computes which version of fct_orders each environment runs: its latest successful deploy there", async () => {
    const d = await deploysMeasure.compute(
      demoContext(store),
      artifactFrame("fct_orders"),
      LAST_30,
      asked({ versions: true }),
    );
    assert.ok(d.view === "versions");
    const latestOk = new Map<string, DeployEvent>();
    for (const x of deploys.filter((y) => y.artifact === "fct_orders" && y.status === "success"))
      if (!latestOk.has(x.environment!) || latestOk.get(x.environment!)!.at < x.at)
        latestOk.set(x.environment!, x);
    assert.deepEqual(
      new Map(d.successes.map((x) => [x.environment, x.version])),
      new Map([...latestOk].map(([env, x]) => [env, x.version])),
    );
  });

  it("says the finance_close deploy worked, on the second attempt, with the failed one's ticket", async () => {
    const r = await q("did the deployment of finance_close work?");
    assert.equal(r.family, "deploys");
    assert.match(r.head, /^Yes — /);
    assert.ok(r.head.includes(`${fixedProd.version} to prod on Fri 20 Nov ${hhmm(fixedProd.at)}`), r.head);
    assert.ok(
      r.out.includes(`${failedProd.version} → prod: failed on Fri 20 Nov ${hhmm(failedProd.at)} (DATA-1252)`),
    );
    assert.match(r.out, /1 failed attempt in prod/);
    assert.match(r.out, /deploys? of finance_close on record/);
  });

  it("answers 'did it fail?' with No when the latest deploy succeeded", async () => {
    const r = await q("did the finance_close deploy fail?");
    assert.equal(r.family, "deploys");
    assert.match(r.head, /^No — .*succeeded\.$/);
  });

  it("shows times in the asker's time zone", async () => {
    const r = await q("did the deployment of finance_close work?", "Europe/Berlin");
    const local = new Date(failedProd.at.getTime() + 3_600_000); // CET in November
    assert.ok(r.out.includes(`failed on Fri 20 Nov ${hhmm(local)}`), r.out);
  });

  it("counts the deploys that failed this month, with what fixed each", async () => {
    const failed = between(new Date("2026-11-01T00:00:00Z")).filter((d) => d.status !== "success");
    const all = between(new Date("2026-11-01T00:00:00Z"));
    assert.equal(failed.length, 2);
    const r = await q("how many deploys failed this month?");
    assert.equal(r.family, "deploys");
    assert.ok(r.head.startsWith(`${failed.length} deploys failed this month`), r.head);
    assert.ok(r.head.includes(`of ${all.length}`), r.head);
    for (const d of failed)
      assert.ok(r.out.includes(`\`${d.artifact}\` ${d.version} → ${d.environment}: failed`));
    assert.match(r.out, /fixed by v1\.8\.1/);
    assert.match(r.out, /fixed by v3\.0\.2/);
  });

  it("lists failed deploys in the last 7 days only", async () => {
    const failed = between(new Date(DEMO_NOW.getTime() - 7 * DAY)).filter((d) => d.status !== "success");
    assert.equal(failed.length, 1);
    const r = await q("failed deploys in the last 7 days");
    assert.equal(r.family, "deploys");
    assert.ok(r.head.startsWith("1 deploy failed in the last 7 days"), r.head);
    assert.ok(r.out.includes("finance_close"));
    assert.ok(!r.out.includes("marketing_attribution"));
  });

  it("counts model deploys in the last 30 days", async () => {
    const models = between(new Date(DEMO_NOW.getTime() - 30 * DAY)).filter((d) => d.kind === "model");
    const r = await q("how many model deploys in the last 30 days?");
    assert.equal(r.family, "deploys");
    assert.ok(r.head.startsWith(`${models.length} model deploys in the last 30 days`), r.head);
  });

  it("counts dashboard and code deploys together", async () => {
    const n = between(new Date(DEMO_NOW.getTime() - 30 * DAY)).filter(
      (d) => d.kind === "dashboard" || d.kind === "code",
    ).length;
    const r = await q("how many deploys of dashboards and code in the last 30 days?");
    assert.equal(r.family, "deploys");
    assert.ok(r.head.startsWith(`${n} dashboard/code deploys`), r.head);
  });

  it("counts this week's deploys from Monday", async () => {
    const week = between(new Date("2026-11-16T00:00:00Z"));
    const bad = week.filter((d) => d.status !== "success").length;
    const r = await q("how many deploys this week?");
    assert.equal(r.family, "deploys");
    assert.equal(r.head, `${week.length} deploys this week: ${week.length - bad} succeeded, ${bad} failed.`);
  });

  it("filters by environment, whether said 'in prod' or 'to prod'", async () => {
    const prod = between(new Date(DEMO_NOW.getTime() - 30 * DAY)).filter((d) => d.environment === "prod");
    for (const text of ["how many deploys in prod in the last 30 days?", "how often do we deploy to prod?"]) {
      const r = await q(text);
      assert.equal(r.family, "deploys", text);
      assert.ok(r.head.startsWith(`${prod.length} deploys to prod in the last 30 days`), r.head);
    }
    const staging = between(new Date("2026-11-01T00:00:00Z")).filter(
      (d) => d.environment === "staging" && d.status !== "success",
    );
    const r = await q("how many deploys failed in staging this month?");
    assert.ok(r.head.startsWith(`${staging.length} deploy to staging failed this month`), r.head);
    assert.ok(r.out.includes("marketing_attribution"));
    assert.ok(!r.out.includes("finance_close"));
  });

  it("says which version of fct_orders is in which environment", async () => {
    const latest = deploys.filter((d) => d.artifact === "fct_orders" && d.status === "success");
    const versions = new Set(latest.map((d) => d.version));
    assert.equal(versions.size, 1);
    const r = await q("what version of fct_orders is in which environment?");
    assert.equal(r.family, "deploys");
    assert.ok(r.head.includes(`is at ${[...versions][0]} in every environment`), r.head);
    for (const env of new Set(latest.map((d) => d.environment))) assert.ok(r.out.includes(`${env}: `));
  });

  it("says finance_close runs the fixed version in prod", async () => {
    const r = await q("which version of finance_close is in prod?");
    assert.equal(r.family, "deploys");
    assert.ok(r.head.startsWith(`\`finance_close\` is at ${fixedProd.version} in prod`), r.head);
  });

  it("answers within a window: marketing_attribution reached staging on the second try", async () => {
    const r = await q("did marketing_attribution deploy to staging on 2026-11-06?");
    assert.equal(r.family, "deploys");
    assert.match(r.head, /^Yes — .*v3\.0\.2/);
    assert.match(r.out, /v3\.0\.1 → staging: failed/);
  });

  it("says plainly when an artifact has no deploys in the window", async () => {
    const r = await q("did finance_close deploy yesterday?");
    assert.equal(r.family, "deploys");
    assert.match(r.head, /^No — `finance_close` has no deploys yesterday/);
  });

  it("suggests the artifact meant for a misspelt name", async () => {
    const r = await q("did the deployment of finanse_close work?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `finance_close`/);
  });

  it("leaves ticket and schema-change questions to their families", async () => {
    assert.notEqual((await q("which tickets were released this week?")).family, "deploys");
    assert.notEqual((await q("how often does the production schema change?")).family, "deploys");
  });

  it("its examples all work against the demo", async () => {
    const own = commands.find((c) => c.id === "deploys")!;
    for (const e of own.examples) assert.equal((await q(e)).family, "deploys", e);
  });
});
