// The projects family: tickets released per project, where a ticket is, and what is happening
// in a project. Expected tickets and counts come from the demo's deploy events.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import type { DeployEvent } from "../../src/ingest/events.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { DEMO_NOW, demoContext, demoFleet, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const fleet = demoFleet();
const deploys = fleet.events.filter((e): e is DeployEvent => e.type === "deploy");
const since = (from: Date) => deploys.filter((d) => d.at >= from && d.at < DEMO_NOW);
const last30 = since(new Date(DEMO_NOW.getTime() - 30 * DAY));
const thisWeek = since(new Date("2026-11-16T00:00:00Z"));
/** Tickets carried by a successful deploy to `env`, per project. */
function releasedTickets(ds: DeployEvent[], env = "prod"): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const d of ds)
    if (d.status === "success" && d.environment === env)
      for (const t of d.tickets) out.set(d.project!, (out.get(d.project!) ?? new Set()).add(t));
  return out;
}

describeEachStore("projects family", (kind) => {
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

  it("lists the tickets released in PRJ-FINANCE, noting the failed first attempt", async () => {
    const expected = [...releasedTickets(last30).get("PRJ-FINANCE")!].sort();
    assert.deepEqual(expected, ["DATA-1215", "DATA-1252", "DATA-1255"]);
    const r = await q("which tickets were released in PRJ-FINANCE?");
    assert.equal(r.family, "projects");
    assert.equal(
      r.head,
      `${expected.length} tickets were released to prod in \`PRJ-FINANCE\` in the last 30 days.`,
    );
    for (const t of expected) assert.ok(r.out.includes(`${t} — `), t);
    assert.match(
      r.out,
      /DATA-1252 — `finance_close` v1\.8\.1 on Fri 20 Nov 17:05 \(after v1\.8\.0 failed on Fri 20 Nov 15:20\)/,
    );
  });

  it("lists this week's released tickets per project, and what is still in flight", async () => {
    const per = releasedTickets(thisWeek);
    const total = [...per.values()].reduce((n, s) => n + s.size, 0);
    const r = await q("which tickets were released this week, per project?");
    assert.equal(r.family, "projects");
    assert.ok(
      r.head.startsWith(`${total} tickets were released to prod this week across ${per.size} projects`),
      r.head,
    );
    for (const [p, ts] of per) {
      assert.ok(r.head.includes(`${p} ${ts.size}`), p);
      for (const t of ts) assert.ok(r.out.includes(`${t} — `), t);
    }
    // Reached staging this week, never prod.
    assert.match(r.out, /In flight[^\n]*\n(?:• [^\n]*\n)*• DATA-1260 — `stg_payments` v1\.3\.1 in staging/);
  });

  it("filters by environment: tickets deployed to staging", async () => {
    const staging = releasedTickets(thisWeek, "staging");
    const total = [...staging.values()].reduce((n, s) => n + s.size, 0);
    const r = await q("which tickets were deployed to staging this week?");
    assert.equal(r.family, "projects");
    assert.ok(r.head.startsWith(`${total} tickets were released to staging this week`), r.head);
  });

  it("says what is happening in PRJ-CHECKOUT: deploys, tickets, related pipelines and tests", async () => {
    const mine = last30.filter((d) => d.project === "PRJ-CHECKOUT");
    const failed = mine.filter((d) => d.status !== "success").length;
    const released = releasedTickets(last30).get("PRJ-CHECKOUT")!;
    const r = await q("what's happening in project PRJ-CHECKOUT?");
    assert.equal(r.family, "projects");
    assert.ok(
      r.head.startsWith(
        `\`PRJ-CHECKOUT\` in the last 30 days: ${mine.length} deploys (${failed ? `${failed} failed` : "none failed"}), ${released.size} tickets released to prod`,
      ),
      r.head,
    );
    // Related jobs by the stated rule: a group or a job's last name segment equals an artifact.
    const artifacts = new Set(mine.map((d) => d.artifact));
    const related = fleet.jobs.filter(
      (j) => artifacts.has(j.group) || artifacts.has(j.job.split(".").at(-1)!),
    );
    assert.ok(r.out.includes(`Related pipelines: ${related.length} jobs`), r.out);
    assert.match(r.out, /Related tests: \d+ results in the last 30 days/);
    assert.match(r.out, /unique_dim_customers_customer_id` fail in prod/);
  });

  it("filters a project by environment", async () => {
    const prod = last30.filter((d) => d.project === "PRJ-GROWTH" && d.environment === "prod");
    const r = await q("what's happening in project PRJ-GROWTH in prod?");
    assert.equal(r.family, "projects");
    assert.ok(
      r.head.startsWith(`\`PRJ-GROWTH\` in the last 30 days in prod: ${prod.length} deploys`),
      r.head,
    );
    assert.ok(!r.out.includes("ml_features"), "ml_features never reached prod");
  });

  it("tells whether a ticket reached prod", async () => {
    const yes = await q("was DATA-1252 released?");
    assert.equal(yes.family, "projects");
    assert.match(yes.head, /^Yes — DATA-1252 is in prod: `finance_close` v1\.8\.1/);
    const no = await q("is DATA-1260 in prod?");
    assert.equal(no.family, "projects");
    assert.match(no.head, /^No — DATA-1260 has not reached prod; it is in staging/);
  });

  it("suggests the project meant for a misspelt name", async () => {
    const r = await q("what's happening in project PRJ-CHECKUOT?");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /did you mean `PRJ-CHECKOUT`/);
  });

  it("its examples all work against the demo", async () => {
    const own = commands.find((c) => c.id === "projects")!;
    for (const e of own.examples) assert.equal((await q(e)).family, "projects", e);
  });
});
