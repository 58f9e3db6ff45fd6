// The environments family: jobs and pipelines (job groups) per environment, counted from the
// demo fleet's job list, independently of the store.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { demoContext, demoFleet, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
function expected(env: string): { jobs: number; groups: string[] } {
  const jobs = fleet.jobs.filter((j) => j.environment === env);
  return { jobs: jobs.length, groups: [...new Set(jobs.map((j) => j.group))].sort() };
}
const say = (label: string, env: string) => {
  const e = expected(env);
  return `${label}: ${e.jobs} job${e.jobs === 1 ? "" : "s"} in ${e.groups.length} pipeline${e.groups.length === 1 ? "" : "s"}`;
};

describeEachStore("environments family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const q = async (text: string) => {
    const r = await ask(commands, demoContext(store), text);
    return { family: r.family, out: answerBody(r.answer), head: answerBody(r.answer).split("\n")[0]! };
  };

  it("compares production and development, and says how it counts", async () => {
    const r = await q("how many pipelines are in production vs development?");
    assert.equal(r.family, "environments");
    assert.equal(r.head, `${say("Production", "prod")}; ${say("development", "dev")}.`);
    for (const g of expected("dev").groups) assert.ok(r.out.includes(`\`${g}\`: 1 job`), g);
    assert.match(r.out, /Other environments: staging: /);
    assert.match(r.out, /How I count: a job is in the environment its runs last reported/);
  });

  it("answers for one environment", async () => {
    const r = await q("how many jobs are in staging?");
    assert.equal(r.family, "environments");
    assert.equal(r.head, `${say("Staging", "staging")}.`);
  });

  it("lists every environment for 'per environment'", async () => {
    const r = await q("pipelines per environment");
    assert.equal(r.family, "environments");
    assert.equal(
      r.head,
      `${say("Production", "prod")}; ${say("staging", "staging")}; ${say("development", "dev")}.`,
    );
  });

  it("names the pipelines that are in dev", async () => {
    const r = await q("which pipelines are in dev?");
    assert.equal(r.family, "environments");
    for (const g of expected("dev").groups) assert.ok(r.out.includes(`\`${g}\``), g);
  });

  it("shows which pipeline artifacts were deployed to each environment", async () => {
    const r = await q("how many pipelines are in prod vs dev?");
    // ml_features v0.14.0 reached dev and staging but not prod.
    const line = r.out.split("\n").find((l) => l.startsWith("Pipeline deploys"))!;
    const prodPart = line.split(" · ")[0]!;
    assert.ok(prodPart.includes("`finance_close`") && !prodPart.includes("`ml_features`"), line);
  });

  it("counts activity in the window asked for", async () => {
    const r = await q("how many pipelines are in prod vs dev in the last 7 days?");
    assert.equal(r.family, "environments");
    assert.match(r.out, /Production — \d+ of \d+ jobs ran in the last 7 days/);
  });

  it("leaves questions about what happened to other families", async () => {
    for (const text of ["how many jobs failed in prod yesterday?", "how many deploys to prod this week?"])
      assert.notEqual((await q(text)).family, "environments", text);
  });

  it("its examples all work against the demo", async () => {
    const own = commands.find((c) => c.id === "environments")!;
    for (const e of own.examples) assert.equal((await q(e)).family, "environments", e);
  });
});
