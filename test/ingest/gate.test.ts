import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHttpServer } from "../../src/http/server.ts";
import type { Ingestor } from "../../src/ingest/apply.ts";
import { Gate, registerIngestRoutes } from "../../src/ingest/routes.ts";
import { TEST_TOKEN } from "../helpers/app.ts";
import { testLogger } from "../helpers/log.ts";

it("Gate runs at most `limit` tasks at once, in arrival order, and frees a slot when a task fails", async () => {
  const gate = new Gate(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const task = (n: number, fail = false) =>
    gate.run(async () => {
      started.push(n);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      if (fail) throw new Error(`task ${n} failed`);
      return n;
    });
  const tick = () => new Promise((r) => setImmediate(r));
  const results = [task(1, true), task(2), task(3), task(4)].map((p) => p.catch((e: Error) => e.message));
  await tick();
  assert.deepEqual(started, [1, 2], "two start, two wait");
  releases.shift()!(); // 1 fails: its slot goes to 3
  await tick();
  assert.deepEqual(started, [1, 2, 3]);
  while (releases.length) {
    releases.shift()!();
    await tick();
  }
  assert.deepEqual(await Promise.all(results), ["task 1 failed", 2, 3, 4]);
  assert.equal(peak, 2);
  assert.equal(await gate.run(async () => "free again"), "free again");
});

describe("large ingest requests at once", () => {
  /** The ingest routes over an ingestor that holds every write until released. */
  async function serve(maxConcurrentLarge: number | undefined) {
    const { log } = testLogger("warn");
    const http = createHttpServer(log, async () => true);
    const writing: (() => void)[] = [];
    let started = 0;
    let holding = true;
    const ingestor = {
      async apply(events: unknown[]) {
        started++;
        if (holding) await new Promise<void>((resolve) => writing.push(resolve));
        return { accepted: events.length, duplicates: 0 };
      },
    } as unknown as Ingestor;
    /** Lets every write, held or to come, finish (so a failed test leaves nothing hanging). */
    const releaseAll = () => {
      holding = false;
      for (const release of writing.splice(0)) release();
    };
    registerIngestRoutes(http, {
      tokens: [TEST_TOKEN],
      maxBodyBytes: 1 << 20,
      ingestor,
      ...(maxConcurrentLarge === undefined ? {} : { maxConcurrentLarge }),
    });
    await new Promise<void>((resolve) => http.server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(http.server.address() as { port: number }).port}/api/v1/events`;
    // Over 64 KB: a large request, which goes through the gate.
    const body = JSON.stringify(
      Array.from({ length: 600 }, (_, i) => ({
        type: "run",
        job: "gated",
        run_id: `r-${i}`,
        status: "success",
        started_at: "2026-11-21T02:00:00Z",
        ended_at: "2026-11-21T02:01:00Z",
        error: "x".repeat(100),
      })),
    );
    const post = () =>
      fetch(url, { method: "POST", headers: { authorization: `Bearer ${TEST_TOKEN}` }, body }).then(
        (r) => r.status,
      );
    return { http, post, writing, releaseAll, started: () => started };
  }

  const settle = async (until: () => boolean) => {
    for (let i = 0; i < 200 && !until(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it("writes one at a time with maxConcurrentLarge 1 (the embedded store), the next once the first is done", async () => {
    const s = await serve(1);
    try {
      const answers = [s.post(), s.post(), s.post()];
      await settle(() => s.started() > 0);
      await new Promise((r) => setTimeout(r, 100)); // the others have their bodies by now
      assert.equal(s.started(), 1);
      s.writing.shift()!();
      await settle(() => s.started() > 1);
      assert.equal(s.started(), 2);
      s.writing.shift()!();
      await settle(() => s.started() > 2);
      s.writing.shift()!();
      assert.deepEqual(await Promise.all(answers), [200, 200, 200]);
    } finally {
      s.releaseAll();
      await s.http.drain(1000);
    }
  });

  it("writes two at once by default (PostgreSQL)", async () => {
    const s = await serve(undefined);
    try {
      const answers = [s.post(), s.post(), s.post()];
      await settle(() => s.started() > 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(s.started(), 2);
      while (s.started() < 3 || s.writing.length) {
        s.writing.shift()?.();
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(await Promise.all(answers), [200, 200, 200]);
    } finally {
      s.releaseAll();
      await s.http.drain(1000);
    }
  });
});
