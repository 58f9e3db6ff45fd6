// A question that fits two things gets buttons, one per reading; a click answers the chosen
// reading in place of the menu. Signed block_actions through the real Bolt app.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { READING_ACTION } from "../../src/questions/router.ts";
import { readingOf } from "../../src/slack/listeners/readings/reading.ts";
import { DEMO_NOW, openDemoStore } from "../helpers/demo.ts";
import { blockActions, signedSlackRequest } from "../helpers/fake-slack.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";
import { SIGNING_SECRET, type SlackHarness, startSlackHarness } from "./harness.ts";

describeEachStore("clarifying with buttons in Slack", (kind) => {
  let store: TestStore;
  let h: SlackHarness;
  before(async () => {
    store = await openDemoStore(kind);
    h = await startSlackHarness(kind, { store, now: () => DEMO_NOW });
    h.slack.setUser("U0ASKER", { tz: "UTC" });
  });
  after(async () => {
    await h?.close();
    await store?.dispose();
  });

  it("asks which job rather than guess, and answers the one clicked in place of the question", async () => {
    const { reply } = await h.ask("did the fx rates job run yesterday");
    const actions = (reply.body.blocks as any[]).find((b) => b.type === "actions");
    assert.ok(actions, "the readings are buttons");
    const readings = actions.elements.map((e: any) => readingOf(e.value));
    assert.deepEqual(
      readings
        .slice(0, 2)
        .map((r: any) => r.f.subject.name)
        .sort(),
      ["finance_close.extract_fx_rates", "ingest_suppliers.load_fx_rates"],
    );
    assert.ok(actions.elements.every((e: any) => new RegExp(`^${READING_ACTION}_\\d$`).test(e.action_id)));
    const pick = actions.elements.find(
      (e: any) => readingOf(e.value)!.f.subject.name === "ingest_suppliers.load_fx_rates",
    );
    const responseUrl = h.slack.responseUrl();
    const res = await signedSlackRequest(
      SIGNING_SECRET,
      blockActions({
        actionId: pick.action_id,
        value: pick.value,
        channelId: "C0DATAOPS",
        messageTs: "1.000100",
        responseUrl,
      }),
      { url: h.eventsUrl },
    );
    assert.equal(res.status, 200);
    const answer = await h.slack.waitFor(
      () => h.slack.responsesTo(responseUrl)[0],
      10_000,
      "the chosen reading's answer",
    );
    assert.equal(answer.body.replace_original, true);
    assert.match(answer.body.text, /`ingest_suppliers\.load_fx_rates` ran/);
    const line = await h.questionLog((l) => l["source"] === "reading");
    assert.equal(line["family"], "did-it-run");
  });

  it("refuses a button value it did not make", async () => {
    assert.equal(readingOf("not json"), undefined);
    assert.equal(
      readingOf(JSON.stringify({ q: "x", f: { measure: "drop_tables", subject: { kind: "job" } } })),
      undefined,
    );
    const responseUrl = h.slack.responseUrl();
    await signedSlackRequest(
      SIGNING_SECRET,
      blockActions({
        actionId: `${READING_ACTION}_0`,
        value: "{}",
        channelId: "C0DATAOPS",
        messageTs: "1.000200",
        responseUrl,
      }),
      { url: h.eventsUrl },
    );
    const note = await h.slack.waitFor(() => h.slack.responsesTo(responseUrl)[0], 10_000, "the note");
    assert.equal(note.body.replace_original, false);
    assert.match(note.body.text, /Ask again/);
  });
});
