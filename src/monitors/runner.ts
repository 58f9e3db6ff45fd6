// One monitoring pass: what a node-cron tick (every minute, every replica) and
// `houston monitors run [--at ISO]` call. The minute is claimed in the database first, so
// with N replicas exactly one evaluates it; then evaluate → incidents → reminders.
import type { Store } from "../db/client.ts";
import type { MonitorConfig } from "../houston-yml.ts";
import { claimSlot, minuteSlot } from "../scheduler/claim.ts";
import { type BreachKind, evaluate } from "./evaluate.ts";
import { type ApplyResult, applyBreaches, dueReminders } from "./incidents.ts";

export const MONITOR_TASK = "monitors";

export interface MonitorRunOptions {
  /** Names this process in cron_claims (hostname, pod name). */
  replicaId: string;
  /**
   * Claim the minute first (default). A manual `houston monitors run --at …` may pass false:
   * incident writes are serialised by a lock, so running beside the scheduler is safe.
   */
  claim?: boolean;
  /** Injected for timing (tests); default performance.now. */
  clock?: () => number;
}

export interface MonitorRunSummary {
  /** False: another replica already had this minute (nothing else was done). */
  claimed: boolean;
  /** The instant evaluated (ISO). */
  at: string;
  breaches: number;
  byKind: Partial<Record<BreachKind, number>>;
  opened: number;
  updated: number;
  resolved: number;
  silenced: number;
  reminders: number;
  outbox: number;
  /** How long the evaluation (the read side) took. */
  evaluateMs: number;
  totalMs: number;
}

export async function runMonitors(
  store: Store,
  at: Date,
  config: MonitorConfig,
  opts: MonitorRunOptions,
): Promise<MonitorRunSummary> {
  const clock = opts.clock ?? (() => performance.now());
  const t0 = clock();
  const summary: MonitorRunSummary = {
    claimed: false,
    at: at.toISOString(),
    breaches: 0,
    byKind: {},
    opened: 0,
    updated: 0,
    resolved: 0,
    silenced: 0,
    reminders: 0,
    outbox: 0,
    evaluateMs: 0,
    totalMs: 0,
  };
  if (opts.claim !== false && !(await claimSlot(store, MONITOR_TASK, minuteSlot(at), opts.replicaId))) {
    summary.totalMs = clock() - t0;
    return summary;
  }
  summary.claimed = true;
  const breaches = await evaluate(store, at, config);
  summary.evaluateMs = clock() - t0;
  summary.breaches = breaches.length;
  for (const b of breaches) summary.byKind[b.kind] = (summary.byKind[b.kind] ?? 0) + 1;
  const applied: ApplyResult = await applyBreaches(store, at, breaches, config);
  summary.reminders = await dueReminders(store, at, config.reminderMs);
  Object.assign(summary, {
    opened: applied.opened,
    updated: applied.updated,
    resolved: applied.resolved,
    silenced: applied.silenced,
    outbox: applied.outbox,
  });
  summary.totalMs = clock() - t0;
  return summary;
}
