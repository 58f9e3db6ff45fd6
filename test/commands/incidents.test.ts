// /houston incidents: open incidents from a real evaluation, acknowledged and silenced ones
// told apart; resolved ones gone.
import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import incidents from "../../commands/incidents.ts";
import { acknowledgeIncident, resolveIncident, silence } from "../../src/monitors/incidents.ts";
import { runMonitors } from "../../src/monitors/runner.ts";
import { answerBody } from "../helpers/demo.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { at, configOf, HOUR, MIN, plus, World } from "../monitors/world.ts";

const T = at("2030-03-10T00:00:00Z");
const DUE = at("2030-03-10T03:00:00Z");
const commands = await loadCommands();

describeEachStore("incidents question family", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());
  beforeEach(async () => {
    await store.reset();
  });
  const askIt = async (text: string, now: Date) => {
    const r = await ask(commands, { store, now, timezone: "UTC" }, text);
    return { family: r.family, out: answerBody(r.answer) };
  };

  it("says there are none when nothing is open", async () => {
    const r = await askIt("incidents", DUE);
    assert.equal(r.family, "incidents");
    assert.match(r.out, /^No open incidents/);
  });

  it("lists open incidents with state, age and who acknowledged; silenced apart; resolved gone", async () => {
    const w = new World(store);
    for (const name of ["alpha", "bravo", "charlie", "delta"]) {
      await w.history(name, T, "02:00", ["success", "success"]);
      await w.schedule(name, "0 2 * * *", T, { graceSeconds: 3600, channel: "C0ORDERS" });
    }
    await silence(store, {
      subjectType: "job",
      subject: "delta",
      at: T,
      until: plus(DUE, 5 * HOUR),
      by: "U0ANA",
    });
    await runMonitors(store, DUE, configOf(), { replicaId: "t" });
    const ids = new Map(
      (await w.incidents()).map((i) => [i.key.split(":")[2]!.replace("dbt/", ""), i.id] as const),
    );
    await acknowledgeIncident(store, {
      id: ids.get("alpha")!,
      by: "U0ANA",
      at: plus(DUE, 10 * MIN),
      source: "slack",
    });
    await resolveIncident(store, {
      id: ids.get("charlie")!,
      by: "U0BEN",
      at: plus(DUE, 20 * MIN),
      source: "slack",
    });
    const d = await incidents.compute(
      { store, now: plus(DUE, HOUR), timezone: "UTC" },
      { measure: "incidents", subject: { kind: "fleet" } },
      { from: new Date(0), to: plus(DUE, HOUR), label: "now", given: false },
    );
    const subjects = (xs: { subject: string }[]) => xs.map((i) => i.subject.replace("dbt/", "")).sort();
    assert.deepEqual(subjects(d.open), ["alpha", "bravo"]);
    assert.deepEqual(subjects(d.silenced), ["delta"]);
    assert.equal(d.acknowledged, 1);
    assert.equal(d.open.find((i) => i.state === "acknowledged")?.acknowledgedBy, "U0ANA");
    assert.equal(d.truncated, false);
    for (const q of ["incidents", "which incidents are open?", "show open incidents"]) {
      const r = await askIt(q, plus(DUE, HOUR));
      assert.equal(r.family, "incidents", q);
      const lines = r.out.split("\n");
      assert.equal(lines[0], "2 open incidents (1 unacknowledged, 1 acknowledged), 1 silenced");
      assert.match(
        r.out,
        /• alpha did not run.* — :eyes: acknowledged by <@U0ANA> 50m ago, open 1h \(since today 03:00\)/,
      );
      assert.match(r.out, /• bravo did not run.* — :rotating_light: unacknowledged, open 1h/);
      assert.match(r.out, /Silenced \(recorded, not posted or paged\)\n• :zzz: delta did not run/);
      assert.doesNotMatch(r.out, /charlie/);
    }
  });
});
