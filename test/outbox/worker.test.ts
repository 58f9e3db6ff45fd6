import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { openStore, type Store } from "../../src/db/client.ts";
import { backoffMs, TokenBuckets } from "../../src/outbox/backoff.ts";
import type { OutboxMessage } from "../../src/outbox/enqueue.ts";
import {
  type Handler,
  type HandlerResult,
  OutboxWorker,
  type OutboxWorkerOptions,
} from "../../src/outbox/worker.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { type Clock, enqueueAt, fakeClock, gate, type LogSink, logSink, outboxRows } from "./helpers.ts";

const pd = (key: string, n: number, routingKey = "RK1"): OutboxMessage => ({
  target: "pagerduty",
  orderingKey: key,
  payload: { routing_key: routingKey, event_action: "trigger", dedup_key: key, n },
});

describe("backoff and token buckets", () => {
  it("doubles the wait from 5 s up to a 10 minute cap, with half of each step random", () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffMs(a, {}, () => 0)),
      [2_500, 5_000, 10_000, 20_000],
    );
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffMs(a, {}, () => 1)),
      [5_000, 10_000, 20_000, 40_000],
    );
    assert.equal(
      backoffMs(50, {}, () => 1),
      600_000,
    );
    assert.equal(
      backoffMs(50, {}, () => 0),
      300_000,
    );
  });

  it("spends a burst at once, then one token per 1/rate, and a block empties the bucket until it ends", () => {
    const b = new TokenBuckets({ perMinute: 120, burst: 2 });
    assert.equal(b.take("k", 0), 0);
    assert.equal(b.take("k", 0), 0);
    assert.equal(b.take("k", 0), 500, "120/min is one every 500 ms");
    assert.equal(b.take("other", 0), 0, "keys are independent");
    assert.equal(b.take("k", 500), 0);
    b.block("k", 1_000, 31_000);
    assert.equal(b.take("k", 1_000), 30_000);
    assert.equal(b.take("k", 31_000), 500);
    assert.equal(b.take("k", 31_500), 0);
  });
});

describeEachStore("the outbox worker", (kind) => {
  let store: TestStore;
  let clock: Clock;
  let sink: LogSink;
  const workers: OutboxWorker[] = [];

  const worker = (handlers: OutboxWorkerOptions["handlers"], extra: Partial<OutboxWorkerOptions> = {}) => {
    const w = new OutboxWorker({
      store,
      handlers,
      log: sink.log,
      now: clock.now,
      replicaId: `test-${workers.length}`,
      random: () => 0.5,
      ...extra,
    });
    workers.push(w);
    return w;
  };
  /** A handler that records what it was given and answers from a function. */
  const recorder = (answer: (payload: any, attempt: number) => HandlerResult = () => ({ ok: true })) => {
    const seen: { n: number; key: string; attempt: number }[] = [];
    const handler: Handler = async (payload: any, ctx) => {
      seen.push({ n: payload.n, key: ctx.orderingKey, attempt: ctx.attempt });
      return answer(payload, ctx.attempt);
    };
    return { seen, handler };
  };

  // One migrated store for the suite (opening one per test is slow); each test starts from
  // an empty outbox.
  before(async () => {
    store = await openTestStore(kind);
  });
  after(async () => {
    await store.dispose();
  });
  beforeEach(async () => {
    await store.query(sql`TRUNCATE outbox`);
    clock = fakeClock();
    sink = logSink();
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop(1_000);
  });

  it("delivers one message per key at a time, in id order, different keys side by side", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1), pd("a", 2), pd("b", 1), pd("a", 3)]);
    const { seen, handler } = recorder();
    const w = worker({ pagerduty: handler });
    assert.equal((await w.drainOnce(10)).delivered, 2);
    assert.deepEqual(seen.map((s) => `${s.key}${s.n}`).sort(), ["a1", "b1"]);
    await w.drainOnce(10);
    await w.drainOnce(10);
    assert.deepEqual(
      seen.map((s) => `${s.key}${s.n}`),
      ["a1", "b1", "a2", "a3"],
    );
    assert.equal((await w.drainOnce(10)).claimed, 0);
    const rows = await outboxRows(store);
    assert.ok(rows.every((r) => r.state === "delivered" && r.attempts === 1 && r.delivered_at));
  });

  it("holds a key's later messages while the first is retrying and releases them once it fails for good", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1), pd("a", 2)]);
    const { seen, handler } = recorder((p, attempt) =>
      p.n === 1
        ? attempt < 3
          ? { ok: false, retry: true, error: "PagerDuty answered 500" }
          : { ok: false, retry: false, error: "PagerDuty rejected the event (400): bad" }
        : { ok: true },
    );
    const w = worker({ pagerduty: handler });
    for (let i = 0; i < 20; i++) {
      await w.drainOnce(10);
      clock.advance(5_000);
    }
    assert.deepEqual(
      seen.map((s) => `${s.n}@${s.attempt}`),
      ["1@1", "1@2", "1@3", "2@1"],
    );
    const [first, second] = await outboxRows(store);
    assert.equal(first!.state, "failed");
    assert.equal(first!.last_error, "PagerDuty rejected the event (400): bad");
    assert.equal(second!.state, "delivered");
  });

  it("keeps Slack messages flowing while PagerDuty retries messages with the same ordering key", async () => {
    await enqueueAt(store, clock.now(), [
      pd("incident-1", 1),
      { target: "slack", orderingKey: "incident-1", payload: { n: 1 } },
    ]);
    const slack = recorder();
    const w = worker({
      pagerduty: async () => ({ ok: false, retry: true, error: "down" }),
      slack: slack.handler,
    });
    await w.drainOnce(10);
    assert.deepEqual(slack.seen.length, 1);
  });

  it("retries with exponential backoff, records the last error, and honours a longer Retry-After", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1)]);
    const answers: HandlerResult[] = [
      { ok: false, retry: true, error: "PagerDuty answered 500" },
      { ok: false, retry: true, error: "PagerDuty answered 502" },
      { ok: false, retry: true, error: "PagerDuty answered 429", retryAfterMs: 60_000 },
    ];
    const w = worker({ pagerduty: async () => answers.shift() ?? { ok: true } });
    const start = clock.ms();
    const dueTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      await w.drainOnce(10);
      const [row] = await outboxRows(store);
      dueTimes.push(row!.next_attempt_at.getTime() - clock.ms());
      clock.advance(row!.next_attempt_at.getTime() - clock.ms());
    }
    // random() = 0.5: 3/4 of each step (5 s, 10 s), then Retry-After's 60 s beats 15 s.
    assert.deepEqual(dueTimes, [3_750, 7_500, 60_000]);
    const [row] = await outboxRows(store);
    assert.equal(row!.last_error, "PagerDuty answered 429");
    assert.equal(row!.attempts, 3);
    // Not due a millisecond early.
    clock.advance(-1);
    assert.equal((await w.drainOnce(10)).claimed, 0);
    clock.advance(1);
    assert.equal((await w.drainOnce(10)).delivered, 1);
    assert.ok(clock.ms() - start > 70_000);
  });

  it("records a permanent failure as failed with the message, logs it as an error, and never retries it", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1)]);
    const { seen, handler } = recorder(() => ({
      ok: false,
      retry: false,
      error: "PagerDuty rejected the event (400): Event object is invalid",
    }));
    const w = worker({ pagerduty: handler });
    assert.equal((await w.drainOnce(10)).failed, 1);
    clock.advance(3_600_000);
    assert.equal((await w.drainOnce(10)).claimed, 0);
    assert.equal(seen.length, 1);
    const [row] = await outboxRows(store);
    assert.equal(row!.state, "failed");
    assert.equal(row!.last_error, "PagerDuty rejected the event (400): Event object is invalid");
    const errors = sink.lines().filter((l) => l.level >= 50);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /failed permanently/);
    assert.equal(errors[0]!["error"], "PagerDuty rejected the event (400): Event object is invalid");
  });

  it("gives up on a message that is still failing a day after it was enqueued", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1)]);
    const w = worker(
      { pagerduty: async () => ({ ok: false, retry: true, error: "PagerDuty answered 503" }) },
      { giveUpAfterMs: 3_600_000 },
    );
    for (let i = 0; i < 30; i++) {
      await w.drainOnce(10);
      clock.advance(300_000);
    }
    const [row] = await outboxRows(store);
    assert.equal(row!.state, "failed");
    assert.match(row!.last_error ?? "", /^gave up after \d+ attempts over \d+ min: PagerDuty answered 503$/);
  });

  it("treats a handler that throws as a transient failure", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1)]);
    let calls = 0;
    const w = worker({
      pagerduty: async () => {
        calls++;
        if (calls === 1) throw new Error("boom");
        return { ok: true };
      },
    });
    assert.equal((await w.drainOnce(10)).retried, 1);
    assert.match((await outboxRows(store))[0]!.last_error ?? "", /handler threw: boom/);
    clock.advance(10_000);
    assert.equal((await w.drainOnce(10)).delivered, 1);
  });

  it("leaves messages for a target it has no handler for to a worker that has one", async () => {
    await enqueueAt(store, clock.now(), [
      { target: "slack", orderingKey: "c", payload: { n: 1 } },
      pd("a", 1),
    ]);
    const w = worker({ pagerduty: recorder().handler });
    assert.equal((await w.drainOnce(10)).claimed, 1);
    const slack = recorder();
    assert.equal((await worker({ slack: slack.handler }).drainOnce(10)).delivered, 1);
    assert.equal(slack.seen.length, 1);
  });

  it("loses nothing when a worker dies mid-delivery: after the lease another worker delivers it once", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1), pd("a", 2)]);
    // Worker A claims message 1 and hangs (as if its process died after the claim).
    const stuck = gate<HandlerResult>();
    const claimedByA = gate();
    const a = worker(
      {
        pagerduty: async () => {
          claimedByA.open();
          return stuck.promise;
        },
      },
      { leaseMs: 60_000 },
    );
    const aDrain = a.drainOnce(10);
    await claimedByA.promise;
    const { seen, handler } = recorder();
    const b = worker({ pagerduty: handler }, { leaseMs: 60_000 });
    assert.equal((await b.drainOnce(10)).claimed, 0, "the lease holds it, and message 2 waits behind it");
    clock.advance(60_001);
    await b.drainOnce(10);
    await b.drainOnce(10);
    assert.deepEqual(
      seen.map((s) => `${s.n}@${s.attempt}`),
      ["1@2", "2@1"],
    );
    // A comes back late and claims success: the newer outcome stands.
    stuck.open({ ok: true, result: { from: "A" } });
    assert.deepEqual(await aDrain, {
      claimed: 1,
      delivered: 0,
      retried: 0,
      failed: 0,
      deferred: 0,
      unrecorded: 1,
    });
    const rows = await outboxRows(store);
    assert.deepEqual(
      rows.map((r) => [r.state, r.attempts, r.result]),
      [
        ["delivered", 2, null],
        ["delivered", 1, null],
      ],
    );
    assert.ok(sink.lines().some((l) => /lease lost/.test(l.msg)));
  });

  it("defers rather than drops when a routing key's rate is spent, without counting an attempt", async () => {
    const keys = ["a", "b", "c", "d", "e"];
    await enqueueAt(
      store,
      clock.now(),
      keys.map((k) => pd(k, 1)),
    );
    const { seen, handler } = recorder();
    const w = worker(
      { pagerduty: handler },
      {
        rateLimits: {
          pagerduty: { perMinute: 6, burst: 2, key: (p) => (p as { routing_key: string }).routing_key },
        },
      },
    );
    const first = await w.drainOnce(10);
    assert.equal(first.delivered, 2);
    assert.equal(first.deferred, 3);
    const waiting = (await outboxRows(store)).filter((r) => r.state === "pending");
    assert.ok(waiting.every((r) => r.attempts === 0 && r.next_attempt_at.getTime() === clock.ms() + 10_000));
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      await w.drainOnce(10);
    }
    assert.equal(seen.length, 5);
    assert.ok((await outboxRows(store)).every((r) => r.state === "delivered" && r.attempts === 1));
  });

  it("pauses a routing key after a 429 so its other messages wait instead of adding to the flood", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1), pd("b", 1, "RK1"), pd("c", 1, "RK2")]);
    let first = true;
    const { seen, handler } = recorder(() => {
      if (first) {
        first = false;
        return { ok: false, retry: true, rateLimited: true, error: "PagerDuty answered 429" };
      }
      return { ok: true };
    });
    const w = worker({ pagerduty: handler }, { concurrency: 1 });
    const r = await w.drainOnce(10);
    assert.deepEqual([r.retried, r.deferred, r.delivered], [1, 1, 1]);
    assert.deepEqual(
      seen.map((s) => s.key),
      ["a", "c"],
      "c has another routing key and goes",
    );
    const [a, b] = await outboxRows(store);
    assert.equal(a!.next_attempt_at.getTime(), clock.ms() + 3_750, "a waits out its own backoff");
    assert.equal(b!.next_attempt_at.getTime(), clock.ms() + 5_000, "RK1 pauses for one base step");
    assert.equal(b!.attempts, 0);
  });

  it("reports pending count, oldest pending age and failures of the last 24 hours", async () => {
    const w = worker({ pagerduty: async () => ({ ok: false, retry: false, error: "bad routing key" }) });
    assert.deepEqual(await w.status(), {
      pending: 0,
      oldestPendingAt: null,
      oldestPendingAgeMs: null,
      failedLast24h: 0,
      lastFailure: null,
    });
    await enqueueAt(store, new Date(clock.ms() - 2 * 86_400_000), [pd("old", 1)]);
    await w.drainOnce(10); // fails now
    await enqueueAt(store, new Date(clock.ms() - 90_000), [
      { target: "slack", orderingKey: "s", payload: {} },
    ]);
    await enqueueAt(store, new Date(clock.ms() - 30_000), [
      { target: "slack", orderingKey: "t", payload: {} },
    ]);
    const s = await w.status();
    assert.equal(s.pending, 2);
    assert.equal(s.oldestPendingAgeMs, 90_000);
    assert.equal(s.failedLast24h, 1);
    assert.equal(s.lastFailure?.error, "bad routing key");
    clock.advance(86_400_001);
    assert.equal((await w.status()).failedLast24h, 0);
  });

  it("delivers in the background after start() and stop() waits for the delivery in flight", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1)]);
    const started = gate();
    const release = gate();
    const w = worker({
      pagerduty: async () => {
        started.open();
        await release.promise;
        return { ok: true };
      },
    });
    w.start(10);
    await started.promise;
    const stopping = w.stop(5_000);
    release.open();
    await stopping;
    assert.equal((await outboxRows(store))[0]!.state, "delivered");
  });

  it("stop() aborts a delivery that outlasts the grace period; the message stays pending for a retry", async () => {
    await enqueueAt(store, clock.now(), [pd("a", 1)]);
    const started = gate();
    const w = worker({
      pagerduty: (_p, ctx) => {
        started.open();
        return new Promise((resolve) =>
          ctx.signal.addEventListener("abort", () => resolve({ ok: false, retry: true, error: "aborted" })),
        );
      },
    });
    w.start(10);
    await started.promise;
    await w.stop(50);
    const [row] = await outboxRows(store);
    assert.equal(row!.state, "pending");
    assert.equal(row!.last_error, "aborted");
  });

  it("wake() drains at once instead of waiting for the next tick", { timeout: 20_000 }, async () => {
    const delivered = gate();
    const w = worker({
      pagerduty: async () => {
        delivered.open();
        return { ok: true };
      },
    });
    w.start(3_600_000);
    await enqueueAt(store, clock.now(), [pd("a", 1)]);
    // Whether the first tick already ran, is running or is still to come, the message goes
    // now rather than in an hour.
    w.wake();
    await delivered.promise;
  });

  it("never delivers a message twice, nor two of one key at once, when workers race", async () => {
    const replicas = kind === "postgres" ? 3 : 2;
    const messages: OutboxMessage[] = [];
    for (let n = 1; n <= 12; n++) for (const k of ["k1", "k2", "k3", "k4", "k5"]) messages.push(pd(k, n));
    await enqueueAt(store, clock.now(), messages);
    // On PostgreSQL each worker has its own connection pool, like a separate replica.
    const stores: Store[] = [store];
    for (let i = 1; i < replicas; i++) {
      stores.push(
        kind === "postgres" ? await openStore({ databaseUrl: store.url!, maxConnections: 3 }) : store,
      );
    }
    const deliveries: string[] = [];
    const inFlight = new Set<string>();
    let overlaps = 0;
    const handler: Handler = async (payload: any, ctx) => {
      if (inFlight.has(ctx.orderingKey)) overlaps++;
      inFlight.add(ctx.orderingKey);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      inFlight.delete(ctx.orderingKey);
      deliveries.push(`${ctx.orderingKey}:${payload.n}`);
      return { ok: true };
    };
    const racers = stores.map((s, i) =>
      worker({ pagerduty: handler }, { store: s, replicaId: `racer-${i}`, rateLimits: { pagerduty: null } }),
    );
    try {
      for (let round = 0; round < 200 && deliveries.length < messages.length; round++) {
        await Promise.all(racers.map((r) => r.drainOnce(4)));
      }
    } finally {
      for (const s of stores.slice(1)) if (s !== store) await s.close();
    }
    assert.equal(deliveries.length, messages.length);
    assert.equal(new Set(deliveries).size, messages.length, "no message delivered twice");
    assert.equal(overlaps, 0, "no two messages of one key in flight at once");
    for (const k of ["k1", "k2", "k3", "k4", "k5"]) {
      const order = deliveries.filter((d) => d.startsWith(`${k}:`)).map((d) => Number(d.split(":")[1]));
      assert.deepEqual(
        order,
        [...order].sort((x, y) => x - y),
        `${k} in order`,
      );
    }
    const rows = await outboxRows(store);
    assert.ok(rows.every((r) => r.state === "delivered" && r.attempts === 1));
  });
});
