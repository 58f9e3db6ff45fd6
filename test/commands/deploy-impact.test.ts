// The deploy-impact measure on the demo fleet against its planted story: attribution_model
// has failed every other day since v2.4.0 reached prod on 2026-11-11 (counted here from the
// fleet's own run and deploy events, not read back from the store).
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import deployImpact, { type DeployImpactData } from "../../commands/deploy-impact.ts";
import type { DeployEvent, RunEvent } from "../../src/ingest/events.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const DAY = 86_400_000;
const LAST_30: MeasureWindow = {
  from: new Date(DEMO_NOW.getTime() - 30 * DAY),
  to: DEMO_NOW,
  label: "the last 30 days",
  given: false,
};
const JOB = "marketing_attribution.attribution_model";

// Each run's final status (the latest event per run id).
const finals = new Map<string, RunEvent>();
for (const e of fleet.events)
  if (e.type === "run" && e.job === JOB) {
    const prev = finals.get(e.runId);
    if (!prev || prev.eventTime <= e.eventTime) finals.set(e.runId, { ...prev, ...e });
  }
const runAt = (r: RunEvent) => (r.startedAt ?? r.endedAt ?? r.scheduledFor)!.getTime();
const count = (from: number, to: number) => {
  const rs = [...finals.values()].filter((r) => runAt(r) >= from && runAt(r) < to);
  return { runs: rs.length, failures: rs.filter((r) => r.status === "failed").length };
};

describeEachStore("the deploy-impact measure on the demo fleet", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  it("failures of attribution_model started after v2.4.0 reached prod", async () => {
    const deploy = fleet.events.find(
      (e): e is DeployEvent =>
        e.type === "deploy" &&
        e.artifact === "attribution_model" &&
        e.environment === "prod" &&
        e.status === "success",
    )!;
    const d = (await deployImpact.compute(
      demoContext(store),
      { measure: "deploy_impact", subject: { kind: "job", name: JOB } },
      LAST_30,
    )) as DeployImpactData;
    // Only prod deploys: the job runs in prod.
    assert.ok(
      d.deploys.every((x) => x.deploy.environment === "prod"),
      JSON.stringify(d.deploys),
    );
    const hit = d.deploys.find((x) => x.deploy.version === deploy.version)!;
    assert.ok(hit, JSON.stringify(d.deploys));
    const t = deploy.at.getTime();
    assert.deepEqual(hit.before, count(t - 7 * DAY, t));
    assert.deepEqual(hit.after, count(t, t + 7 * DAY));
    assert.equal(hit.verdict, "started");
  });

  it("'did failures of attribution_model start after a deploy?' says Yes and names it", async () => {
    const r = await askDemo(commands, store, "did failures of attribution_model start after a deploy?");
    assert.equal(r.family, "deploy-impact");
    assert.match(r.head, /^Yes — Failures started after `attribution_model` v2\.4\.0 to prod/);
  });
});
