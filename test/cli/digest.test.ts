// `houston digest`: any day's digest in the terminal, its chart as a PNG file, or posted now
// to a channel (recorded as a delivery), over the demo fleet with the real reports.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { digestCommand, type DigestCommandDeps, parseDigestArgs } from "../../src/cli/digest.ts";
import { UsageError } from "../../src/cli/run.ts";
import { digestSlackClient, reportLoader } from "../../src/digests/deliver.ts";
import { DigestScheduler } from "../../src/digests/scheduler.ts";
import { createLogger } from "../../src/log.ts";
import { DEMO_NOW, openDemoStore } from "../helpers/demo.ts";
import { FakeSlack } from "../helpers/fake-slack.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../../bin/houston.mjs");

describe("houston digest arguments", () => {
  it("reads every option", () => {
    assert.deepEqual(
      parseDigestArgs([
        "anomalies",
        "--date",
        "2026-11-21",
        "--tz",
        "Europe/Berlin",
        "--env",
        "PROD",
        "--group",
        "g1",
        "--weekly",
        "--png",
        "x.png",
      ]),
      {
        report: "anomalies",
        date: "2026-11-21",
        timezone: "Europe/Berlin",
        environment: "prod",
        group: "g1",
        weekly: true,
        png: "x.png",
      },
    );
  });

  it("refuses what it cannot use, saying how to fix it", () => {
    const refuses = (args: string[], re: RegExp) =>
      assert.throws(
        () => parseDigestArgs(args),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    refuses([], /houston digest needs a digest \(one of: sla, anomalies, resources\)/);
    refuses(["costs"], /"costs" is not a digest/);
    refuses(["sla", "--date", "21/11/2026"], /--date 21\/11\/2026: expected a calendar date YYYY-MM-DD/);
    refuses(["sla", "--date", "2026-02-30"], /--date 2026-02-30: expected a calendar date/);
    refuses(["sla", "--tz", "Mars/Base"], /--tz Mars\/Base is not an IANA time zone/);
    refuses(["sla", "--channel"], /--channel needs a value/);
    refuses(["sla", "--print", "--channel", "C1"], /either --print or --channel/);
    refuses(["sla", "--colour"], /unknown option --colour/);
  });

  it("exits 2 with the fix from the command line", async () => {
    const err = await run(process.execPath, [BIN, "digest", "costs"], {
      env: { ...process.env, HOUSTON_CONFIG: "", DATABASE_URL: "" },
    }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((err as { code: number }).code, 2);
    assert.match(
      (err as { stderr: string }).stderr,
      /houston: "costs" is not a digest \(one of: sla, anomalies, resources\)/,
    );
  });
});

describeEachStore("houston digest", (kind) => {
  let store: TestStore;
  let dir: string;
  let slack: FakeSlack;
  before(async () => {
    store = await openDemoStore(kind);
    slack = await FakeSlack.start();
    dir = mkdtempSync(path.join(tmpdir(), "houston-digest-"));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await slack?.close();
    await store?.dispose();
  });

  const runDigest = async (args: string[], extra: Partial<DigestCommandDeps> = {}) => {
    const lines: string[] = [];
    const code = await digestCommand(parseDigestArgs(args), {
      store,
      now: DEMO_NOW,
      timezone: "UTC",
      log: createLogger("silent"),
      out: (l) => lines.push(l),
      ...extra,
    });
    return { code, out: lines.join("\n") };
  };

  it("prints yesterday's digest by default, in the time zone given", async () => {
    let r = await runDigest(["sla"]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^SLA digest — Sat 21 Nov 2026 \(UTC\)\n─+\n/);
    assert.doesNotMatch(r.out, /:(?:x|warning|white_check_mark):/, "emoji codes become symbols");
    // 09:00 UTC on the 22nd is 23:00 on the 21st in Honolulu: yesterday there is the 20th.
    r = await runDigest(["sla", "--tz", "Pacific/Honolulu"]);
    assert.match(r.out, /^SLA digest — Fri 20 Nov 2026 \(Pacific\/Honolulu\)/);
    r = await runDigest(["resources", "--date", "2026-11-15", "--weekly"]);
    assert.match(r.out.split("\n")[0]!, /Resource usage digest — .*15 Nov 2026/);
  });

  it("writes the chart as a PNG of the stated size", async () => {
    const file = path.join(dir, "sla.png");
    const r = await runDigest(["sla", "--date", "2026-11-21", "--png", file]);
    assert.equal(r.code, 0);
    const m = /chart written to .*sla\.png \((\d+)×(\d+) PNG, (\d+) bytes\)/.exec(r.out);
    assert.ok(m, r.out);
    const png = readFileSync(file);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.subarray(12, 16).toString("latin1"), "IHDR");
    assert.equal(png.readUInt32BE(16), Number(m[1]));
    assert.equal(png.readUInt32BE(20), Number(m[2]));
    assert.equal(png.length, Number(m[3]));
  });

  it("posts a digest now to a channel, records it as a delivery, and never schedules it", async () => {
    const client = digestSlackClient("xoxb-cli-digest", slack.apiUrl);
    const r = await runDigest(["anomalies", "--date", "2026-11-20", "--channel", "C0OPS"], { client });
    assert.equal(r.code, 0, r.out);
    const printedTs = /^posted the anomalies digest for 2026-11-20 \(UTC\) to C0OPS: ts (\d+\.\d+)/.exec(
      r.out,
    )?.[1];
    assert.ok(printedTs, r.out);
    const post = slack.callsTo("chat.postMessage")[0]!;
    assert.equal(post.params["channel"], "C0OPS");
    assert.match(post.params["text"], /Anomaly digest — Fri 20 Nov 2026/);
    const rows = await store.query<{
      state: string;
      reported_date: string;
      source: string;
      ended: boolean;
      slack_ts: string;
    }>(
      sql`SELECT d.state, d.reported_date::text AS reported_date, s.source, s.ended_at IS NOT NULL AS ended, d.slack_ts
          FROM digest_deliveries d JOIN subscriptions s ON s.id = d.subscription_id WHERE d.channel = 'C0OPS'`,
    );
    assert.deepEqual(rows, [
      { state: "delivered", reported_date: "2026-11-20", source: "cli", ended: true, slack_ts: printedTs },
    ]);
    // The one-off is no subscription: a scheduler tick the next morning sends nothing to C0OPS.
    const scheduler = new DigestScheduler({
      store,
      log: createLogger("silent"),
      now: () => new Date("2026-11-23T00:00:00Z"),
      replicaId: "t",
      reports: reportLoader(),
      client,
    });
    const tick = await scheduler.tick();
    assert.equal(tick.deliveries.filter((d) => d.channel === "C0OPS").length, 0);
  });

  it("reports a post Slack refuses and exits 1, recording the failure", async () => {
    slack.fail("chat.postMessage", "channel_not_found");
    const client = digestSlackClient("xoxb-cli-digest", slack.apiUrl);
    const r = await runDigest(["sla", "--channel", "C0NOWHERE"], { client });
    assert.equal(r.code, 1);
    assert.match(r.out, /could not post the sla digest to C0NOWHERE: channel_not_found/);
    const [row] = await store.query<{ state: string }>(
      sql`SELECT state FROM digest_deliveries WHERE channel = 'C0NOWHERE'`,
    );
    assert.equal(row!.state, "channel_gone");
  });

  it("says --channel needs Slack when no token is configured", async () => {
    await assert.rejects(runDigest(["sla", "--channel", "C1"]), /--channel needs Slack: set SLACK_BOT_TOKEN/);
  });
});
