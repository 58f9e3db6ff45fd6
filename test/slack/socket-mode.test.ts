// Socket Mode end to end: SLACK_APP_TOKEN set → Houston asks the (fake) Web API for a
// WebSocket URL, connects to a WebSocket server run by this test, acks a slash command
// envelope over the socket and answers at response_url.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, it } from "node:test";
import { type WebSocket, WebSocketServer } from "ws";
import { FAKE_BOT, FAKE_TEAM } from "../helpers/fake-slack.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { type SlackHarness, startSlackHarness } from "./harness.ts";

const APP_TOKEN = "xapp-1-A0HOUSTON-1234-socketmodetesttoken";
const NOW = new Date("2026-11-22T09:00:00Z");

describeEachStore("Houston in Socket Mode", (kind) => {
  let store: TestStore;
  let h: SlackHarness;
  let wss: WebSocketServer;
  const fromHouston: any[] = [];
  let socket: WebSocket | undefined;
  let connected: Promise<WebSocket>;

  before(async () => {
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    connected = new Promise((resolve) => {
      wss.on("connection", (ws) => {
        socket = ws;
        ws.on("message", (data) => fromHouston.push(JSON.parse(String(data))));
        ws.send(
          JSON.stringify({
            type: "hello",
            num_connections: 1,
            debug_info: { host: "applink-test", build_number: 1, approximate_connection_time: 18060 },
            connection_info: { app_id: FAKE_BOT.appId },
          }),
        );
        resolve(ws);
      });
    });
    store = await openTestStore(kind);
    h = await startSlackHarness(kind, {
      store,
      now: () => NOW,
      env: { SLACK_APP_TOKEN: APP_TOKEN },
      prepare: (slack) => {
        slack.socketUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link/?ticket=test`;
      },
    });
    h.slack.setUser("U0ASKER", { tz: "UTC" });
    await h.app.app.ingestor.apply([
      {
        type: "run",
        namespace: "default",
        job: "nightly_orders",
        runId: "socket-run-1",
        status: "success",
        startedAt: new Date("2026-11-22T02:00:00Z"),
        endedAt: new Date("2026-11-22T02:12:00Z"),
        eventTime: new Date("2026-11-22T02:12:00Z"),
      },
    ]);
  });
  after(async () => {
    // Houston closes the socket cleanly (close frame answered) as it stops.
    const closed = socket ? new Promise((resolve) => socket!.once("close", resolve)) : undefined;
    await h?.close();
    if (closed) {
      const outcome = await Promise.race([
        closed.then(() => "closed"),
        new Promise((resolve) => setTimeout(() => resolve("still open"), 5_000)),
      ]);
      assert.equal(outcome, "closed", "Houston closes its WebSocket when it stops");
    }
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    await store?.dispose();
  });

  it("connects through apps.connections.open with the app token", async () => {
    assert.equal(h.app.app.slack?.mode, "socket");
    // createApp started connecting in the background; start() is idempotent and says when it is done.
    await h.app.app.slack!.start();
    await connected;
    const open = h.slack.callsTo("apps.connections.open");
    assert.ok(open.length >= 1);
    assert.equal(open[0]!.token, APP_TOKEN);
    const res = await fetch(`${h.app.url}/slack/events`, { method: "POST", body: "{}" });
    assert.equal(res.status, 404, "no HTTP endpoint in Socket Mode");
  });

  it("acks a slash command envelope over the socket and answers at response_url", async () => {
    const ws = await connected;
    const responseUrl = h.slack.responseUrl();
    const sent = performance.now();
    ws.send(
      JSON.stringify({
        envelope_id: "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
        type: "slash_commands",
        accepts_response_payload: true,
        payload: {
          token: "legacy-verification-token",
          team_id: FAKE_TEAM.id,
          team_domain: "houston-test",
          channel_id: "C0DATAOPS",
          channel_name: "dataops",
          user_id: "U0ASKER",
          user_name: "asker",
          command: "/houston",
          text: "when did nightly_orders last run?",
          api_app_id: FAKE_BOT.appId,
          is_enterprise_install: "false",
          response_url: responseUrl,
          trigger_id: "socket.trigger.1",
        },
      }),
    );
    const ack = await h.slack.waitFor(
      () => fromHouston.find((m) => m.envelope_id === "57d6a792-4d35-4d0b-b6aa-3361493e1caf"),
      5_000,
      "the ack envelope",
    );
    const ackMs = performance.now() - sent;
    assert.deepEqual(ack.payload ?? {}, {}, "an empty ack: the answer comes through response_url");
    const reply = await h.slack.waitFor(() => h.slack.responsesTo(responseUrl)[0], 10_000, "the answer");
    assert.equal(reply.body.response_type, "ephemeral");
    assert.match(reply.body.text, /`nightly_orders` last ran today 02:00, success in 12 min/);
    console.log(`Socket Mode ack ${ackMs.toFixed(1)} ms`);
    assert.ok(socket, "Houston is still connected");
  });
});
