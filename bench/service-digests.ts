// Digests sent by the running service: the real service (dist/src/main.js) in its own process against a
// copy of the loaded store (so the service's minute ticks — monitors, slots, claims — never
// write into houston_bench), with three subscriptions (sla, anomalies, resources) whose
// slot passed half an hour ago, so the start-up catch-up sends all three at once to a fake
// Slack on 127.0.0.1. Prints the service's RSS before and while sending (sampled from
// /proc every 50 ms, and its VmHWM) and each delivery's recorded duration. Target (issue
// 5): each digest ≤ 2 s, service RSS ≤ 300 MB. Prints figures; not a test.
//
//   node --import tsx bench/service-digests.ts [--db URL]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { FakeSlack } from "../test/helpers/fake-slack.ts";
import { freePort, procMemory, ROOT, serviceCommand } from "./service.ts";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SOURCE =
  arg("--db") ?? process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/houston_bench";

/** The service's VmRSS / VmHWM in MB. */
function memory(pid: number): { rss: number; hwm: number } | undefined {
  const m = procMemory(pid);
  return m && { rss: m.rss / 1048576, hwm: m.hwm / 1048576 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function serviceDigestBenchmark(source = SOURCE): Promise<{ peakMb: number; idleMb: number }> {
  const url = new URL(source);
  const sourceDb = url.pathname.slice(1);
  const copyDb = `${sourceDb}_digests`;
  const admin = postgres({ ...connOf(url, "postgres"), max: 1, onnotice: () => {} });
  const copyUrl = new URL(source);
  copyUrl.pathname = `/${copyDb}`;
  const slack = await FakeSlack.start();
  let child: ReturnType<typeof spawn> | undefined;
  try {
    console.log(`\nDigests sent by the service (dist/src/main.js against a copy of ${sourceDb})`);
    const t = performance.now();
    await admin.unsafe(`DROP DATABASE IF EXISTS "${copyDb}"`);
    await admin.unsafe(`CREATE DATABASE "${copyDb}" TEMPLATE "${sourceDb}"`);
    console.log(`  copied the store in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const db = postgres(copyUrl.toString(), { max: 1, onnotice: () => {} });
    try {
      const slot = new Date(Date.now() - 30 * 60_000);
      const hhmm = slot.toISOString().slice(11, 16);
      await db`DELETE FROM digest_deliveries`;
      await db`UPDATE subscriptions SET ended_at = now() WHERE ended_at IS NULL`;
      for (const report of ["sla", "anomalies", "resources"])
        await db`INSERT INTO subscriptions (channel, report, cadence, local_time, timezone, source, created_at)
                 VALUES ('C0BENCH', ${report}, 'daily', ${hhmm}, 'UTC', 'cli', now() - interval '1 hour')`;
    } finally {
      await db.end({ timeout: 5 });
    }

    const port = await freePort();
    const [node, ...args] = serviceCommand();
    child = spawn(node!, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: copyUrl.toString(),
        PORT: String(port),
        SLACK_BOT_TOKEN: "xoxb-bench-0000-digests",
        SLACK_SIGNING_SECRET: "bench-signing-secret-0123456789",
        SLACK_API_URL: slack.apiUrl,
        HOUSTON_CONFIG: "",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const pid = child.pid!;
    let peak = 0;
    let idle = 0;
    const sampler = setInterval(() => {
      const m = memory(pid);
      if (m) peak = Math.max(peak, m.rss);
    }, 50);
    const started = performance.now();
    const watch = postgres(copyUrl.toString(), { max: 1, onnotice: () => {} });
    try {
      for (;;) {
        await sleep(250);
        if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
        if (!idle && slack.callsTo("auth.test").length > 0) idle = memory(pid)?.rss ?? 0;
        const rows = await watch<{ report: string; state: string; duration_ms: number | null }[]>`
          SELECT report, state, duration_ms FROM digest_deliveries ORDER BY report`.catch(() => []);
        const done = rows.filter((r) => r.state !== "claimed" && r.state !== "sending");
        if (done.length === 3) {
          const total = ((performance.now() - started) / 1000).toFixed(1);
          for (const r of rows)
            console.log(
              `  ${r.report.padEnd(10)} ${r.state}, ${r.duration_ms} ms (built, posted, chart uploaded)`,
            );
          console.log(`  all three delivered ${total} s after the service started`);
          break;
        }
        if (performance.now() - started > 180_000) throw new Error("digests not delivered within 3 minutes");
      }
    } finally {
      clearInterval(sampler);
      await watch.end({ timeout: 5 });
    }
    const hwm = memory(pid)?.hwm ?? peak;
    const peakMb = Math.max(peak, hwm);
    console.log(
      `  service RSS: ${Math.round(idle)} MB after start, peak ${Math.round(peakMb)} MB while sending · ` +
        `${peakMb <= 300 ? "ok" : "MISSED"} (≤ 300 MB)`,
    );
    const digests = slack.callsTo("chat.postMessage").filter((c) => c.params["channel"] === "C0BENCH").length;
    const others = slack.callsTo("chat.postMessage").length - digests;
    console.log(
      `  Slack got ${digests} digest messages and ${slack.callsTo("files.completeUploadExternal").length} chart uploads` +
        (others
          ? ` (and ${others} incident messages from the service's own monitor tick on this fleet)`
          : ""),
    );
    return { peakMb, idleMb: idle };
  } finally {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child!.once("exit", r));
    }
    await slack.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS "${copyDb}"`).catch(() => {});
    await admin.end({ timeout: 5 });
  }
}

function connOf(url: URL, database: string) {
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || "postgres"),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    database,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  serviceDigestBenchmark().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
