import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import type { Store } from "../../src/db/client.ts";
import { json, ts } from "../../src/db/sql.ts";
import { createHttpServer, type HoustonServer } from "../../src/http/server.ts";
import { dedupKeyFor } from "../../src/pagerduty/events.ts";
import {
  type IncidentChange,
  parseWebhook,
  registerPagerDutyWebhook,
  signatureHeader,
  verifySignature,
  WEBHOOK_PATH,
} from "../../src/pagerduty/webhook.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { gate, logSink } from "../outbox/helpers.ts";

const SECRET = "whsec-current-0123456789abcdef";
const OLD_SECRET = "whsec-previous-fedcba9876543210";
const KEY = "freshness:dataset:warehouse.orders:2026-03-01T06:00Z";

/** A V3 webhook body shaped like PagerDuty's documented incident events. */
function v3(eventType: string, data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    event: {
      id: `01EVT${Math.random().toString(36).slice(2, 10).toUpperCase()}`,
      event_type: eventType,
      resource_type: "incident",
      occurred_at: "2026-03-01T09:15:42.169Z",
      agent: {
        html_url: "https://acme.pagerduty.com/users/PLH1HKV",
        id: "PLH1HKV",
        self: "https://api.pagerduty.com/users/PLH1HKV",
        summary: "Ada Lovelace",
        type: "user_reference",
      },
      client: { name: "PagerDuty" },
      data: {
        id: "PGR0VU2",
        type: "incident",
        self: "https://api.pagerduty.com/incidents/PGR0VU2",
        html_url: "https://acme.pagerduty.com/incidents/PGR0VU2",
        number: 42,
        status: eventType === "incident.resolved" ? "resolved" : "acknowledged",
        incident_key: KEY,
        created_at: "2026-03-01T09:10:00Z",
        title: "warehouse.orders is 3 h 10 min old",
        urgency: "high",
        resolve_reason: null,
        ...data,
      },
      ...extra,
    },
  };
}

describe("PagerDuty webhook signatures and payloads", () => {
  it("accepts any v1 signature made with any configured secret, and explains a refusal", () => {
    const body = '{"event":{}}';
    assert.equal(verifySignature(body, signatureHeader(body, [SECRET]), [SECRET]), "ok");
    assert.equal(verifySignature(body, signatureHeader(body, [OLD_SECRET, SECRET]), [SECRET]), "ok");
    assert.equal(verifySignature(body, signatureHeader(body, [OLD_SECRET]), [SECRET, OLD_SECRET]), "ok");
    assert.match(verifySignature(body, undefined, [SECRET]), /missing X-PagerDuty-Signature/);
    assert.match(verifySignature(body, "v0=abc", [SECRET]), /no v1= signature/);
    assert.match(verifySignature(body, signatureHeader("{}", [SECRET]), [SECRET]), /does not match/);
  });

  it("reads the key, the new state, who did it and when from a V3 incident event", () => {
    assert.deepEqual(parseWebhook(v3("incident.resolved", {}, { id: "E1", agent: null })), {
      kind: "change",
      eventId: "E1",
      eventType: "incident.resolved",
      dedupKey: KEY,
      state: "resolved",
      by: "PagerDuty",
      at: new Date("2026-03-01T09:15:42.169Z"),
    });
    assert.equal(parseWebhook(v3("incident.annotated")).kind, "ignored");
    assert.equal(parseWebhook({ messages: [] }).kind, "ignored");
  });

  it("refuses to start without a secret and names the variable to set", () => {
    const server = createHttpServer(logSink().log, async () => true);
    assert.throws(
      () =>
        registerPagerDutyWebhook(server, {
          store: {} as Store,
          secrets: [" "],
          onIncidentChange: async () => "updated",
          log: logSink().log,
        }),
      /PAGERDUTY_WEBHOOK_SECRET/,
    );
  });
});

describeEachStore("POST /webhooks/pagerduty", (kind) => {
  let store: TestStore;
  let http: HoustonServer;
  let url: string;
  let changes: IncidentChange[];
  let answer: (c: IncidentChange) => Promise<"updated" | "unknown">;
  let current: { store: Store };
  /** A store whose connection is gone, as when the database is down. */
  let closed: Store;

  before(async () => {
    // Opened before the server starts: a long pause between requests would outlast the
    // server's keep-alive and race fetch's connection reuse.
    const broken = await openTestStore(kind, { migrate: false });
    await broken.dispose();
    closed = broken;
    store = await openTestStore(kind);
    current = { store };
    http = createHttpServer(logSink().log, async () => true);
    const log = logSink().log;
    // The route reads the store through `current` so one test can swap in a broken one.
    const proxy = {
      get kind() {
        return current.store.kind;
      },
      query: (q: any, ex?: any) => current.store.query(q, ex),
    } as unknown as Store;
    registerPagerDutyWebhook(http, {
      store: proxy,
      secrets: [OLD_SECRET, SECRET],
      onIncidentChange: (c) => {
        changes.push(c);
        return answer(c);
      },
      log,
      processingTimeoutMs: 500,
    });
    await new Promise<void>((resolve) => http.server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}${WEBHOOK_PATH}`;
  });
  after(async () => {
    await http.drain();
    await store.dispose();
  });
  beforeEach(async () => {
    await store.query(sql`TRUNCATE webhook_deliveries, incidents`);
    changes = [];
    answer = async () => "updated";
    current.store = store;
  });

  async function post(body: unknown, headers: Record<string, string> = {}, sign: string[] | null = [SECRET]) {
    const raw = typeof body === "string" ? body : JSON.stringify(body);
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(sign ? { "x-pagerduty-signature": signatureHeader(raw, sign) } : {}),
        ...headers,
      },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  it("applies a correctly signed incident.acknowledged with the incident key and the user", async () => {
    const r = await post(v3("incident.acknowledged"), { "x-webhook-id": "wh-1" });
    assert.deepEqual(r, { status: 200, body: { status: "updated" } });
    assert.deepEqual(changes, [
      { key: KEY, state: "acknowledged", by: "Ada Lovelace", at: new Date("2026-03-01T09:15:42.169Z") },
    ]);
  });

  it("treats a second delivery with the same X-Webhook-Id as a no-op", async () => {
    const body = v3("incident.resolved");
    assert.equal((await post(body, { "x-webhook-id": "wh-dup" })).body.status, "updated");
    assert.deepEqual(await post(body, { "x-webhook-id": "wh-dup" }), {
      status: 200,
      body: { status: "duplicate" },
    });
    assert.equal(changes.length, 1);
    const rows = await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM webhook_deliveries`);
    assert.equal(rows[0]!.n, 1);
  });

  it("refuses a forged, missing or stale signature with 401 and a reason, and changes nothing", async () => {
    const forged = await post(v3("incident.resolved"), { "x-webhook-id": "wh-forged" }, ["not-our-secret"]);
    assert.equal(forged.status, 401);
    assert.match(forged.body.error, /signature does not match/);
    const missing = await post(v3("incident.resolved"), { "x-webhook-id": "wh-missing" }, null);
    assert.equal(missing.status, 401);
    assert.match(missing.body.error, /missing X-PagerDuty-Signature/);
    // Signed, then altered in transit.
    const raw = JSON.stringify(v3("incident.acknowledged"));
    const res = await fetch(url, {
      method: "POST",
      headers: { "x-pagerduty-signature": signatureHeader(raw, [SECRET]) },
      body: raw.replace("Ada Lovelace", "Mallory"),
    });
    assert.equal(res.status, 401);
    assert.equal(changes.length, 0);
    const rows = await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM webhook_deliveries`);
    assert.equal(rows[0]!.n, 0);
  });

  it("accepts a header carrying two v1 signatures during secret rotation, either secret alone too", async () => {
    const both = await post(v3("incident.acknowledged"), { "x-webhook-id": "wh-r1" }, [
      "retired-secret",
      SECRET,
    ]);
    assert.equal(both.status, 200);
    const old = await post(v3("incident.acknowledged"), { "x-webhook-id": "wh-r2" }, [OLD_SECRET]);
    assert.equal(old.status, 200);
    assert.equal(changes.length, 2);
  });

  it("answers 200 and ignores an incident Houston does not know", async () => {
    answer = async () => "unknown";
    const r = await post(v3("incident.resolved", { incident_key: "someone-elses-alert" }), {
      "x-webhook-id": "wh-u",
    });
    assert.deepEqual(r, { status: 200, body: { status: "ignored", reason: "unknown incident" } });
    assert.equal(changes[0]!.key, "someone-elses-alert");
  });

  it("answers 200 and ignores event types it does not act on, without calling back", async () => {
    for (const type of ["incident.annotated", "incident.triggered", "pagey.ping", "service.updated"]) {
      const r = await post(v3(type), { "x-webhook-id": `wh-${type}` });
      assert.equal(r.status, 200);
      assert.equal(r.body.status, "ignored");
    }
    assert.equal(changes.length, 0);
  });

  it("maps a hashed dedup key back to the Houston incident key", async () => {
    const longKey = `missed:job:${"x".repeat(300)}:2026-03-01T02:00Z`;
    await store.query(
      sql`INSERT INTO incidents (key, kind, subject_type, subject, severity, state, summary, details, opened_at, last_seen_at)
          VALUES (${longKey}, 'missed', 'job', 'x', 'error', 'triggered', 's', ${json({})}, ${ts(new Date())}, ${ts(new Date())})`,
    );
    await post(v3("incident.acknowledged", { incident_key: dedupKeyFor(longKey) }), {
      "x-webhook-id": "wh-long",
    });
    assert.equal(changes[0]!.key, longKey);
  });

  it("treats a replay of a signed webhook under a new X-Webhook-Id as a duplicate (the header is not signed)", async () => {
    const body = v3("incident.acknowledged", {}, { id: "01EVTREPLAYED" });
    assert.equal((await post(body, { "x-webhook-id": "wh-original" })).body.status, "updated");
    for (const headers of [{ "x-webhook-id": "wh-forged-new-id" }, {}] as Record<string, string>[]) {
      assert.deepEqual(await post(body, headers), { status: 200, body: { status: "duplicate" } });
    }
    assert.equal(changes.length, 1);
    const rows = await store.query<{ id: string }>(sql`SELECT id FROM webhook_deliveries`);
    assert.deepEqual(
      rows.map((r) => r.id),
      ["event:01EVTREPLAYED"],
    );
  });

  it("dedupes a signed webhook without an event id on its body, whatever X-Webhook-Id says", async () => {
    const { id: _, ...event } = v3("incident.resolved").event;
    const body = { event };
    assert.equal((await post(body, { "x-webhook-id": "wh-a" })).body.status, "updated");
    assert.equal((await post(body, { "x-webhook-id": "wh-b" })).body.status, "duplicate");
    // Another change (another body) is applied.
    const other = { event: { ...event, occurred_at: "2026-03-01T09:20:00Z" } };
    assert.equal((await post(other, { "x-webhook-id": "wh-a" })).body.status, "updated");
    assert.equal(changes.length, 2);
  });

  it("answers 5xx when the change fails, without recording the delivery, so PagerDuty's retry applies it", async () => {
    let calls = 0;
    answer = async () => {
      calls++;
      if (calls === 1) throw new Error("connection terminated unexpectedly");
      return "updated";
    };
    const body = v3("incident.acknowledged");
    const first = await post(body, { "x-webhook-id": "wh-retry" });
    assert.equal(first.status, 503);
    assert.match(first.body.error, /retry later/);
    const second = await post(body, { "x-webhook-id": "wh-retry" });
    assert.deepEqual(second, { status: 200, body: { status: "updated" } });
    assert.equal(changes.length, 2);
  });

  it("answers 5xx when the database is unreachable", async () => {
    current.store = closed;
    const r = await post(v3("incident.acknowledged"), { "x-webhook-id": "wh-db-down" });
    assert.equal(r.status, 503);
    assert.equal(changes.length, 0);
  });

  it("answers 503 rather than let PagerDuty time out when applying the change is slow", async () => {
    const release = gate<"updated">();
    answer = () => release.promise;
    const r = await post(v3("incident.acknowledged"), { "x-webhook-id": "wh-slow" });
    assert.equal(r.status, 503);
    release.open("updated");
  });

  it("refuses a body over 1 MB with 413", async () => {
    const big = JSON.stringify({ event: { pad: "x".repeat(1024 * 1024) } });
    const res = await fetch(url, {
      method: "POST",
      headers: { "x-pagerduty-signature": "v1=00" },
      body: big,
    });
    assert.equal(res.status, 413);
  });
});
