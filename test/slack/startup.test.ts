// Slack being unreachable or refusing the token when Houston starts must not stop Houston
// starting, nor stop it answering once Slack is back: the failure is logged with a fix.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { it } from "node:test";
import { startTestApp } from "../helpers/app.ts";
import { FakeSlack, signedSlackRequest, slashCommand } from "../helpers/fake-slack.ts";
import { describeEachStore } from "../helpers/store.ts";
import { BOT_TOKEN, SIGNING_SECRET, startSlackHarness } from "./harness.ts";

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describeEachStore("Houston's Slack app at startup", (kind) => {
  it("starts and answers /houston while the Slack Web API is unreachable, and logs why", async () => {
    const answers = await FakeSlack.start(); // only the response_url receiver is up
    const port = await closedPort();
    const t = await startTestApp(kind, {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
    });
    try {
      const responseUrl = answers.responseUrl();
      const res = await signedSlackRequest(SIGNING_SECRET, slashCommand({ text: "help", responseUrl }), {
        url: `${t.url}/slack/events`,
      });
      assert.equal(res.status, 200);
      const reply = await answers.waitFor(() => answers.responsesTo(responseUrl)[0], 15_000, "the answer");
      assert.match(reply.body.text, /Houston answers questions/);
      const authFailure = await answers.waitFor(
        () =>
          t.logs
            .map((l) => JSON.parse(l) as Record<string, any>)
            .find((l) => /auth\.test failed/.test(l["msg"])),
        15_000,
        "the failed token check in the log",
      );
      assert.equal(authFailure["code"], "unreachable");
      assert.match(authFailure["hint"], /SLACK_API_URL/);
      const line = await answers.waitFor(
        () => t.logs.map((l) => JSON.parse(l)).find((l) => l["msg"] === "question answered"),
        5_000,
        "the question's log line",
      );
      assert.equal(line["timezoneSource"], "fallback");
    } finally {
      await t.close();
      await answers.close();
    }
  });

  it("keeps answering when Slack refuses the bot token, and says how to fix it", async () => {
    const h = await startSlackHarness(kind, {
      prepare: (slack) => slack.fail("auth.test", "invalid_auth"),
    });
    try {
      const { reply } = await h.ask("help");
      assert.match(reply.body.text, /Houston answers questions/);
      const failure = h.app.logs
        .map((l) => JSON.parse(l) as Record<string, any>)
        .find((l) => l["code"] === "invalid_auth");
      assert.ok(failure);
      assert.match(failure["hint"], /SLACK_BOT_TOKEN/);
    } finally {
      await h.close();
    }
  });

  it("says how to turn Slack on when it is not configured", async () => {
    const t = await startTestApp(kind);
    try {
      assert.equal(t.app.slack, undefined);
      assert.ok(
        t.logs.some((l) =>
          l.includes(
            "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (and SLACK_APP_TOKEN for Socket Mode) to enable it",
          ),
        ),
      );
      const res = await fetch(`${t.url}/slack/events`, { method: "POST", body: "{}" });
      assert.equal(res.status, 404);
      assert.ok(t.app.commands.length > 0, "the question families are loaded once, at startup");
    } finally {
      await t.close();
    }
  });
});
