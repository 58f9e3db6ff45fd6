// /houston silences: the silences in force, with who, until when and why; ended and future
// ones are not listed.
import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { endSilence, silence } from "../../src/monitors/incidents.ts";
import { answerBody } from "../helpers/demo.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { at, HOUR, plus } from "../monitors/world.ts";

const NOW = at("2030-03-10T09:00:00Z");
const commands = await loadCommands();

describeEachStore("silences question family", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());
  beforeEach(async () => {
    await store.reset();
  });
  const askIt = async (text: string) => {
    const r = await ask(commands, { store, now: NOW, timezone: "UTC" }, text);
    return { family: r.family, out: answerBody(r.answer) };
  };

  it("says nothing is silenced when nothing is", async () => {
    const r = await askIt("silences");
    assert.equal(r.family, "silences");
    assert.match(r.out, /^Nothing is silenced\./);
  });

  it("lists active silences soonest-ending first with who, until and why", async () => {
    const base = { at: plus(NOW, -HOUR), by: "U0ANA" };
    await silence(store, {
      ...base,
      subjectType: "group",
      subject: "finance_close",
      until: plus(NOW, 5 * HOUR),
      reason: "quarter close",
    });
    await silence(store, {
      ...base,
      subjectType: "job",
      subject: "nightly_orders",
      until: plus(NOW, 2 * HOUR),
      by: "U0BEN",
    });
    const ended = await silence(store, {
      ...base,
      subjectType: "job",
      subject: "old_job",
      until: plus(NOW, HOUR),
    });
    await endSilence(store, ended.id, plus(NOW, -30 * 60_000));
    await silence(store, {
      ...base,
      subjectType: "job",
      subject: "later_job",
      from: plus(NOW, HOUR),
      until: plus(NOW, 3 * HOUR),
    });
    for (const q of ["silences", "what is silenced?", "which jobs are silenced?"]) {
      const r = await askIt(q);
      assert.equal(r.family, "silences", q);
      const lines = r.out.split("\n");
      assert.equal(lines[0], "2 active silences");
      assert.match(lines[1]!, /^• job `nightly_orders` until .*11:00.* \(2h left\) — by <@U0BEN>$/);
      assert.match(
        lines[2]!,
        /^• group `finance_close` until .*14:00.* \(5h left\) — by <@U0ANA>: quarter close$/,
      );
      assert.doesNotMatch(r.out, /old_job|later_job/);
    }
  });
});
