// `npm run bench:hardening`: the figures issue 11 sets for faults, measured from outside the
// service (the build, as `npm start` runs it), on the embedded store:
// - stop: N start/stop cycles, SIGTERM to the process group once /readyz answers; how long
//   each exit took, how many exited within 10 s, and that the store's lock was released;
// - batches: three concurrent 10 MB ingest batches; the service's peak RSS (VmHWM);
// - silence: a silence pattern built to backtrack a regular expression ("****…q"), then
//   monitor passes over 300 breached jobs; /healthz p99 meanwhile (on PostgreSQL,
//   BENCH_ADMIN_URL, default the local server's test database, to make a scratch database);
// - start: `npm start` on a brand-new store, from spawn to /readyz 200 (`--starts N` times,
//   default 5), then `houston ask` in a fresh process on the store it left (as many times).
// With DATABASE_URL set, the batches and start steps run on PostgreSQL instead: a scratch
// database made through it (and dropped) for each service.
// `--cycles N` (default 100), `--only stop,batches,silence,start`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
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
const starts = Number(opt("--starts") ?? 5);
const only = new Set((opt("--only") ?? "stop,batches,silence,start").split(","));
const DATABASE_URL = process.env["DATABASE_URL"] || undefined;
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

/** A brand-new PostgreSQL database on the server of `adminUrl`: its URL, and drop() to remove it. */
async function scratchDatabase(
  adminUrl: string,
  name: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Where a service of these steps keeps its data: the embedded store, or a scratch database. */
async function storeFor(
  step: string,
): Promise<{ env: Record<string, string>; what: string; drop: () => Promise<void> }> {
  if (!DATABASE_URL) return { env: {}, what: "embedded store", drop: async () => {} };
  const db = await scratchDatabase(DATABASE_URL, `houston_bench_hardening_${step}`);
  return { env: { DATABASE_URL: db.url }, what: "PostgreSQL", drop: db.drop };
}

async function concurrentBatches(): Promise<void> {
  const store = await storeFor("batches");
  const svc = await startService(serviceCommand(), { HOUSTON_INGEST_TOKENS: TOKEN, ...store.env });
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
      `batches (${store.what}): three concurrent ${(bodies[0]!.length / 1048576).toFixed(1)} MB batches answered ${statuses.join(", ")} ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s; service peak RSS ${Math.round(peak / 1048576)} MB (target ≤ 400 MB)`,
    );
  } finally {
    await svc.stop();
    await store.drop();
  }
}

/** ms from spawning argv until /readyz answers 200 (or the child exits: an error). */
async function timeToReady(
  argv: string[],
  env: Record<string, string>,
  port: number,
): Promise<{ ms: number; stop: () => Promise<void> }> {
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    detached: true,
    env: { PATH: process.env["PATH"] ?? "", PORT: String(port), LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + String(d)).slice(-2000)));
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.on("exit", () => {
      gone = true;
      resolve();
    }),
  );
  for (;;) {
    if (gone) throw new Error(`${argv.join(" ")} exited before it was ready: ${stderr.trim()}`);
    if (performance.now() - t0 > 120_000) throw new Error(`${argv.join(" ")} not ready after 120 s`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - t0;
  return {
    ms,
    async stop() {
      // npm execs node, so the group holds the service alone; SIGTERM to the group, as a supervisor.
      process.kill(-child.pid!, "SIGTERM");
      await exited;
    },
  };
}

function buildIfStale(): void {
  if (spawnSync(process.execPath, ["bin/build-state.mjs", "--build-if-stale"], { cwd: ROOT }).status !== 0)
    throw new Error("npm run build failed");
}

async function startTimes(): Promise<void> {
  serviceCommand(); // a build of the current sources, so npm start's own check finds it fresh
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const builtAt = () => statSync(path.join(ROOT, "dist/src/main.js")).mtimeMs;
  const ready: number[] = [];
  const asks: number[] = [];
  let rebuilt = 0;
  let what = "";
  for (let i = 0; i < starts; i++) {
    // A source edited meanwhile (someone working in this tree) makes npm start rebuild: build
    // it here, untimed, and leave out a start that rebuilt all the same.
    buildIfStale();
    const before = builtAt();
    const dir = mkdtempSync(path.join(tmpdir(), "houston-bench-start-"));
    const store = await storeFor("start");
    what = store.what;
    try {
      const env = { HOUSTON_DATA_DIR: dir, ...store.env };
      const svc = await timeToReady([npm, "start", "--silent"], env, await freePort());
      await svc.stop();
      if (builtAt() !== before) {
        rebuilt++;
        continue;
      }
      ready.push(svc.ms);
      // A question in a fresh process, on the store the service created (and now released),
      // from the build as it would be (without it, the CLI compiles the sources itself).
      buildIfStale();
      const t0 = performance.now();
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, "bin/houston.mjs"), "ask", "did gl_summary run yesterday?"],
        {
          cwd: ROOT,
          env: { PATH: process.env["PATH"] ?? "", ...env, LOG_LEVEL: "warn" },
          encoding: "utf8",
        },
      );
      asks.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`houston ask exited ${r.status}: ${r.stderr.trim().slice(-1000)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await store.drop();
    }
  }
  const ms = (xs: number[], p: number) => `${(pct(xs, p) / 1000).toFixed(2)} s`;
  const max = (xs: number[]) =>
    `${(Math.max(...xs) / 1000).toFixed(2)} s (all: ${xs.map((x) => (x / 1000).toFixed(2)).join(", ")})`;
  console.log(
    `start (${what}): npm start on a brand-new store, spawn to /readyz 200: p50 ${ms(ready, 0.5)}, max ${max(ready)} over ${ready.length} starts` +
      `${rebuilt ? ` (${rebuilt} more left out: sources changed meanwhile and npm start rebuilt)` : ""} (target ≤ 3 s); ` +
      `houston ask in a fresh process: p50 ${ms(asks, 0.5)}, max ${max(asks)} (target ≤ 1.5 s)`,
  );
}

async function silencePattern(): Promise<void> {
  // PostgreSQL, so the benchmark can store the silence beside the running service (the
  // embedded store belongs to one process). A scratch database on BENCH_ADMIN_URL.
  const scratch = await scratchDatabase(
    process.env["BENCH_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/test",
    "houston_bench_hardening",
  );
  const svc = await startService(serviceCommand(), {
    HOUSTON_INGEST_TOKENS: TOKEN,
    DATABASE_URL: scratch.url,
  });
  const db = postgres(scratch.url, { max: 1, onnotice: () => {} });
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
    await scratch.drop();
  }
}

if (only.has("stop")) await stopCycles();
if (only.has("batches")) await concurrentBatches();
if (only.has("silence")) await silencePattern();
if (only.has("start")) await startTimes();
