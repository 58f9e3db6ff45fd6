// `npm run bench:hardening`: the figures issue 11 sets for faults, measured from outside the
// service (the build, as `npm start` runs it), on the embedded store:
// - stop: N start/stop cycles, SIGTERM to the process group once /readyz answers; how long
//   each exit took, how many exited within 10 s, and that the store's lock was released;
// - batches: three concurrent 10 MB ingest batches; the service's peak RSS (VmHWM);
// - silence: a silence pattern built to backtrack a regular expression ("****…q"), then
//   monitor passes over 300 breached jobs; /healthz p99 meanwhile (on PostgreSQL,
//   BENCH_ADMIN_URL, default the local server's test database, to make a scratch database).
// `--cycles N` (default 100), `--only stop,batches,silence`.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { freePort, procMemory, ROOT, serviceCommand, startService } from "./service.ts";

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const cycles = Number(opt("--cycles") ?? 100);
const only = new Set((opt("--only") ?? "stop,batches,silence").split(","));
const TOKEN = "bench-hardening-token-0123456789";
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function stopCycles(): Promise<void> {
  const argv = serviceCommand();
  const exits: number[] = [];
  let within = 0;
  let lockLeft = 0;
  for (let i = 0; i < cycles; i++) {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), "houston-bench-stop-"));
    // Its own process group, as a supervisor (docker, systemd) signals it.
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      detached: true,
      env: { PATH: process.env["PATH"] ?? "", HOUSTON_DATA_DIR: dir, PORT: String(port), LOG_LEVEL: "warn" },
      stdio: "ignore",
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    for (let t = 0; t < 600; t++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = performance.now();
    process.kill(-child.pid!, "SIGTERM");
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 10_000)),
    ]);
    const ms = performance.now() - t0;
    if (!timedOut) within++;
    else {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    }
    exits.push(ms);
    if (existsSync(path.join(dir, "lock"))) lockLeft++;
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `stop: ${within} of ${cycles} start/stop cycles exited within 10 s of SIGTERM to the process group; ` +
      `exit p50 ${Math.round(pct(exits, 0.5))} ms, p99 ${Math.round(pct(exits, 0.99))} ms, max ${Math.round(Math.max(...exits))} ms; ` +
      `store lock left behind ${lockLeft} time(s)`,
  );
}

/** A native batch of about `bytes` of run events. */
function batch(bytes: number, tag: string): string {
  const events: string[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const e = JSON.stringify({
      type: "run",
      job: `bench_job_${i % 500}`,
      group: "bench",
      run_id: `${tag}-${i}`,
      status: "success",
      started_at: new Date(Date.UTC(2026, 10, 20, 0, 0, i % 86_400)).toISOString(),
      ended_at: new Date(Date.UTC(2026, 10, 20, 0, 1, i % 86_400)).toISOString(),
      rows: i,
      error: "x".repeat(200),
    });
    events.push(e);
    size += e.length + 1;
  }
  return `[${events.join(",")}]`;
}

async function concurrentBatches(): Promise<void> {
  const svc = await startService(serviceCommand(), { HOUSTON_INGEST_TOKENS: TOKEN });
  try {
    const bodies = [0, 1, 2].map((i) => batch(9.9 * 1024 * 1024, `b${i}`));
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, procMemory(svc.pid)?.hwm ?? 0);
    }, 50);
    const t0 = performance.now();
    const statuses = await Promise.all(
      bodies.map((body) =>
        fetch(`${svc.base}/api/v1/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body,
        }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    clearInterval(sampler);
    peak = Math.max(peak, procMemory(svc.pid)?.hwm ?? 0);
    console.log(
      `batches: three concurrent ${(bodies[0]!.length / 1048576).toFixed(1)} MB batches answered ${statuses.join(", ")} ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s; service peak RSS ${Math.round(peak / 1048576)} MB (target ≤ 400 MB)`,
    );
  } finally {
    await svc.stop();
  }
}

async function silencePattern(): Promise<void> {
  // PostgreSQL, so the benchmark can store the silence beside the running service (the
  // embedded store belongs to one process). A scratch database on BENCH_ADMIN_URL.
  const admin = postgres(process.env["BENCH_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/test", {
    max: 1,
    onnotice: () => {},
  });
  const name = "houston_bench_hardening";
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(process.env["BENCH_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/test");
  url.pathname = `/${name}`;
  const svc = await startService(serviceCommand(), {
    HOUSTON_INGEST_TOKENS: TOKEN,
    DATABASE_URL: url.toString(),
  });
  const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    // 300 jobs failing three times in a row: each is a failure-streak breach that every
    // monitor pass tests against the silences.
    const events = [];
    for (let j = 0; j < 300; j++)
      for (let k = 0; k < 3; k++)
        events.push({
          type: "run",
          job: `${"a".repeat(40)}_${j}`,
          run_id: `s-${j}-${k}`,
          status: "failed",
          started_at: new Date(Date.now() - (k + 1) * 3_600_000).toISOString(),
          ended_at: new Date(Date.now() - (k + 1) * 3_600_000 + 60_000).toISOString(),
        });
    const r = await fetch(`${svc.base}/api/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(events),
    });
    if (r.status !== 200) throw new Error(`ingest answered ${r.status}`);
    // The shape that stalled the service: as a RegExp, 20 stars before a q backtrack
    // exponentially on every breached job's 40-character name.
    const pattern = `${"*".repeat(20)}q`;
    await db`INSERT INTO silences (subject_type, subject, starts_at, ends_at, reason, created_by)
             VALUES ('job', ${pattern}, now() - interval '1 minute', now() + interval '3 hours', 'bench', 'bench')`;
    const samples: number[] = [];
    const until = performance.now() + 130_000; // two monitor passes: they run every minute
    while (performance.now() < until) {
      const t0 = performance.now();
      await fetch(`${svc.base}/healthz`).then((x) => x.arrayBuffer());
      samples.push(performance.now() - t0);
      await new Promise((res) => setTimeout(res, 100));
    }
    const n = (await db<{ n: number }[]>`SELECT count(*)::int AS n FROM incidents`)[0]?.n ?? 0;
    console.log(
      `silence: pattern ${JSON.stringify(pattern)} over ${n} incident(s): /healthz p50 ${pct(samples, 0.5).toFixed(1)} ms, ` +
        `p99 ${pct(samples, 0.99).toFixed(1)} ms, max ${Math.max(...samples).toFixed(1)} ms over ${samples.length} probes ` +
        `across two monitor passes (target p99 ≤ 100 ms)`,
    );
  } finally {
    await svc.stop();
    await db.end();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

if (only.has("stop")) await stopCycles();
if (only.has("batches")) await concurrentBatches();
if (only.has("silence")) await silencePattern();
