// The Slack app's parts on their own: the Block Kit guard, mention stripping, the time zone
// cache (against the fake Web API, with a fixed clock), error hints, the log adapter and
// the app manifest.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { webApi } from "@slack/bolt";
import type { KnownBlock } from "@slack/types";
import { parse } from "yaml";
import { fitForSlack } from "../../src/slack/blocks.ts";
import { describeSlackError } from "../../src/slack/errors.ts";
import { stripMention } from "../../src/slack/listeners/events/app-mention.ts";
import { boltLogger } from "../../src/slack/logger.ts";
import { UserTimezones } from "../../src/slack/timezones.ts";
import { FakeSlack, slackSignature } from "../helpers/fake-slack.ts";
import { testLogger } from "../helpers/log.ts";

function capture(level = "debug") {
  const lines: Record<string, any>[] = [];
  const { log } = testLogger(level, { onLine: (line) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe("fitting answers into Slack's limits", () => {
  it("leaves an answer within the limits unchanged", () => {
    const answer = {
      text: "Yes",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Yes*" } }] as KnownBlock[],
    };
    assert.deepEqual(fitForSlack(answer), answer);
  });

  it("cuts blocks, section text, fields and fallback text to what Slack accepts", () => {
    const blocks: KnownBlock[] = [];
    for (let i = 0; i < 70; i++)
      blocks.push({ type: "section", text: { type: "mrkdwn", text: "x".repeat(5000) } });
    blocks[0] = {
      type: "section",
      fields: Array.from({ length: 14 }, (_, i) => ({
        type: "mrkdwn" as const,
        text: `f${i} ${"y".repeat(2500)}`,
      })),
    };
    const fitted = fitForSlack({ text: "z".repeat(10_000), blocks });
    assert.equal(fitted.blocks.length, 50);
    assert.equal(fitted.blocks[0]!.type === "section" && fitted.blocks[0]!.fields?.length, 10);
    for (const b of fitted.blocks) {
      if (b.type === "section" && b.text) assert.ok(b.text.text.length <= 3000);
      if (b.type === "section" && b.fields) for (const f of b.fields) assert.ok(f.text.length <= 2000);
    }
    const last = fitted.blocks[49]!;
    assert.ok(last.type === "context" && JSON.stringify(last).includes("21 more sections not shown"));
    assert.ok(fitted.text.length <= 3900);
  });
});

describe("reading the question out of a mention", () => {
  it("removes Houston's mention wherever it is", () => {
    assert.equal(stripMention("<@U0HOUSTON> did gl_summary run?", "U0HOUSTON"), "did gl_summary run?");
    assert.equal(stripMention("hey <@U0HOUSTON|houston>, is it fresh?", "U0HOUSTON"), "hey , is it fresh?");
  });

  it("keeps other people's mentions", () => {
    assert.equal(stripMention("<@U0HOUSTON> ask <@U0ALICE> instead", "U0HOUSTON"), "ask <@U0ALICE> instead");
  });

  it("removes a leading mention while Houston's own id is not known yet", () => {
    assert.equal(stripMention("<@U0HOUSTON> status"), "status");
  });
});

describe("the asker's time zone cache", () => {
  let slack: FakeSlack;
  let client: webApi.WebClient;
  before(async () => {
    slack = await FakeSlack.start();
    client = new webApi.WebClient("xoxb-test", { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    slack.setUser("U0KIWI", { tz: "Pacific/Auckland" });
    slack.setUser("U0NOTZ", {});
    slack.setUser("U0ODD", { tz: "Mars/Olympus_Mons" });
  });
  after(() => slack.close());

  it("keeps a user's zone for an hour, then asks again", async () => {
    let now = 0;
    const { log } = capture();
    const tzs = new UserTimezones({ fallback: "UTC", log, clock: () => now });
    assert.deepEqual(await tzs.get(client, "U0KIWI"), { timezone: "Pacific/Auckland", source: "slack" });
    now = 59 * 60_000;
    await tzs.get(client, "U0KIWI");
    assert.equal(slack.callsTo("users.info").filter((c) => c.params["user"] === "U0KIWI").length, 1);
    now = 61 * 60_000;
    await tzs.get(client, "U0KIWI");
    assert.equal(slack.callsTo("users.info").filter((c) => c.params["user"] === "U0KIWI").length, 2);
  });

  it("remembers a failure for a minute only and answers with the fallback meanwhile", async () => {
    let now = 0;
    const { log, lines } = capture();
    const tzs = new UserTimezones({ fallback: "Europe/Berlin", log, clock: () => now });
    assert.deepEqual(await tzs.get(client, "U0GONE"), { timezone: "Europe/Berlin", source: "fallback" });
    assert.ok(lines.some((l) => l["code"] === "user_not_found" && l["level"] === 40));
    now = 30_000;
    await tzs.get(client, "U0GONE");
    assert.equal(slack.callsTo("users.info").filter((c) => c.params["user"] === "U0GONE").length, 1);
    now = 61_000;
    await tzs.get(client, "U0GONE");
    assert.equal(slack.callsTo("users.info").filter((c) => c.params["user"] === "U0GONE").length, 2);
  });

  it("uses the fallback for a profile without a time zone or with one it does not know", async () => {
    const { log } = capture();
    const tzs = new UserTimezones({ fallback: "UTC", log });
    assert.equal((await tzs.get(client, "U0NOTZ")).source, "fallback");
    assert.deepEqual(await tzs.get(client, "U0ODD"), { timezone: "UTC", source: "fallback" });
  });

  it("does not hold an answer up for a slow users.info, and fills the cache when it returns", async () => {
    slack.setUser("U0SLOW", { tz: "Asia/Tokyo" });
    slack.override("users.info", (p) => (p["user"] === "U0SLOW" ? { delayMs: 400 } : undefined));
    const { log } = capture();
    const tzs = new UserTimezones({ fallback: "UTC", log, timeoutMs: 50 });
    const started = performance.now();
    assert.deepEqual(await tzs.get(client, "U0SLOW"), { timezone: "UTC", source: "fallback" });
    assert.ok(performance.now() - started < 350, "answered with the fallback before users.info returned");
    // Later questions reuse the lookup in flight; once it lands they get the user's zone.
    let zone = await tzs.get(client, "U0SLOW");
    for (let i = 0; i < 40 && zone.source !== "slack"; i++) zone = await tzs.get(client, "U0SLOW");
    assert.deepEqual(zone, { timezone: "Asia/Tokyo", source: "slack" });
    assert.equal(slack.callsTo("users.info").filter((c) => c.params["user"] === "U0SLOW").length, 1);
  });

  it("asks Slack once for concurrent questions from the same user", async () => {
    slack.setUser("U0BUSY", { tz: "America/New_York" });
    const { log } = capture();
    const tzs = new UserTimezones({ fallback: "UTC", log });
    const zones = await Promise.all([1, 2, 3].map(() => tzs.get(client, "U0BUSY")));
    assert.deepEqual(new Set(zones.map((z) => z.timezone)), new Set(["America/New_York"]));
    assert.equal(slack.callsTo("users.info").filter((c) => c.params["user"] === "U0BUSY").length, 1);
  });
});

describe("the fake Slack Web API", () => {
  let slack: FakeSlack;
  let client: webApi.WebClient;
  before(async () => {
    slack = await FakeSlack.start();
    client = new webApi.WebClient("xoxb-test", { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  });
  after(() => slack.close());

  it("takes a file upload in the three calls files.uploadV2 makes", async () => {
    const res = await client.filesUploadV2({
      channel_id: "C0DATAOPS",
      content: "job,runs\ngl_summary,30\n",
      filename: "runs.csv",
      title: "Runs",
    });
    assert.equal(res.ok, true);
    assert.deepEqual(
      slack.calls.map((c) => c.method),
      ["files.getUploadURLExternal", "files.completeUploadExternal"],
    );
    assert.equal(slack.uploads.length, 1);
    assert.match(slack.uploads[0]!.body.toString("utf8"), /gl_summary,30/);
    const complete = slack.callsTo("files.completeUploadExternal")[0]!;
    assert.equal(complete.params["channel_id"], "C0DATAOPS");
    assert.equal(complete.params["files"][0].id, slack.uploads[0]!.fileId);
    assert.equal(complete.token, "xoxb-test");
  });

  it("answers chat.update and views.publish, and records JSON bodies too", async () => {
    const posted = await client.chat.postMessage({ channel: "C0DATAOPS", text: "first" });
    await client.chat.update({ channel: "C0DATAOPS", ts: posted.ts!, text: "second" });
    await client.views.publish({ user_id: "U0ASKER", view: { type: "home", blocks: [] } });
    assert.equal(slack.callsTo("chat.update")[0]!.params["ts"], posted.ts);
    assert.equal(slack.callsTo("views.publish")[0]!.params["view"].type, "home");
    const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", authorization: "Bearer xoxb-json" },
      body: JSON.stringify({ channel: "C0JSON", blocks: [{ type: "divider" }] }),
    });
    assert.equal(res.status, 200);
    const call = slack.callsTo("chat.postMessage").find((c) => c.params["channel"] === "C0JSON")!;
    assert.deepEqual(call.params["blocks"], [{ type: "divider" }]);
    assert.equal(call.token, "xoxb-json");
  });
});

describe("explaining Slack failures", () => {
  it("names the scope to add for missing_scope", () => {
    const err = Object.assign(new Error("An API error occurred: missing_scope"), {
      code: webApi.ErrorCode.PlatformError,
      data: { ok: false, error: "missing_scope", needed: "users:read" },
    });
    const d = describeSlackError(err);
    assert.equal(d.code, "missing_scope");
    assert.match(d.hint!, /users:read/);
    assert.match(d.hint!, /reinstall/);
  });

  it("points at the bot token for invalid_auth and at the network when Slack is unreachable", () => {
    const auth = describeSlackError({
      code: webApi.ErrorCode.PlatformError,
      data: { error: "invalid_auth" },
    });
    assert.match(auth.hint!, /SLACK_BOT_TOKEN/);
    const net = describeSlackError({
      code: webApi.ErrorCode.RequestError,
      original: new Error("ECONNREFUSED"),
    });
    assert.equal(net.code, "unreachable");
    assert.match(net.hint!, /ECONNREFUSED/);
  });
});

describe("Bolt's log lines", () => {
  it("land in Houston's structured log at the same level, with errors as err", () => {
    const { log, lines } = capture("info");
    const bolt = boltLogger(log);
    bolt.debug("not shown at info");
    bolt.warn("Failed to parse", { a: 1 });
    bolt.error("listener failed", new Error("boom"));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!["msg"], 'Failed to parse {"a":1}');
    assert.equal(lines[0]!["level"], 40);
    assert.equal(lines[1]!["err"]["message"], "boom");
    assert.equal(bolt.getLevel(), "info");
  });
});

describe("signing requests like Slack", () => {
  it("matches the example in Slack's documentation", () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (the documented secret and body)
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    assert.equal(
      slackSignature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body),
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    );
  });
});

describe("the Slack app manifest", () => {
  const manifest = parse(readFileSync(new URL("../../slack-app-manifest.yml", import.meta.url), "utf8"));

  it("declares /houston, the events and interactivity at Houston's one Slack endpoint", () => {
    const cmd = manifest.features.slash_commands.find((c: any) => c.command === "/houston");
    assert.ok(cmd?.description && cmd.usage_hint);
    for (const url of [
      cmd.url,
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
    ])
      assert.equal(new URL(url).pathname, "/slack/events");
    assert.deepEqual([...manifest.settings.event_subscriptions.bot_events].sort(), [
      "app_home_opened",
      "app_mention",
      "message.im",
    ]);
    assert.equal(manifest.settings.interactivity.is_enabled, true);
    assert.equal(manifest.settings.socket_mode_enabled, false);
  });

  it("asks for the scopes Houston uses and no others, and lets people DM it", () => {
    const scopes: string[] = manifest.oauth_config.scopes.bot;
    // What each is for: /houston; @Houston; DMs (message.im); every post, update and DM
    // answer (in channels Houston was invited to); incident posts found again by their
    // metadata (public, private channels); users.info for time zones; digest charts.
    // Nothing opens or lists DMs (im:read, im:write) or posts uninvited (chat:write.public).
    assert.deepEqual([...scopes].sort(), [
      "app_mentions:read",
      "channels:history",
      "chat:write",
      "commands",
      "files:write",
      "groups:history",
      "im:history",
      "users:read",
    ]);
    assert.equal(manifest.display_information.name, "Houston");
    assert.equal(manifest.features.bot_user.display_name, "Houston");
    assert.equal(manifest.features.app_home.home_tab_enabled, true);
    assert.equal(manifest.features.app_home.messages_tab_enabled, true);
    assert.equal(manifest.features.app_home.messages_tab_read_only_enabled, false);
  });
});
