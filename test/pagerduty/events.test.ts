import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { json, ts } from "../../src/db/sql.ts";
import {
  buildAckEvent,
  buildResolveEvent,
  buildTriggerEvent,
  DEDUP_KEY_MAX,
  dedupKeyFor,
  type EventsV2Body,
  incidentKeyForDedupKey,
  type PageableIncident,
  SUMMARY_MAX,
  sendEvent,
  truncateText,
} from "../../src/pagerduty/events.ts";
import {
  eventViolations,
  type FakePagerDuty,
  schemaSkipReason,
  startFakePagerDuty,
} from "../helpers/fake-pagerduty.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345";

function incident(over: Partial<PageableIncident> = {}): PageableIncident {
  return {
    key: "freshness:dataset:warehouse.orders:2026-03-01T06:00Z",
    kind: "freshness",
    subject: "warehouse.orders",
    summary: "warehouse.orders is 3 h 10 min old (SLA 2 h)",
    severity: "critical",
    groupName: "finance",
    details: { ageMinutes: 190, slaMinutes: 120 },
    routingKey: null,
    ...over,
  };
}

describe("building Events API v2 bodies", () => {
  it("maps an incident onto a trigger: source houston, component subject, group, class kind, details", () => {
    const at = new Date("2026-03-01T09:10:00Z");
    const body = buildTriggerEvent(incident(), {
      routingKey: ROUTING_KEY,
      timestamp: at,
      link: { href: "https://slack.example.com/archives/C1/p1", text: "Slack thread" },
      clientUrl: "https://houston.example.com",
    });
    assert.deepEqual(body, {
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: "freshness:dataset:warehouse.orders:2026-03-01T06:00Z",
      payload: {
        summary: "warehouse.orders is 3 h 10 min old (SLA 2 h)",
        source: "houston",
        severity: "critical",
        timestamp: "2026-03-01T09:10:00.000Z",
        component: "warehouse.orders",
        group: "finance",
        class: "freshness",
        custom_details: { ageMinutes: 190, slaMinutes: 120 },
      },
      client: "Houston",
      client_url: "https://houston.example.com",
      links: [{ href: "https://slack.example.com/archives/C1/p1", text: "Slack thread" }],
    });
  });

  it("gives trigger, acknowledge and resolve of one incident the same dedup_key and routing key", () => {
    const inc = incident({ routingKey: "GROUPKEY" });
    const bodies = [buildTriggerEvent(inc), buildAckEvent(inc), buildResolveEvent(inc)];
    assert.deepEqual(
      bodies.map((b) => b.event_action),
      ["trigger", "acknowledge", "resolve"],
    );
    assert.equal(new Set(bodies.map((b) => b.dedup_key)).size, 1);
    assert.deepEqual(
      bodies.map((b) => b.routing_key),
      ["GROUPKEY", "GROUPKEY", "GROUPKEY"],
    );
  });

  it("refuses to build an event without any routing key and says which variable to set", () => {
    assert.throws(() => buildTriggerEvent(incident()), /PAGERDUTY_ROUTING_KEY/);
  });

  it("cuts a long summary to 1,024 characters ending in an ellipsis, never splitting an emoji", () => {
    const long = buildTriggerEvent(incident({ summary: "x".repeat(5000) }), { routingKey: ROUTING_KEY });
    assert.equal(long.payload!.summary.length, SUMMARY_MAX);
    assert.ok(long.payload!.summary.endsWith("…"));
    const emoji = truncateText(`${"a".repeat(1022)}🚀🚀`, SUMMARY_MAX);
    assert.ok(emoji.length <= SUMMARY_MAX);
    assert.equal(emoji, `${"a".repeat(1022)}…`);
    assert.equal(truncateText("short", SUMMARY_MAX), "short");
  });

  it("keeps dedup keys within 255 bytes, stable, and distinct for long keys sharing a prefix", () => {
    const a = `${"k".repeat(300)}:a`;
    const b = `${"k".repeat(300)}:b`;
    assert.ok(Buffer.byteLength(dedupKeyFor(a)) <= DEDUP_KEY_MAX);
    assert.equal(dedupKeyFor(a), dedupKeyFor(a));
    assert.notEqual(dedupKeyFor(a), dedupKeyFor(b));
    assert.ok(dedupKeyFor(a).startsWith("kkkk"));
    const wide = "é".repeat(200); // 400 bytes, 200 characters
    assert.ok(Buffer.byteLength(dedupKeyFor(wide)) <= DEDUP_KEY_MAX);
    assert.equal(dedupKeyFor("short-key"), "short-key");
  });

  it("wraps details that are not an object so custom_details stays an object", () => {
    const body = buildTriggerEvent(incident({ details: [1, 2] }), { routingKey: ROUTING_KEY });
    assert.deepEqual(body.payload!.custom_details, { details: [1, 2] });
    const none = buildTriggerEvent(incident({ details: null, groupName: null }), { routingKey: ROUTING_KEY });
    assert.deepEqual(none.payload!.custom_details, {});
    assert.equal("group" in none.payload!, false);
  });

  it("builds only events that PagerDuty's OpenAPI schema and service limits accept", (t) => {
    const skip = schemaSkipReason();
    if (skip) t.diagnostic(`schema part skipped: ${skip}`);
    const variants: PageableIncident[] = [
      incident(),
      incident({ summary: "y".repeat(4000), key: "z".repeat(600), groupName: null }),
      incident({ summary: "  ", details: "free text", severity: "info" }),
      incident({ summary: "ünïcødé 🚨 ".repeat(200), key: "ключ-".repeat(80), severity: "warning" }),
      incident({ details: { nested: { deep: [1, "two", null] } }, severity: "error" }),
    ];
    for (const inc of variants) {
      const opts = {
        routingKey: ROUTING_KEY,
        timestamp: new Date("2026-03-01T00:00:00Z"),
        link: { href: "https://houston.example.com/i/1" },
      };
      for (const body of [
        buildTriggerEvent(inc, opts),
        buildAckEvent(inc, opts),
        buildResolveEvent(inc, opts),
      ]) {
        assert.deepEqual(eventViolations(body), [], JSON.stringify(body).slice(0, 200));
      }
    }
  });
});

describeEachStore("mapping a dedup key back to a Houston incident", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(async () => {
    await store.dispose();
  });

  it("finds the incident whose long key was hashed into the dedup key, and passes short keys through", async () => {
    const longKey = `missed:job:${"x".repeat(300)}:2026-03-01T02:00Z`;
    const other = `missed:job:${"x".repeat(300)}:2026-03-02T02:00Z`;
    for (const key of [longKey, other]) {
      await store.query(
        sql`INSERT INTO incidents (key, kind, subject_type, subject, severity, state, summary, details, opened_at, last_seen_at)
            VALUES (${key}, 'missed', 'job', 'x', 'error', 'triggered', 's', ${json({})}, ${ts(new Date())}, ${ts(new Date())})`,
      );
    }
    assert.equal(await incidentKeyForDedupKey(store, dedupKeyFor(longKey)), longKey);
    assert.equal(await incidentKeyForDedupKey(store, dedupKeyFor(other)), other);
    assert.equal(await incidentKeyForDedupKey(store, "plain-key"), "plain-key");
  });
});

describe("sending events with pdjs to a fake PagerDuty over TLS", () => {
  let fake: FakePagerDuty;
  const body = (): EventsV2Body => buildTriggerEvent(incident(), { routingKey: ROUTING_KEY });
  const opts = () => ({ server: fake.server, agent: fake.agent, timeoutMs: 2_000 });

  before(async () => {
    fake = await startFakePagerDuty();
  });
  beforeEach(() => fake.reset());
  after(async () => {
    assert.deepEqual(fake.violations, [], "every request must satisfy PagerDuty's schema");
    await fake.close();
  });

  it("reports a 202 as delivered with PagerDuty's answer", async () => {
    const r = await sendEvent(body(), opts());
    assert.deepEqual(r, {
      ok: true,
      result: { status: 202, message: "Event processed", dedup_key: body().dedup_key },
    });
    assert.deepEqual(fake.accepted, [body()]);
    assert.match(fake.requests[0]!.userAgent ?? "", /^pdjs\//);
  });

  it("reports a 400 as a permanent failure carrying PagerDuty's message", async () => {
    fake.script(400);
    const r = await sendEvent(body(), opts());
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.retry, false);
    assert.match(!r.ok ? r.error : "", /rejected the event \(400\): Event object is invalid.*scripted 400/);
  });

  it("reports a 429 as rate limited after exactly one request (pdjs's own retries are cut short)", async () => {
    fake.script(429, 202);
    const r = await sendEvent(body(), opts());
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.retry, true);
    assert.equal(!r.ok && r.rateLimited, true);
    assert.equal(fake.requests.length, 1, "pdjs must not retry by itself");
    assert.equal(fake.accepted.length, 0);
  });

  it("retries on 5xx, on a status the Events API never sends, on a non-JSON error page and on a timeout", async () => {
    fake.script(500, 503, 404, "not-json", "hang");
    for (const expected of [
      /answered 500/,
      /answered 503/,
      /answered 404/,
      /could not reach|invalid json/i,
      /no answer .* 300 ms/,
    ]) {
      const r = await sendEvent(body(), { ...opts(), timeoutMs: 300 });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.retry, true);
      assert.match(!r.ok ? r.error : "", expected);
    }
  });

  it("stops at once when the worker's signal aborts", async () => {
    fake.script("hang");
    const ac = new AbortController();
    const sent = sendEvent(body(), opts(), ac.signal);
    ac.abort();
    const r = await sent;
    assert.equal(!r.ok && r.retry, true);
  });

  it("does not trust the fake's self-signed certificate without the agent that carries its CA", async () => {
    const r = await sendEvent(body(), { server: fake.server, timeoutMs: 2_000 });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.retry, true);
    assert.match(!r.ok ? r.error : "", /could not reach PagerDuty.*(self-signed|certificate)/i);
    assert.equal(fake.accepted.length, 0);
  });

  it("refuses to send what PagerDuty would reject, without a request", async () => {
    const bad = { ...body(), dedup_key: "k".repeat(300) };
    const r = await sendEvent(bad, opts());
    assert.equal(!r.ok && r.retry, false);
    assert.match(!r.ok ? r.error : "", /dedup_key is longer than 255/);
    assert.equal(fake.requests.length, 0);
  });

  it("answers 400 to a body outside PagerDuty's schema, as PagerDuty would, and records the violation", async (t) => {
    const skip = schemaSkipReason();
    if (skip) return t.skip(skip);
    const typo = { ...body(), dedupe_key: "oops" } as unknown as EventsV2Body;
    const r = await sendEvent(typo, opts());
    assert.equal(!r.ok && r.retry, false);
    assert.equal(fake.violations.length, 1);
    assert.match(fake.violations[0]!.errors.join(" "), /additional properties/);
    fake.violations.length = 0;
  });
});
