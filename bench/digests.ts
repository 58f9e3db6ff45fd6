// Digest benchmark: each digest (SLA, anomalies, resources) computed and rendered, chart
// PNG included, for the last full day of the loaded store (run `npm run bench` first; it
// leaves the houston_bench database in place). Each digest runs in a fresh child process
// that opens the store and builds it three times (the first build is cold: module loading,
// font loading, Vega's first parse), so the peak RSS printed is that of a process doing
// only this work, not the benchmark's. Target (issue 5): ≤ 2 s per digest, ≤ 300 MB RSS.
// Prints figures; not a test.
//
//   node --import tsx bench/digests.ts [--db URL] [--date YYYY-MM-DD] [--tz Europe/Berlin] [--builds 3]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { openStore } from "../src/db/client.ts";
import { reportLoader } from "../src/digests/deliver.ts";
import { REPORT_NAMES, type ReportName } from "../src/digests/types.ts";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const db = arg("--db") ?? process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/houston_bench";
const tz = arg("--tz") ?? "UTC";
const builds = Number(arg("--builds") ?? 3);

interface ChildResult {
  report: ReportName;
  ms: number[];
  blocks: number;
  pngBytes: number;
  empty: boolean;
  rssMb: number;
  hwmMb: number;
}

function hwmMb(): { rss: number; hwm: number } {
  const status = readFileSync("/proc/self/status", "utf8");
  const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb("VmRSS") / 1024), hwm: Math.round(kb("VmHWM") / 1024) };
}

async function child(report: ReportName, date: string): Promise<void> {
  const store = await openStore({ databaseUrl: db });
  try {
    const r = await reportLoader()(report);
    const ms: number[] = [];
    let last;
    for (let i = 0; i < builds; i++) {
      const t = performance.now();
      last = await r.build({ store, date, days: 1, timezone: tz, chart: true });
      ms.push(Math.round(performance.now() - t));
    }
    const mem = hwmMb();
    const out: ChildResult = {
      report,
      ms,
      blocks: last!.blocks.length,
      pngBytes: last!.chart?.png.length ?? 0,
      empty: last!.empty,
      rssMb: mem.rss,
      hwmMb: mem.hwm,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await store.close();
  }
}

function runChild(report: ReportName, date: string, url: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(import.meta.url),
        "--child",
        report,
        "--date",
        date,
        "--db",
        url,
        "--tz",
        tz,
        "--builds",
        String(builds),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    p.on("error", reject);
    p.on("exit", (code) => {
      const line = out.trim().split("\n").pop();
      if (code !== 0 || !line) reject(new Error(`${report}: child exited ${code}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

export async function digestBenchmark(url = db, date?: string): Promise<ChildResult[]> {
  let day = date;
  if (!day) {
    const store = await openStore({ databaseUrl: url });
    try {
      // The last full day: the store's last rollup day is usually still in progress.
      const [row] = await store.query<{ d: string | null }>(
        sql`SELECT (max(day) - 1)::text AS d FROM run_daily`,
      );
      if (!row?.d) throw new Error(`${url} holds no runs: run npm run bench first`);
      day = row.d;
    } finally {
      await store.close();
    }
  }
  console.log(`\nDigests for ${day} (${tz}), ${builds} builds each in a fresh process, chart included`);
  const results: ChildResult[] = [];
  for (const report of REPORT_NAMES) {
    const r = await runChild(report, day, url);
    results.push(r);
    const warm = r.ms.slice(1);
    const best = warm.length ? Math.min(...warm) : r.ms[0]!;
    const verdict = Math.max(...r.ms) <= 2000 && r.hwmMb <= 300 ? "ok" : "MISSED (≤ 2 s, ≤ 300 MB)";
    console.log(
      `  ${report.padEnd(10)} cold ${String(r.ms[0]).padStart(5)} ms, warm ${String(best).padStart(5)} ms · ` +
        `${r.blocks} blocks, chart ${Math.round(r.pngBytes / 1024)} KiB${r.empty ? " (empty)" : ""} · ` +
        `peak RSS ${r.hwmMb} MB · ${verdict}`,
    );
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = arg("--child") as ReportName | undefined;
  const run = report
    ? child(report, arg("--date")!)
    : digestBenchmark(db, arg("--date")).then(() => undefined);
  run.catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
