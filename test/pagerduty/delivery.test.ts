// The outbox worker delivering real pdjs requests to the fake PagerDuty, driven by a fake
// clock: flaky answers, permanent refusals and crashes, end to end.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, it } from "node:test";
import { sql } from "drizzle-orm";
import type { OutboxMessage } from "../../src/outbox/enqueue.ts";
import { type Handler, OutboxWorker, type OutboxWorkerOptions } from "../../src/outbox/worker.ts";
import {
  buildAckEvent,
  buildResolveEvent,
  buildTriggerEvent,
  createPagerDutyHandler,
  type EventsV2Body,
  type PageableIncident,
} from "../../src/pagerduty/events.ts";
import { type FakePagerDuty, startFakePagerDuty } from "../helpers/fake-pagerduty.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import {
  type Clock,
  enqueueAt,
  fakeClock,
  gate,
  type LogSink,
  logSink,
  outboxRows,
} from "../outbox/helpers.ts";

const ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345";

const incident = (key: string, summary = `breach ${key}`): PageableIncident => ({
  key,
  kind: "failure_streak",
  subject: `job.${key}`,
  summary,
  severity: "error",
  groupName: "data-platform",
  details: { streak: 3 },
  routingKey: null,
});

const message = (body: EventsV2Body): OutboxMessage => ({
  target: "pagerduty",
  orderingKey: `pagerduty:${body.dedup_key}`,
  payload: body,
});

/** JSON with sorted keys: jsonb does not keep key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}

describeEachStore("delivering PagerDuty events through the outbox", (kind) => {
  let store: TestStore;
  let fake: FakePagerDuty;
  let clock: Clock;
  let sink: LogSink;
  const workers: OutboxWorker[] = [];

  const worker = (handler?: Handler, extra: Partial<OutboxWorkerOptions> = {}) => {
    const w = new OutboxWorker({
      store,
      handlers: {
        pagerduty:
          handler ?? createPagerDutyHandler({ server: fake.server, agent: fake.agent, timeoutMs: 5_000 }),
      },
      log: sink.log,
      now: clock.now,
      replicaId: `pd-${workers.length}`,
      random: () => 0.5,
      ...extra,
    });
    workers.push(w);
    return w;
  };

  before(async () => {
    store = await openTestStore(kind);
    fake = await startFakePagerDuty();
  });
  after(async () => {
    await fake.close();
    await store.dispose();
  });
  beforeEach(async () => {
    await store.query(sql`TRUNCATE outbox`);
    fake.reset();
    clock = fakeClock();
    sink = logSink();
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop(1_000);
    assert.deepEqual(fake.violations, [], "every request must satisfy PagerDuty's schema and limits");
  });

  it("delivers every event once, in order per dedup key, through ten minutes of 500, 429, 202", async () => {
    // Three incidents, ten events each: a trigger, re-triggers with new details, an
    // acknowledge and a resolve, enqueued interleaved.
    const bodies: EventsV2Body[] = [];
    for (let step = 0; step < 10; step++) {
      for (const key of ["orders-late", "payments-failing", "ledger-stale"]) {
        const inc = incident(key);
        const opts = { routingKey: ROUTING_KEY, timestamp: new Date(clock.ms() + step * 1_000) };
        if (step < 8) {
          const body = buildTriggerEvent({ ...inc, details: { streak: 3 + step } }, opts);
          bodies.push(body);
        } else bodies.push(step === 8 ? buildAckEvent(inc, opts) : buildResolveEvent(inc, opts));
      }
    }
    await enqueueAt(store, clock.now(), bodies.map(message));
    // Each event is refused with a 500, then throttled with a 429, then accepted.
    const script = [500, 429, 202] as const;
    const tries = new Map<string, number>();
    fake.respond = (body) => {
      const id = canonical(body);
      const n = tries.get(id) ?? 0;
      tries.set(id, n + 1);
      return script[Math.min(n, script.length - 1)]!;
    };

    const w = worker();
    for (let t = 0; t <= 600_000; t += 1_000) {
      await w.drainOnce(50);
      clock.advance(1_000);
    }

    assert.equal(fake.accepted.length, bodies.length, "every event accepted");
    for (const key of ["orders-late", "payments-failing", "ledger-stale"]) {
      assert.deepEqual(
        fake.accepted.filter((b) => b.dedup_key === key),
        bodies.filter((b) => b.dedup_key === key),
        `${key}: each event once, in enqueue order`,
      );
    }
    for (const body of bodies) {
      assert.deepEqual(
        fake.requests.filter((r) => canonical(r.body) === canonical(body)).map((r) => r.answer),
        [500, 429, 202],
        "three tries each, none after the 202",
      );
    }
    const rows = await outboxRows(store);
    assert.ok(rows.every((r) => r.state === "delivered" && r.attempts === 3));
  });

  it("records a 400 as failed with PagerDuty's message and never sends it again", async () => {
    const body = buildTriggerEvent(incident("bad"), { routingKey: ROUTING_KEY });
    await enqueueAt(store, clock.now(), [message(body)]);
    fake.script(400);
    const w = worker();
    assert.equal((await w.drainOnce()).failed, 1);
    clock.advance(3_600_000);
    assert.equal((await w.drainOnce()).claimed, 0);
    assert.equal(fake.requests.length, 1);
    const [row] = await outboxRows(store);
    assert.equal(row!.state, "failed");
    assert.match(row!.last_error ?? "", /PagerDuty rejected the event \(400\): Event object is invalid/);
    assert.ok(sink.lines().some((l) => l.level === 50 && /failed permanently/.test(l.msg)));
  });

  it("re-sends an event whose sender died after PagerDuty accepted it: same dedup_key twice, delivered once", async () => {
    const body = buildTriggerEvent(incident("crash-after-send"), { routingKey: ROUTING_KEY });
    await enqueueAt(store, clock.now(), [message(body)]);
    const send = createPagerDutyHandler({ server: fake.server, agent: fake.agent });
    const sent = gate();
    // Worker A sends, then "dies" before it can mark the row delivered: it only comes back
    // when the test stops it, long after its lease.
    const a = worker(async (payload, ctx) => {
      await send(payload, ctx);
      sent.open();
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      return { ok: true };
    });
    const aDrain = a.drainOnce();
    await sent.promise;
    assert.equal(fake.accepted.length, 1);
    // A new worker (a restarted replica) picks it up once the lease has run out.
    clock.advance(60_001);
    assert.equal((await worker().drainOnce()).delivered, 1);
    assert.equal(fake.accepted.length, 2, "at least once to the network");
    assert.deepEqual(fake.accepted[0], fake.accepted[1], "PagerDuty de-duplicates it on dedup_key");
    // A's late "delivered" is fenced off: the newer claim's outcome stands.
    await a.stop(0);
    assert.equal((await aDrain).unrecorded, 1);
    const rows = await outboxRows(store);
    assert.deepEqual(
      rows.map((r) => [r.state, r.attempts]),
      [["delivered", 2]],
    );
  });

  it("delivers once when a worker is killed mid-request and another takes over after the lease", async () => {
    const own = await startFakePagerDuty();
    try {
      const body = buildTriggerEvent(incident("killed-mid-request"), { routingKey: ROUTING_KEY });
      await enqueueAt(store, clock.now(), [message(body)]);
      own.script("hang");
      const handler = createPagerDutyHandler({ server: own.server, agent: own.agent, timeoutMs: 120_000 });
      const a = worker(handler);
      const aDrain = a.drainOnce();
      await own.waitForRequests(1);
      clock.advance(60_001);
      assert.equal((await worker(handler).drainOnce()).delivered, 1);
      // The first request finally fails (its connection drops); its outcome is discarded.
      await own.close();
      const late = await aDrain;
      assert.equal(late.unrecorded, 1);
      assert.equal(own.accepted.length, 1);
      assert.deepEqual(own.violations, []);
      const [row] = await outboxRows(store);
      assert.equal(row!.state, "delivered");
    } finally {
      await own.close();
    }
  });
});
