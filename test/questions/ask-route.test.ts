// POST /api/v1/ask and `houston ask` against a running Houston (HOUSTON_URL): answers over
// HTTP with their own read-only tokens, and a clear 4xx for everything else.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { main } from "../../src/cli/main.ts";
import { type TestApp, TEST_TOKEN, startTestApp } from "../helpers/app.ts";
import { DEMO_NOW, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const ASK_TOKEN = "test-ask-token-0123456789";

describeEachStore("POST /api/v1/ask", (kind) => {
  let store: TestStore;
  let h: TestApp;
  before(async () => {
    store = await openDemoStore(kind);
    h = await startTestApp(kind, { HOUSTON_ASK_TOKENS: ASK_TOKEN }, { store, now: () => DEMO_NOW });
  });
  after(async () => {
    await h.close();
    await store.dispose();
  });
  const ask = (body: unknown, token = ASK_TOKEN) =>
    h.post("/api/v1/ask", body as object, { authorization: `Bearer ${token}` });

  it("answers a question as the router does, with its family, the terminal text and the blocks", async () => {
    const r = await ask({ question: "did gl summary run yesterday?", timezone: "UTC" });
    assert.equal(r.status, 200);
    assert.equal(r.body.family, "did-it-run");
    assert.match(
      r.body.text,
      /^Understood: Runs of job `finance_close\.gl_summary`, yesterday \(Sat 21 Nov\) \(UTC\)\nYes — `finance_close\.gl_summary` ran 1 time yesterday/,
    );
    assert.ok(Array.isArray(r.body.answer.blocks) && r.body.answer.blocks.length > 0);
  });

  it("takes its own tokens: an ingest token cannot ask, an ask token cannot ingest", async () => {
    assert.equal((await ask({ question: "status" }, TEST_TOKEN)).status, 401);
    const ingest = await h.post("/api/v1/events", [], { authorization: `Bearer ${ASK_TOKEN}` });
    assert.equal(ingest.status, 401);
    assert.equal((await ask({ question: "status" }, "not-a-token-at-all")).status, 401);
  });

  it("refuses a bad body with a 400 naming the field", async () => {
    for (const [body, field] of [
      [{}, "question"],
      [{ question: "" }, "question"],
      [{ question: 42 }, "question"],
      [{ question: "x".repeat(2001) }, "question"],
      [{ question: "status", timezone: "Mars/Olympus" }, "timezone"],
    ] as const) {
      const r = await ask(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.field, field);
    }
    assert.equal(
      (await h.post("/api/v1/ask", "{not json", { authorization: `Bearer ${ASK_TOKEN}` })).status,
      400,
    );
  });

  it("changes nothing: a silence asked over HTTP says it needs Slack", async () => {
    const r = await ask({ question: "silence finance_close.gl_summary for 2h" });
    assert.equal(r.status, 200);
    assert.match(r.body.text, /needs Slack/);
  });

  it("is what `houston ask` uses when HOUSTON_URL is set", async () => {
    const saved = {
      url: process.env["HOUSTON_URL"],
      token: process.env["HOUSTON_TOKEN"],
      tz: process.env["HOUSTON_TIMEZONE"],
    };
    process.env["HOUSTON_URL"] = h.url;
    process.env["HOUSTON_TOKEN"] = ASK_TOKEN;
    process.env["HOUSTON_TIMEZONE"] = "UTC";
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      assert.equal(await main(["ask", "did", "gl_summary", "run", "yesterday?"]), 0);
    } finally {
      console.log = log;
      for (const [k, v] of [
        ["HOUSTON_URL", saved.url],
        ["HOUSTON_TOKEN", saved.token],
        ["HOUSTON_TIMEZONE", saved.tz],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    assert.match(
      lines.join("\n"),
      /^Understood: Runs of job `finance_close\.gl_summary`, yesterday \(Sat 21 Nov\) \(UTC\)\nYes — `finance_close\.gl_summary` ran 1 time yesterday/,
    );
    assert.match(lines.join("\n"), /✅/, "emoji codes become symbols in the terminal");
  });
});

describeEachStore("POST /api/v1/ask without HOUSTON_ASK_TOKENS", (kind) => {
  let h: TestApp;
  before(async () => {
    h = await startTestApp(kind);
  });
  after(() => h.close());

  it("is off, and says which setting turns it on", async () => {
    const r = await h.post("/api/v1/ask", { question: "status" });
    assert.equal(r.status, 401);
    assert.match(r.body.error, /HOUSTON_ASK_TOKENS/);
  });
});
