// Slow or many clients can neither starve ingest nor push memory up: a body must arrive
// within HOUSTON_BODY_TIMEOUT (else 408), the two-request gate is taken only once a body has
// arrived (three stalled uploads once held it for 65 s), and bodies held in memory at once
// are bounded by HOUSTON_BODY_MEMORY_BYTES (beyond it, 503 with Retry-After).
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, afterEach, before, it } from "node:test";
import { startTestApp, TEST_TOKEN, type TestApp } from "../helpers/app.ts";
import { describeEachStore } from "../helpers/store.ts";

/** n valid run events as a JSON array, padded with spaces to exactly `bytes` when given. */
function batch(n: number, job: string, bytes?: number): string {
  const text = JSON.stringify(
    Array.from({ length: n }, (_, i) => ({
      type: "run",
      id: `${job}-${i}`,
      job,
      run_id: `r-${i}`,
      status: "success",
      started_at: "2026-11-21T02:00:00Z",
      ended_at: "2026-11-21T02:01:00Z",
    })),
  );
  if (bytes === undefined) return text;
  assert.ok(text.length <= bytes, `${text.length} > ${bytes}`);
  return text + " ".repeat(bytes - text.length);
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** ms from the request's start to the whole response. */
  ms: number;
}

/** A hand-driven HTTP/1.1 request: headers now, the body in whatever pieces the test sends. */
class RawRequest {
  readonly socket: Socket;
  readonly response: Promise<RawResponse>;
  private readonly started = performance.now();

  constructor(port: number, head: Record<string, string>) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.on("error", () => {});
    let data = "";
    this.response = new Promise((resolve, reject) => {
      const done = () => {
        const end = data.indexOf("\r\n\r\n");
        if (end < 0) return false;
        const [statusLine, ...lines] = data.slice(0, end).split("\r\n");
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
        );
        const body = data.slice(end + 4);
        if (body.length < Number(headers["content-length"] ?? 0)) return false;
        resolve({
          status: Number(statusLine!.split(" ")[1]),
          headers,
          body,
          ms: performance.now() - this.started,
        });
        return true;
      };
      this.socket.setEncoding("utf8");
      this.socket.on("data", (d: string) => {
        data += d;
        done();
      });
      this.socket.on("close", () => {
        if (!done()) reject(new Error(`connection closed without a response: ${JSON.stringify(data)}`));
      });
    });
    this.response.catch(() => {});
    const lines = Object.entries({
      host: "houston",
      authorization: `Bearer ${TEST_TOKEN}`,
      "content-type": "application/json",
      ...head,
    }).map(([k, v]) => `${k}: ${v}`);
    this.socket.write(`POST /api/v1/events HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** One chunk of a chunked body. */
  chunk(text: string): void {
    this.socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Lets the server read what was just written (loopback: well within this). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describeEachStore("slow clients", (kind) => {
  const open: RawRequest[] = [];
  const request = (t: TestApp, head: Record<string, string>) => {
    const r = new RawRequest(Number(new URL(t.url).port), head);
    open.push(r);
    return r;
  };
  afterEach(() => {
    for (const r of open.splice(0)) r.close();
  });

  let t: TestApp;
  before(async () => {
    t = await startTestApp(kind, {
      HOUSTON_BODY_TIMEOUT: "1s",
      HOUSTON_MAX_BODY_BYTES: "100000",
      HOUSTON_BODY_MEMORY_BYTES: "150000",
    });
  });
  after(async () => {
    await t.close();
  });

  it("answers 408 and closes the connection when a body has not arrived within HOUSTON_BODY_TIMEOUT", async () => {
    const slow = request(t, { "transfer-encoding": "chunked" });
    slow.chunk('[{"type": "run", ');
    const res = await slow.response;
    assert.equal(res.status, 408);
    assert.match(JSON.parse(res.body).error, /HOUSTON_BODY_TIMEOUT/);
    assert.equal(res.headers["connection"], "close");
    assert.ok(res.ms >= 900 && res.ms < 5_000, `answered after ${Math.round(res.ms)} ms`);
  });

  it("refuses bodies beyond the memory budget with 503 and Retry-After, and takes them once it frees", async () => {
    // 90 kB declared, 80 kB sent and held: 70 kB of the 150 kB budget left.
    const held = request(t, { "content-length": "90000" });
    const heldBody = batch(50, "held", 90_000);
    held.write(heldBody.slice(0, 80_000));
    await settle();

    // Declared too large for what is left: refused on its headers alone.
    const declared = request(t, { "content-length": "80000" });
    const refused = await declared.response;
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers["retry-after"]) >= 1);
    assert.match(JSON.parse(refused.body).error, /HOUSTON_BODY_MEMORY_BYTES/);

    // Of unknown length: refused once what it sent no longer fits.
    const chunked = request(t, { "transfer-encoding": "chunked" });
    chunked.chunk(batch(40, "chunked", 80_000));
    const alsoRefused = await chunked.response;
    assert.equal(alsoRefused.status, 503);
    assert.ok(Number(alsoRefused.headers["retry-after"]) >= 1);

    held.write(heldBody.slice(80_000));
    assert.equal((await held.response).status, 200);
    // The budget is back: the refused body goes through.
    assert.equal((await t.post("/api/v1/events", batch(40, "retried", 80_000))).status, 200);
  });
});

describeEachStore("stalled uploads and the ingest gate", (kind) => {
  let t: TestApp;
  const stalled: RawRequest[] = [];
  before(async () => {
    // The default deadline (30 s): the stalled uploads outlast the test.
    t = await startTestApp(kind);
  });
  after(async () => {
    for (const r of stalled) r.close();
    await t.close();
  });

  it("writes a large batch at once while three uploads stall mid-body", async () => {
    for (let i = 0; i < 3; i++) {
      const r = new RawRequest(Number(new URL(t.url).port), { "transfer-encoding": "chunked" });
      r.socket.on("error", () => {});
      r.chunk(`[${"{}, ".repeat(100)}`);
      stalled.push(r);
    }
    await settle();
    const body = batch(600, "large");
    assert.ok(body.length > 64 * 1024, "large enough to go through the gate");
    const started = performance.now();
    const res = await t.post("/api/v1/events", body);
    const ms = performance.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.body.accepted, 600);
    assert.ok(ms < 10_000, `answered in ${Math.round(ms)} ms`);
  });
});
