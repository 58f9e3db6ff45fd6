import { planFleet, runChunks, datasetUpdateChunks, deployChunks } from "./generate.ts";
for (const [runs, jobs] of [[200000, 500], [1000000, 500], [50000, 50], [2000000, 5000]] as const) {
  const t = performance.now();
  const f = planFleet({ runs, jobs, days: 400, now: new Date(), seed: 1 });
  const c = { rows: 0, failed: 0, running: 0 };
  let bytes = 0;
  for (const ch of runChunks(f, c)) bytes += ch.length;
  const ms = performance.now() - t;
  const u = { rows: 0 }; for (const _ of datasetUpdateChunks(f, u));
  const d = { rows: 0, failed: 0 }; for (const _ of deployChunks(f, d));
  console.log({ runs, jobs, got: c.rows, failedPct: (100 * c.failed / c.rows).toFixed(2), running: c.running, hourly: f.hourlyJobs, missed: f.missedSlots, MBperM: (bytes / c.rows).toFixed(0), rowsPerSec: Math.round(c.rows / ms * 1000), ds: f.datasets.length, upd: u.rows, dep: d.rows, depFailed: d.failed, rss: Math.round(process.memoryUsage().rss / 1e6) });
}
const f = planFleet({ runs: 200000, jobs: 500, days: 400, now: new Date("2026-11-22T03:00:00Z"), seed: 1 });
const c = { rows: 0, failed: 0, running: 0 };
const it = runChunks(f, c); const first = it.next().value as string; console.log(first.split("\n").slice(0, 3).join("\n"));
console.log(f.jobs.slice(0, 3));
