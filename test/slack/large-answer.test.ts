// A question that matches 10,000 runs still makes a message Slack accepts: at most 50
// blocks, 3,000 characters a section, 10 fields a section.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import type { RunEvent } from "../../src/ingest/events.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { type SlackHarness, startSlackHarness } from "./harness.ts";

const NOW = new Date("2026-11-22T09:00:00Z"); // a Sunday: "this week" is Mon 16 Nov 00:00 → now
const WEEK_START = Date.parse("2026-11-16T00:00:00Z");
const RUNS = 10_000;

function assertWithinSlackLimits(blocks: any[]): void {
  assert.ok(blocks.length > 0 && blocks.length <= 50, `${blocks.length} blocks (max 50)`);
  for (const b of blocks) {
    if (b.type === "section") {
      if (b.text)
        assert.ok(b.text.text.length <= 3000, `section text of ${b.text.text.length} chars (max 3000)`);
      if (b.fields) assert.ok(b.fields.length <= 10, `${b.fields.length} fields (max 10)`);
    }
    if (b.type === "context") assert.ok(b.elements.length <= 10);
  }
}

describeEachStore("a Slack answer about 10,000 runs", (kind) => {
  let store: TestStore;
  let h: SlackHarness;

  before(async () => {
    store = await openTestStore(kind);
    h = await startSlackHarness(kind, { store, now: () => NOW });
    h.slack.setUser("U0ASKER", { tz: "UTC" });
    const step = Math.floor((NOW.getTime() - 3_600_000 - WEEK_START) / RUNS);
    for (let batch = 0; batch < RUNS / 1000; batch++) {
      const events: RunEvent[] = [];
      for (let i = batch * 1000; i < (batch + 1) * 1000; i++) {
        const startedAt = new Date(WEEK_START + i * step);
        const failed = i % 97 === 0;
        events.push({
          type: "run",
          namespace: "default",
          job: "that_job",
          runId: `that-job-run-${i}`,
          status: failed ? "failed" : "success",
          startedAt,
          endedAt: new Date(startedAt.getTime() + 30_000),
          environment: "prod",
          ...(failed ? { error: `boom ${"x".repeat(400)}` } : {}),
          eventTime: new Date(startedAt.getTime() + 30_000),
        });
      }
      await h.app.app.ingestor.apply(events);
    }
  });
  after(async () => {
    await h?.close();
    await store?.dispose();
  });

  it("keeps the /houston answer within Block Kit limits", async () => {
    const { reply } = await h.ask("did that_job run this week");
    assert.match(reply.body.text, /that_job/);
    // Counted over the whole window, not over the listed runs.
    assert.match(reply.body.text, /ran 10000 times/);
    assertWithinSlackLimits(reply.body.blocks);
  });

  it("keeps the threaded answer to a mention within Block Kit limits", async () => {
    const { post } = await h.mention("did that_job run this week");
    assert.match(post.params["text"], /that_job/);
    assertWithinSlackLimits(post.params["blocks"]);
  });
});
