// Is today's value unusual against the days before it? Two scores, each with its own
// strength, and a value is an anomaly when either reaches the sensitivity:
// - classic z = (x − mean) / sample sd: catches a shift in a tight, well-behaved series;
// - robust z = (x − median) / (1.4826 × MAD): the median and the median absolute deviation
//   ignore a past outlier, which would otherwise inflate the sd and hide the next one.
//   1.4826 makes MAD estimate σ for normal data, so both scores speak in σ.
// The detected day is never part of its own training window. With fewer than `minPoints`
// training values there is no verdict. When a series has (almost) no spread the scales are
// floored, so a series that never moves is not "infinitely" anomalous for a hair's change
// and equal values always score 0.
import { mean, median, medianAbsoluteDeviation, sampleStandardDeviation } from "simple-statistics";
import { addDaysYmd } from "./period.ts";
import { type AnomalySettings, DEFAULT_ANOMALY_SETTINGS } from "./types.ts";

/** Scale of a normal distribution's σ in units of its MAD. */
export const MAD_TO_SIGMA = 1.4826;
/** Scale of σ in units of the mean absolute deviation around the median (√(π/2)). */
export const MEAN_AD_TO_SIGMA = 1.2533;
/** No scale is taken below this share of the series' typical level. */
export const RELATIVE_SCALE_FLOOR = 0.01;
/** …nor below this, for series whose typical level is 0. */
const ABSOLUTE_SCALE_FLOOR = 1e-9;

export interface DetectOptions {
  /** "high": only values above the usual count (lateness, cost); "both": either way. */
  sides?: "both" | "high";
  /** Changes smaller than this (in the series' unit) are never anomalies (e.g. 60 s of duration). */
  minDelta?: number;
}

export interface Verdict {
  value: number;
  /** Training points used. */
  n: number;
  /** "ok" | "anomaly", or "insufficient" when n < minPoints (then the scores are null). */
  status: "ok" | "anomaly" | "insufficient";
  mean: number | null;
  sd: number | null;
  median: number | null;
  mad: number | null;
  /** The scale the robust z divides by (1.4826 × MAD, or a fallback; see robustScale). */
  robustSd: number | null;
  z: number | null;
  robustZ: number | null;
  /** Which score reached the sensitivity. */
  by: "classic" | "robust" | "both" | null;
  /** max(|z|, |robust z|): what anomalies are ranked by. */
  severity: number;
  direction: "high" | "low" | "none";
}

/**
 * The robust scale of xs: 1.4826 × MAD; when MAD is 0 (more than half the values equal),
 * 1.2533 × the mean absolute deviation around the median; both floored (see scaleFloor).
 */
export function robustScale(xs: number[]): { mad: number; scale: number } {
  const med = median(xs);
  const mad = medianAbsoluteDeviation(xs);
  let scale = MAD_TO_SIGMA * mad;
  if (scale === 0) scale = MEAN_AD_TO_SIGMA * mean(xs.map((x) => Math.abs(x - med)));
  return { mad, scale: Math.max(scale, scaleFloor(med)) };
}

/** The smallest scale either score uses around a typical level `center`. */
export function scaleFloor(center: number): number {
  return Math.max(RELATIVE_SCALE_FLOOR * Math.abs(center), ABSOLUTE_SCALE_FLOOR);
}

/** Scores `value` against its training values. */
export function detect(
  value: number,
  training: number[],
  settings: Pick<AnomalySettings, "minPoints" | "sensitivity">,
  opts: DetectOptions = {},
): Verdict {
  const xs = training.filter((x) => Number.isFinite(x));
  const base: Verdict = {
    value,
    n: xs.length,
    status: "insufficient",
    mean: null,
    sd: null,
    median: null,
    mad: null,
    robustSd: null,
    z: null,
    robustZ: null,
    by: null,
    severity: 0,
    direction: "none",
  };
  if (xs.length < Math.max(2, settings.minPoints) || !Number.isFinite(value)) return base;
  const m = mean(xs);
  const med = median(xs);
  const sd = Math.max(sampleStandardDeviation(xs), scaleFloor(m));
  const { mad, scale } = robustScale(xs);
  const z = (value - m) / sd;
  const robustZ = (value - med) / scale;
  const sides = opts.sides ?? "both";
  const reaches = (score: number, center: number) =>
    (sides === "both" ? Math.abs(score) : score) >= settings.sensitivity &&
    Math.abs(value - center) >= (opts.minDelta ?? 0);
  const classic = reaches(z, m);
  const robust = reaches(robustZ, med);
  const by = classic && robust ? "both" : classic ? "classic" : robust ? "robust" : null;
  return {
    ...base,
    status: by ? "anomaly" : "ok",
    mean: m,
    sd,
    median: med,
    mad,
    robustSd: scale,
    z,
    robustZ,
    by,
    severity: Math.max(Math.abs(z), Math.abs(robustZ)),
    direction: value > med ? "high" : value < med ? "low" : "none",
  };
}

/** Settings for one job: defaults, then the subscription's, then the job's own. */
export function settingsFor(
  subscription: Partial<AnomalySettings> | undefined,
  job: Partial<AnomalySettings> | undefined,
): AnomalySettings {
  const s: AnomalySettings = { ...DEFAULT_ANOMALY_SETTINGS, ...clean(subscription), ...clean(job) };
  if (!Number.isInteger(s.trainingDays) || s.trainingDays < 1 || s.trainingDays > 366)
    throw new RangeError(
      `anomalies.trainingDays must be a whole number of days from 1 to 366, got ${s.trainingDays}`,
    );
  if (!Number.isInteger(s.minPoints) || s.minPoints < 2)
    throw new RangeError(`anomalies.minPoints must be a whole number ≥ 2, got ${s.minPoints}`);
  if (!(s.sensitivity > 0)) throw new RangeError(`anomalies.sensitivity must be > 0, got ${s.sensitivity}`);
  return s;
}

function clean(p: Partial<AnomalySettings> | undefined): Partial<AnomalySettings> {
  return Object.fromEntries(Object.entries(p ?? {}).filter(([, v]) => v !== undefined));
}

/**
 * The days whose values train the verdict for `day`: the `trainingDays` calendar days before
 * it (never `day` itself); with seasonality only those on the same weekday.
 */
export function trainingDays(
  day: string,
  s: Pick<AnomalySettings, "trainingDays" | "seasonality">,
): string[] {
  // Thousands of series share a handful of (day, settings): compute each list once.
  const key = `${day}|${s.trainingDays}|${s.seasonality}`;
  let out = trainingCache.get(key);
  if (out) return out;
  out = [];
  for (let i = 1; i <= s.trainingDays; i++) {
    if (s.seasonality && i % 7 !== 0) continue;
    out.push(addDaysYmd(day, -i));
  }
  if (trainingCache.size > 10_000) trainingCache.clear();
  trainingCache.set(key, out);
  return out;
}

const trainingCache = new Map<string, string[]>();

/** The training values for `day` from a day → value series (days without a value are skipped). */
export function trainingValues(
  series: ReadonlyMap<string, number>,
  day: string,
  s: Pick<AnomalySettings, "trainingDays" | "seasonality">,
): number[] {
  const out: number[] = [];
  for (const d of trainingDays(day, s)) {
    const v = series.get(d);
    if (v !== undefined && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** "4.1σ", "robust 26σ", for the digest's sentences. */
export function sigmaText(v: Verdict): string {
  const pick =
    v.by === "classic"
      ? v.z!
      : v.by === "robust"
        ? v.robustZ!
        : Math.abs(v.z!) >= Math.abs(v.robustZ!)
          ? v.z!
          : v.robustZ!;
  const a = Math.abs(pick);
  const n = a >= 10 ? a.toFixed(0) : a.toFixed(1);
  return `${pick < 0 ? "−" : ""}${n}σ${v.by === "robust" ? " (robust)" : v.by === "classic" ? " (classic)" : ""}`;
}
