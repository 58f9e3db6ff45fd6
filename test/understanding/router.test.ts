// Through the real router on the demo fleet: names as people type them reach the families
// as the store's names, and time words that used to be taken for names are time.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import { ask } from "../../src/questions/router.ts";
import { CONVERSATION_MS, lastTurn, saveTurn } from "../../src/understanding/conversations.ts";
import { askDemo, DEMO_NOW, demoContext, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

describeEachStore("the router with the name index", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());
  const q = (text: string) => askDemo(commands, store, text);

  it("answers about finance_close.gl_summary when it is typed with spaces or in capitals", async () => {
    for (const text of ["did gl summary run yesterday", "did GL-Summary run yesterday?"]) {
      const r = await q(text);
      assert.equal(r.family, "did-it-run", text);
      assert.match(r.out, /finance_close\.gl_summary/, text);
      assert.doesNotMatch(r.out, /none given|has reported/, text);
    }
  });

  it("takes 'the last 6h' as time, not as a group called 6h", async () => {
    const r = await q("how many jobs ran in the last 6h");
    assert.equal(r.question.window?.label, "the last 6 hours");
    assert.ok(!r.question.names.includes("6h"));
    assert.doesNotMatch(r.out, /No group/);
  });

  it("reads 'last tuesday' as Tuesday 17 Nov", async () => {
    const r = await q("did user_embeddings run last tuesday");
    assert.equal(r.question.window?.from.toISOString(), "2026-11-17T00:00:00.000Z");
    assert.match(r.out, /ml_features\.user_embeddings/);
  });

  it("answers the phrasings it used to answer wrongly with confidence, the right way round", async () => {
    const ordering = await q("did gl_summary run after everything in finance_close on tuesday?");
    assert.equal(ordering.family, "ordering");
    assert.match(ordering.head, /^No —/);
    const missed = await q("any missed runs since monday");
    assert.equal(missed.family, "missed-runs");
    assert.match(missed.head, /^No — none missed/, "the demo misses no run: Yes would say some were missed");
    const cause = await q("did gl_summary start late or run long yesterday?");
    assert.equal(cause.family, "root-cause");
    assert.match(cause.out, /2h 15m late/);
    const columns = await q("were any columns dropped or renamed this month");
    assert.equal(columns.family, "schema-changes");
    assert.match(columns.head, /^No —/, "only a column was added");
    const dashboard = await q("is the finance dashboard data up to date");
    assert.equal(dashboard.family, "freshness");
    assert.match(dashboard.head, /bi\.finance_dashboard_extract/);
    const failed = await q("did gl_summary fail yesterday");
    assert.equal(failed.family, "did-it-run");
    assert.match(failed.head, /^No —/, "it succeeded: Yes would say it failed");
  });

  it("understands what it used to call not understood", async () => {
    for (const text of [
      "what failed yesterday?",
      "how many runs failed yesterday",
      "is gl_summary ok?",
      "gl_summary status",
      "give me a summary of yesterday",
      "anything I should worry about?",
      "whats scheduled for tonight",
    ]) {
      const r = await q(text);
      assert.notEqual(r.family, "not-understood", text);
      assert.notEqual(r.family, "error", text);
    }
  });

  it("answers what it used to call not computable with a measure, and says what it cannot compute", async () => {
    for (const [text, family] of [
      ["how long does gl_summary usually take", "duration"],
      ["what's the p95 runtime of gl_summary", "duration"],
      ["failure rate of gl_summary over the last 7 days", "failure-rate"],
    ]) {
      const r = await q(text!);
      assert.equal(r.family, family, text);
      assert.match(r.out, /finance_close\.gl_summary/, text);
    }
    // The cost of a dataset is understood, but no measure computes it: said so.
    const r = await q("what did the analytics.fct_orders dataset cost last week");
    assert.equal(r.family, "not-yet");
    assert.match(r.out, /analytics\.fct_orders/);
  });

  it("follows up on the previous question: a new window, environment or subject", async () => {
    const ctx = demoContext(store);
    const first = await ask(commands, ctx, "did gl_summary run yesterday");
    assert.ok(first.turn, "a question with a frame is remembered");
    const tuesday = await ask(commands, { ...ctx, previous: first.turn }, "what about last tuesday?");
    assert.equal(tuesday.family, "did-it-run");
    assert.equal(tuesday.question.window?.from.toISOString(), "2026-11-17T00:00:00.000Z");
    assert.equal(tuesday.question.names[0], "finance_close.gl_summary");
    const other = await ask(commands, { ...ctx, previous: tuesday.turn! }, "and tax_report?");
    assert.equal(other.question.names[0], "finance_close.tax_report");
    assert.equal(
      other.question.window?.from.toISOString(),
      "2026-11-17T00:00:00.000Z",
      "the window carries over",
    );
    const staging = await ask(commands, { ...ctx, previous: other.turn! }, "in staging?");
    assert.equal(staging.question.environment, "staging");
    // A question of its own is not a follow-up.
    const fresh = await ask(commands, { ...ctx, previous: staging.turn! }, "which pipelines fail the most?");
    assert.equal(fresh.family, "troublesome");
  });

  it("remembers a conversation's last question for a day, in the store", async () => {
    const ctx = demoContext(store);
    const first = await ask(commands, ctx, "did gl_summary run yesterday");
    await saveTurn(store, "D0TEST:dm", first.turn!, DEMO_NOW);
    assert.deepEqual(await lastTurn(store, "D0TEST:dm", DEMO_NOW), first.turn);
    assert.equal(
      await lastTurn(store, "D0TEST:dm", new Date(DEMO_NOW.getTime() + CONVERSATION_MS + 1)),
      undefined,
    );
    assert.equal(await lastTurn(store, "D0OTHER:dm", DEMO_NOW), undefined);
  });

  it("still offers 'did you mean' for a typo instead of assuming", async () => {
    const r = await q("today's plan for finanse_close");
    assert.equal(r.family, "did-you-mean");
  });
});
