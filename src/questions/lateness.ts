// The "ran long" rule, shared by `/houston why was X late` (commands/root-cause.ts) and the
// SLA digest (reports/sla.ts) so a question and a digest never disagree about a long run:
// a run is long when it took more than LONG_FACTOR × the job's usual duration (the median
// of its daily p50 in run_daily over the USUAL_DAYS before) and at least LONG_MIN_EXTRA_MS
// more (a 30 s job taking 50 s is not news).
const MINUTE = 60_000;

/** A run is long past this many times its usual duration… */
export const LONG_FACTOR = 1.5;
/** …and at least this much longer. */
export const LONG_MIN_EXTRA_MS = 2 * MINUTE;
/** Days of run_daily medians that make a job's usual duration. */
export const USUAL_DAYS = 14;

/** True when a run of `durationMs` is long for a job whose usual duration is `usualMs`. */
export function ranLong(durationMs: number, usualMs: number): boolean {
  return durationMs > LONG_FACTOR * usualMs && durationMs - usualMs > LONG_MIN_EXTRA_MS;
}
