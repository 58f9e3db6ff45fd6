// The contract between the digests in reports/ (what a day looked like) and their delivery
// (subscriptions, slots, Slack). A report is one file in reports/ whose default export is a
// Report: it computes its numbers in SQL for one period and renders them; it never reads the
// clock (the period comes from the subscription's slot) and never talks to Slack.
import type { KnownBlock } from "@slack/types";
import type { Store } from "../db/client.ts";

export const REPORT_NAMES = ["sla", "anomalies", "resources"] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/** Anomaly detection knobs: per subscription, and per job in houston.yml (job wins). */
export interface AnomalySettings {
  /** Trailing training window in days, the reported day excluded. Default 14. */
  trainingDays: number;
  /** Fewer points than this in the window → no verdict for that series. Default 7. */
  minPoints: number;
  /** |z| (classic and robust) at or above this is an anomaly. Default 3. */
  sensitivity: number;
  /** Train only on the same weekday (needs trainingDays ≥ 7 × minPoints to say anything). */
  seasonality: boolean;
}

export const DEFAULT_ANOMALY_SETTINGS: AnomalySettings = {
  trainingDays: 14,
  minPoints: 7,
  sensitivity: 3,
  seasonality: false,
};

export interface DigestRequest {
  store: Store;
  /** The last local calendar day the digest covers, YYYY-MM-DD in `timezone`. */
  date: string;
  /** 1 for a daily digest, 7 for a weekly one: the period is the `days` local days ending on `date`. */
  days: 1 | 7;
  /** IANA zone whose midnights bound the period (the subscription's, else HOUSTON_TIMEZONE). */
  timezone: string;
  /** Only jobs/datasets/tests/deploys of this environment (prod, staging…). */
  environment?: string;
  /** Only jobs of this group (pipeline/DAG). */
  group?: string;
  /** Subscription-level anomaly settings (anomalies report). */
  anomalies?: Partial<AnomalySettings>;
  /** Per job name (exact) overrides from houston.yml (anomalies report). */
  jobAnomalies?: Record<string, Partial<AnomalySettings>>;
  /** Render the chart PNG (false for terminal printing without --png: saves the time). */
  chart: boolean;
}

export interface DigestChart {
  png: Buffer;
  filename: string;
  title: string;
  /** Alt text for files.uploadV2. */
  alt: string;
  width: number;
  height: number;
}

export interface Digest {
  report: ReportName;
  /** "SLA digest — Sat 21 Nov 2026 (Europe/Berlin)". */
  title: string;
  /** Plain-text fallback for notifications and the terminal. */
  text: string;
  /** Block Kit, within Slack's limits (≤ 50 blocks, ≤ 3,000 chars a section). */
  blocks: KnownBlock[];
  /** Nothing to report: the blocks say so in one line and no chart is attached. */
  empty: boolean;
  chart?: DigestChart;
}

export interface Report {
  name: ReportName;
  /** "Daily SLA", for help and subscription listings. */
  title: string;
  build(req: DigestRequest): Promise<Digest>;
}
