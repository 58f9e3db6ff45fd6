// One JSON log line per HTTP request, tied to the caller by a correlation id that is echoed
// back in X-Request-Id; probes stay out of the info log; secrets in headers never appear.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { startTestApp, TEST_TOKEN, type TestApp } from "../helpers/app.ts";
import { describeEachStore } from "../helpers/store.ts";

describeEachStore("request logs", (kind) => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(kind);
  });
  after(async () => {
    await t.close();
  });

  const requestLines = () =>
    t.logs.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l["msg"] === "request");

  it("logs one line per request with method, path, status, ms and the caller's X-Request-Id, echoed back", async () => {
    const before = requestLines().length;
    const res = await fetch(`${t.url}/api/v1/events?dry=1`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        "content-type": "application/json",
        "x-request-id": "lb-7f3a.42",
      },
      body: JSON.stringify({
        type: "run",
        job: "logged_job",
        status: "success",
        started_at: "2026-11-22T08:00:00Z",
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-request-id"), "lb-7f3a.42");
    const lines = requestLines().slice(before);
    assert.equal(lines.length, 1);
    const l = lines[0]!;
    assert.equal(l["requestId"], "lb-7f3a.42");
    assert.equal(l["method"], "POST");
    assert.equal(l["path"], "/api/v1/events");
    assert.equal(l["status"], 200);
    assert.equal(typeof l["ms"], "number");
    assert.equal(l["level"], 30);
    assert.ok(!JSON.stringify(t.logs).includes(TEST_TOKEN), "the bearer token is not logged");
  });

  it("makes up a correlation id when the caller sent none or an unusable one", async () => {
    const a = await fetch(`${t.url}/nope`);
    const id = a.headers.get("x-request-id") ?? "";
    assert.match(id, /^[0-9a-f-]{36}$/);
    const b = await fetch(`${t.url}/nope`, { headers: { "x-request-id": "two words; and more" } });
    const other = b.headers.get("x-request-id") ?? "";
    assert.match(other, /^[0-9a-f-]{36}$/);
    assert.notEqual(other, id);
    const lines = requestLines();
    assert.ok(lines.some((l) => l["requestId"] === id && l["status"] === 404));
    assert.ok(lines.some((l) => l["requestId"] === other && l["status"] === 404));
  });

  it("keeps health probes and scrapes out of the info log", async () => {
    const before = requestLines().length;
    for (const p of ["/healthz", "/readyz", "/metrics"]) assert.equal((await fetch(t.url + p)).status, 200);
    assert.equal(requestLines().length, before);
  });
});
