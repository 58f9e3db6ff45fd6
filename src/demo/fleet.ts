// A deterministic, realistic 30-day demo fleet: ~50 jobs in 6 pipelines, their runs,
// output datasets, supplier deliveries, data tests and deploys, with a handful of planted
// stories (a flapping job, a late start, a long run, a stale dataset, a late supplier, a
// failed deploy, a schema change, a cost spike) that digests and questions should find.
// Everything else is kept quiet: on "yesterday" no other job deviates from its own history.
//
// Same `until` → byte-identical output: all randomness comes from a small seeded PRNG
// keyed by what is being generated (job, day, slot), never from Math.random or the clock.
import type { DeployKind, DeployStatus, TestStatus } from "../db/schema.ts";
import type {
  DatasetEvent,
  DeployEvent,
  HoustonEvent,
  RunEvent,
  SchemaField,
  TestEvent,
} from "../ingest/events.ts";

export interface DemoSchedule {
  namespace: string;
  job: string;
  cron: string;
  timezone: string;
  graceSeconds: number;
}

export interface DemoDataset {
  namespace: string;
  name: string;
  supplier?: string;
  owner?: string;
  maxAgeSeconds?: number;
  /** "HH:MM" local time (in `timezone`) a supplier delivery is expected by. */
  expectedArrival?: string;
  timezone?: string;
}

export interface DemoStory {
  kind:
    | "flapping"
    | "late_start"
    | "long_run"
    | "stale_dataset"
    | "late_supplier"
    | "failed_deploy"
    | "duration_anomaly"
    | "schema_change"
    | "cost_spike";
  /** Job name, dataset name, supplier name or deploy artifact, depending on the kind. */
  subject: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  detail: string;
}

/** Job metadata that no event carries (the Slack channel) plus the job's output dataset. */
export interface DemoJob {
  namespace: string;
  job: string;
  group: string;
  tool: string;
  environment: string;
  owner: string;
  slackChannel: string;
  output: { namespace: string; name: string };
  /** The upstream job in the same group this job waits for (it starts after that run ends). */
  after?: string;
}

export interface DemoFleet {
  events: HoustonEvent[];
  schedules: DemoSchedule[];
  datasets: DemoDataset[];
  stories: DemoStory[];
  jobs: DemoJob[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** By default the seeded history also covers the `until` day itself up to 06:00 UTC. */
export const DEMO_TODAY_HOURS = 6;

// ---------------------------------------------------------------------------------------
// PRNG: FNV-1a (+ murmur3 finalizer) to seed, mulberry32 to draw. Every draw is keyed, so the value for one
// (job, day, slot) does not depend on how many other values were drawn before it.

function hash32(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  // murmur3's finalizer: keys that differ in one character must give unrelated seeds.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rngFor = (key: string): Rng => mulberry32(hash32(`houston-demo:${key}`));

/** A standard normal draw, clamped to ±limit so no quiet value is ever an outlier. */
function gauss(r: Rng, limit: number): number {
  const u1 = 1 - r();
  const u2 = r();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.max(-limit, Math.min(limit, z));
}

const between = (r: Rng, lo: number, hi: number) => lo + (hi - lo) * r();

/** Noise never exceeds this many σ, so no ordinary day is an outlier either. */
const NOISE_LIMIT = 2.2;

/**
 * A value in the middle of `xs`: near its median (pulled towards the mean by at most half a
 * robust σ) and nudged by at most a fifth of its spread, so it is well inside both a 2σ band
 * and a robust z of 3 around that history.
 */
function steady(xs: number[], r: Rng): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const med = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  const absDev = xs.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  const mad = absDev.length % 2 ? absDev[mid]! : (absDev[mid - 1]! + absDev[mid]!) / 2;
  const robust = 1.4826 * mad;
  const spread = Math.min(sd, robust);
  const pull = Math.max(-0.5 * robust, Math.min(0.5 * robust, (mean - med) / 2));
  return med + pull + (2 * r() - 1) * 0.2 * spread;
}

function uuid(r: Rng): string {
  const hex: string[] = [];
  for (let i = 0; i < 16; i++) {
    let b = Math.floor(r() * 256);
    if (i === 6) b = (b & 0x0f) | 0x40;
    if (i === 8) b = (b & 0x3f) | 0x80;
    hex.push(b.toString(16).padStart(2, "0"));
  }
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const sha = (r: Rng) => Array.from({ length: 7 }, () => Math.floor(r() * 16).toString(16)).join("");

// ---------------------------------------------------------------------------------------
// The fleet.

type Tool = "airflow" | "dbt" | "spark" | "cron";
type Env = "prod" | "staging" | "dev";

interface JobSpec {
  task: string;
  tool: Tool;
  env?: Env;
  /** "HH:MM" in the job's time zone, for jobs that do not wait on an upstream. */
  at?: string;
  /** Minute past every hour, for hourly jobs. */
  hourly?: number;
  /** Upstream task in the same group: this job's slot is placed after its typical end. */
  after?: string;
  /** Other tasks of the group whose output it reads too (lineage only: its start does not wait for them). */
  reads?: string[];
  tz?: string;
  /** Typical duration in minutes. */
  min: number;
  rows: number;
  /** Busy cores on average: cpu_seconds ≈ duration × cores. */
  cores: number;
  memMb: number;
  out: string;
  fields: string;
  rowBytes: number;
  /** Freshness SLA of the output in hours; null for none. Default 28 h (2 h hourly, none off prod). */
  maxAgeH?: number | null;
  /** Relative noise of the duration (σ of its log). */
  sigma?: number;
}

interface GroupSpec {
  name: string;
  owner: string;
  channel: string;
  tz: string;
  jobs: JobSpec[];
}

const GROUPS: GroupSpec[] = [
  {
    name: "orders_daily",
    owner: "@data-eng",
    channel: "#data-alerts",
    tz: "UTC",
    jobs: [
      {
        task: "extract_orders",
        tool: "airflow",
        at: "02:45",
        min: 11,
        rows: 182_000,
        cores: 0.8,
        memMb: 900,
        out: "raw.orders",
        fields:
          "order_id:BIGINT,customer_id:BIGINT,status:VARCHAR,total_amount:DECIMAL(12,2),currency:VARCHAR(3),created_at:TIMESTAMP,updated_at:TIMESTAMP",
        rowBytes: 164,
      },
      {
        task: "extract_payments",
        tool: "airflow",
        after: "extract_orders",
        min: 7,
        rows: 176_000,
        cores: 0.6,
        memMb: 750,
        out: "raw.payments",
        fields:
          "payment_id:BIGINT,order_id:BIGINT,method:VARCHAR,amount:DECIMAL(12,2),currency:VARCHAR(3),captured_at:TIMESTAMP",
        rowBytes: 120,
      },
      {
        task: "stg_orders",
        tool: "dbt",
        after: "extract_payments",
        min: 5,
        rows: 182_000,
        cores: 2,
        memMb: 420,
        out: "staging.stg_orders",
        fields:
          "order_id:BIGINT,customer_id:BIGINT,status:VARCHAR,total_amount:DECIMAL(12,2),currency:VARCHAR(3),ordered_at:TIMESTAMP",
        rowBytes: 140,
      },
      {
        task: "stg_payments",
        tool: "dbt",
        after: "stg_orders",
        min: 4,
        rows: 176_000,
        cores: 2,
        memMb: 380,
        out: "staging.stg_payments",
        fields:
          "payment_id:BIGINT,order_id:BIGINT,method:VARCHAR,amount_eur:DECIMAL(12,2),captured_at:TIMESTAMP",
        rowBytes: 96,
      },
      {
        task: "dim_customers",
        tool: "dbt",
        after: "stg_payments",
        min: 6,
        rows: 2_410_000,
        cores: 4,
        memMb: 510,
        out: "analytics.dim_customers",
        fields:
          "customer_id:BIGINT,email:VARCHAR,country:VARCHAR(2),first_order_at:TIMESTAMP,lifetime_orders:INTEGER,segment:VARCHAR",
        rowBytes: 118,
        maxAgeH: 26,
      },
      {
        task: "fct_orders",
        tool: "dbt",
        after: "dim_customers",
        min: 14,
        rows: 182_000,
        cores: 4,
        memMb: 560,
        out: "analytics.fct_orders",
        fields:
          "order_id:BIGINT,customer_id:BIGINT,status:VARCHAR,gross_amount:DECIMAL(12,2),net_amount:DECIMAL(12,2),currency:VARCHAR(3),ordered_at:TIMESTAMP",
        rowBytes: 150,
      },
      {
        task: "fct_order_items",
        tool: "dbt",
        after: "fct_orders",
        min: 9,
        rows: 524_000,
        cores: 4,
        memMb: 540,
        out: "analytics.fct_order_items",
        fields: "order_item_id:BIGINT,order_id:BIGINT,sku:VARCHAR,quantity:INTEGER,unit_price:DECIMAL(12,2)",
        rowBytes: 72,
      },
      {
        task: "fct_refunds",
        tool: "dbt",
        after: "fct_order_items",
        min: 4,
        rows: 6_200,
        cores: 2,
        memMb: 330,
        out: "analytics.fct_refunds",
        fields:
          "refund_id:BIGINT,order_id:BIGINT,refund_reason:VARCHAR,amount:DECIMAL(12,2),refunded_at:TIMESTAMP",
        rowBytes: 88,
      },
      {
        task: "orders_enrichment",
        tool: "spark",
        after: "fct_refunds",
        min: 24,
        rows: 524_000,
        cores: 24,
        memMb: 24_576,
        out: "analytics.orders_enriched",
        fields:
          "order_id:BIGINT,customer_segment:VARCHAR,shipping_zone:VARCHAR,margin:DECIMAL(12,2),is_first_order:BOOLEAN,enriched_at:TIMESTAMP",
        rowBytes: 96,
      },
      {
        task: "sync_orders_to_crm",
        tool: "airflow",
        after: "orders_enrichment",
        min: 18,
        rows: 182_000,
        cores: 0.5,
        memMb: 1_100,
        out: "marts.orders_crm_sync",
        fields: "order_id:BIGINT,crm_account_id:VARCHAR,synced_at:TIMESTAMP,sync_status:VARCHAR",
        rowBytes: 64,
      },
      {
        task: "fct_orders_staging",
        tool: "dbt",
        env: "staging",
        at: "09:00",
        min: 12,
        rows: 18_500,
        cores: 2,
        memMb: 400,
        out: "analytics.fct_orders",
        fields:
          "order_id:BIGINT,customer_id:BIGINT,status:VARCHAR,gross_amount:DECIMAL(12,2),net_amount:DECIMAL(12,2),currency:VARCHAR(3),ordered_at:TIMESTAMP",
        rowBytes: 150,
      },
    ],
  },
  {
    name: "marketing_attribution",
    owner: "@analytics",
    channel: "#analytics",
    tz: "UTC",
    jobs: [
      {
        task: "extract_ad_spend",
        tool: "airflow",
        at: "03:30",
        min: 9,
        rows: 4_200,
        cores: 0.4,
        memMb: 600,
        out: "raw.ad_spend",
        fields: "campaign_id:VARCHAR,channel:VARCHAR,spend:DECIMAL(12,2),currency:VARCHAR(3),spend_date:DATE",
        rowBytes: 80,
      },
      {
        task: "extract_clicks",
        tool: "airflow",
        after: "extract_ad_spend",
        min: 13,
        rows: 2_130_000,
        cores: 1,
        memMb: 1_400,
        out: "raw.ad_clicks",
        fields:
          "click_id:VARCHAR,campaign_id:VARCHAR,user_id:BIGINT,clicked_at:TIMESTAMP,landing_url:VARCHAR",
        rowBytes: 190,
      },
      {
        task: "stg_ad_spend",
        tool: "dbt",
        after: "extract_clicks",
        min: 3,
        rows: 4_200,
        cores: 1,
        memMb: 300,
        out: "staging.stg_ad_spend",
        fields: "campaign_id:VARCHAR,channel:VARCHAR,spend_eur:DECIMAL(12,2),spend_date:DATE",
        rowBytes: 60,
      },
      {
        task: "stg_clicks",
        tool: "dbt",
        after: "stg_ad_spend",
        min: 7,
        rows: 2_130_000,
        cores: 4,
        memMb: 480,
        out: "staging.stg_clicks",
        fields: "click_id:VARCHAR,campaign_id:VARCHAR,user_id:BIGINT,clicked_at:TIMESTAMP",
        rowBytes: 90,
      },
      {
        task: "stg_conversions",
        tool: "dbt",
        after: "stg_clicks",
        min: 5,
        rows: 96_000,
        cores: 2,
        memMb: 360,
        out: "staging.stg_conversions",
        fields:
          "conversion_id:BIGINT,user_id:BIGINT,order_id:BIGINT,converted_at:TIMESTAMP,revenue:DECIMAL(12,2)",
        rowBytes: 84,
      },
      {
        task: "sessionize",
        tool: "dbt",
        after: "stg_conversions",
        min: 17,
        rows: 1_420_000,
        cores: 6,
        memMb: 620,
        out: "marketing.sessions",
        fields:
          "session_id:VARCHAR,user_id:BIGINT,started_at:TIMESTAMP,ended_at:TIMESTAMP,channel:VARCHAR,pageviews:INTEGER",
        rowBytes: 110,
      },
      {
        task: "attribution_model",
        tool: "dbt",
        after: "sessionize",
        min: 21,
        rows: 312_000,
        cores: 6,
        memMb: 700,
        out: "marketing.attribution_touchpoints",
        fields:
          "conversion_id:BIGINT,session_id:VARCHAR,channel:VARCHAR,position:INTEGER,weight:DOUBLE,revenue_share:DECIMAL(12,2)",
        rowBytes: 98,
        // A flapping job writes every other day; a 26 h SLA would make its output a second "stale" story.
        maxAgeH: 72,
      },
      {
        task: "campaign_performance",
        tool: "dbt",
        after: "sessionize",
        // Campaign performance is built from the attributed touchpoints as well.
        reads: ["attribution_model"],
        min: 6,
        rows: 2_800,
        cores: 2,
        memMb: 340,
        out: "marketing.campaign_performance",
        fields:
          "campaign_id:VARCHAR,channel:VARCHAR,spend_eur:DECIMAL(12,2),conversions:INTEGER,roas:DOUBLE,day:DATE",
        rowBytes: 70,
      },
      {
        task: "attribution_model_staging",
        tool: "dbt",
        env: "staging",
        at: "10:30",
        min: 15,
        rows: 31_000,
        cores: 2,
        memMb: 420,
        out: "marketing.attribution_touchpoints",
        fields:
          "conversion_id:BIGINT,session_id:VARCHAR,channel:VARCHAR,position:INTEGER,weight:DOUBLE,revenue_share:DECIMAL(12,2)",
        rowBytes: 98,
      },
    ],
  },
  {
    name: "finance_close",
    owner: "@finance-data",
    channel: "#finance-data",
    tz: "Europe/Berlin",
    jobs: [
      {
        task: "extract_ledger",
        tool: "airflow",
        at: "04:30",
        min: 8,
        rows: 452_000,
        cores: 0.7,
        memMb: 1_000,
        out: "raw.gl_entries",
        fields:
          "entry_id:BIGINT,account_id:VARCHAR,debit:DECIMAL(14,2),credit:DECIMAL(14,2),currency:VARCHAR(3),booked_at:TIMESTAMP",
        rowBytes: 112,
      },
      {
        task: "extract_fx_rates",
        tool: "airflow",
        after: "extract_ledger",
        min: 1.5,
        rows: 170,
        cores: 0.2,
        memMb: 250,
        out: "staging.fx_rates_eod",
        fields: "currency:VARCHAR(3),rate_to_eur:DECIMAL(18,8),rate_date:DATE",
        rowBytes: 40,
      },
      {
        task: "stg_ledger",
        tool: "dbt",
        after: "extract_fx_rates",
        min: 5,
        rows: 452_000,
        cores: 2,
        memMb: 410,
        out: "staging.stg_ledger",
        fields:
          "entry_id:BIGINT,account_id:VARCHAR,amount_eur:DECIMAL(14,2),entry_type:VARCHAR,booked_at:TIMESTAMP",
        rowBytes: 86,
      },
      {
        task: "fx_revaluation",
        tool: "dbt",
        after: "stg_ledger",
        min: 6,
        rows: 38_000,
        cores: 2,
        memMb: 390,
        out: "finance.fx_revaluation",
        fields:
          "account_id:VARCHAR,currency:VARCHAR(3),rate:DECIMAL(18,8),revaluation_eur:DECIMAL(14,2),as_of:DATE",
        rowBytes: 64,
      },
      {
        task: "revenue_recognition",
        tool: "dbt",
        after: "fx_revaluation",
        min: 15,
        rows: 211_000,
        cores: 4,
        memMb: 580,
        out: "finance.revenue_recognition",
        fields:
          "order_id:BIGINT,recognized_eur:DECIMAL(14,2),deferred_eur:DECIMAL(14,2),debits:DECIMAL(14,2),credits:DECIMAL(14,2),period:VARCHAR",
        rowBytes: 92,
      },
      {
        task: "reconcile_payments",
        tool: "spark",
        after: "revenue_recognition",
        min: 19,
        rows: 176_000,
        cores: 16,
        memMb: 16_384,
        out: "finance.payment_reconciliation",
        fields:
          "payment_id:BIGINT,order_id:BIGINT,psp_reference:VARCHAR,match_status:VARCHAR,difference_eur:DECIMAL(12,2)",
        rowBytes: 88,
      },
      {
        task: "tax_report",
        tool: "dbt",
        after: "reconcile_payments",
        min: 4,
        rows: 1_240,
        cores: 1,
        memMb: 300,
        out: "finance.tax_report",
        fields:
          "country:VARCHAR(2),tax_code:VARCHAR,taxable_eur:DECIMAL(14,2),tax_eur:DECIMAL(14,2),period:VARCHAR",
        rowBytes: 58,
      },
      {
        task: "gl_summary",
        tool: "dbt",
        after: "reconcile_payments",
        min: 5,
        rows: 3_400,
        cores: 1,
        memMb: 320,
        out: "finance.gl_summary",
        fields:
          "account_id:VARCHAR,period:VARCHAR,opening_eur:DECIMAL(14,2),closing_eur:DECIMAL(14,2),movement_eur:DECIMAL(14,2)",
        rowBytes: 62,
      },
      {
        task: "fx_reval_dev",
        tool: "airflow",
        env: "dev",
        at: "14:00",
        min: 6,
        rows: 3_800,
        cores: 0.5,
        memMb: 380,
        out: "finance.fx_revaluation",
        fields:
          "account_id:VARCHAR,currency:VARCHAR(3),rate:DECIMAL(18,8),revaluation_eur:DECIMAL(14,2),as_of:DATE",
        rowBytes: 64,
      },
    ],
  },
  {
    name: "ml_features",
    owner: "@ml-platform",
    channel: "#ml-platform",
    tz: "UTC",
    jobs: [
      {
        task: "session_features",
        tool: "spark",
        at: "01:00",
        min: 28,
        rows: 14_200_000,
        cores: 48,
        memMb: 32_768,
        out: "features.session_features",
        fields:
          "user_id:BIGINT,sessions_7d:INTEGER,avg_session_s:DOUBLE,pages_per_session:DOUBLE,last_seen_at:TIMESTAMP",
        rowBytes: 44,
      },
      {
        task: "user_embeddings",
        tool: "spark",
        after: "session_features",
        min: 44,
        rows: 3_100_000,
        cores: 64,
        memMb: 49_152,
        out: "features.user_embeddings",
        fields: "user_id:BIGINT,embedding:ARRAY<FLOAT>,model_version:VARCHAR,computed_at:TIMESTAMP",
        rowBytes: 540,
      },
      {
        task: "item_features",
        tool: "spark",
        after: "user_embeddings",
        min: 18,
        rows: 241_000,
        cores: 16,
        memMb: 16_384,
        out: "features.item_features",
        fields:
          "sku:VARCHAR,views_7d:INTEGER,conversion_rate:DOUBLE,price_band:VARCHAR,embedding:ARRAY<FLOAT>",
        rowBytes: 380,
      },
      {
        task: "feature_store_sync",
        tool: "airflow",
        after: "item_features",
        min: 7,
        rows: 3_340_000,
        cores: 2,
        memMb: 2_048,
        out: "features.online_store_snapshot",
        fields: "entity_id:VARCHAR,feature_set:VARCHAR,version:INTEGER,synced_at:TIMESTAMP",
        rowBytes: 70,
      },
      {
        task: "train_churn_model",
        tool: "airflow",
        after: "feature_store_sync",
        min: 34,
        rows: 3_100_000,
        cores: 8,
        memMb: 12_288,
        out: "ml.churn_scores",
        fields:
          "user_id:BIGINT,churn_probability:DOUBLE,risk_band:VARCHAR,model_version:VARCHAR,scored_at:TIMESTAMP",
        rowBytes: 52,
        sigma: 0.03,
      },
      {
        task: "drift_report",
        tool: "cron",
        after: "feature_store_sync",
        min: 4,
        rows: 3_100_000,
        cores: 1,
        memMb: 2_048,
        out: "ml.feature_drift_report",
        fields: "feature:VARCHAR,psi:DOUBLE,ks_stat:DOUBLE,drifted:BOOLEAN,report_date:DATE",
        rowBytes: 48,
      },
      {
        task: "user_embeddings_staging",
        tool: "spark",
        env: "staging",
        at: "12:00",
        min: 20,
        rows: 310_000,
        cores: 16,
        memMb: 16_384,
        out: "features.user_embeddings",
        fields: "user_id:BIGINT,embedding:ARRAY<FLOAT>,model_version:VARCHAR,computed_at:TIMESTAMP",
        rowBytes: 540,
      },
      {
        task: "feature_backfill_dev",
        tool: "spark",
        env: "dev",
        at: "05:40",
        min: 35,
        rows: 5_000_000,
        cores: 8,
        memMb: 8_192,
        out: "features.session_features_backfill",
        fields: "user_id:BIGINT,sessions_7d:INTEGER,avg_session_s:DOUBLE,backfill_date:DATE",
        rowBytes: 36,
      },
    ],
  },
  {
    name: "ingest_suppliers",
    owner: "@data-eng",
    channel: "#data-alerts",
    tz: "UTC",
    jobs: [
      {
        task: "clickstream_hourly",
        tool: "cron",
        hourly: 20,
        min: 4,
        rows: 410_000,
        cores: 1.5,
        memMb: 1_024,
        out: "raw.clickstream_events",
        fields: "event_id:VARCHAR,user_id:BIGINT,event_type:VARCHAR,page:VARCHAR,occurred_at:TIMESTAMP",
        rowBytes: 140,
      },
      {
        task: "load_adnet_clicks",
        tool: "cron",
        at: "03:15",
        min: 6,
        rows: 2_130_000,
        cores: 1,
        memMb: 768,
        out: "raw.adnet_clicks",
        fields:
          "click_id:VARCHAR,campaign_id:VARCHAR,publisher:VARCHAR,cost_micros:BIGINT,clicked_at:TIMESTAMP",
        rowBytes: 120,
      },
      {
        task: "load_acme_settlements",
        tool: "cron",
        at: "06:30",
        min: 5,
        rows: 176_000,
        cores: 0.5,
        memMb: 512,
        out: "raw.acme_settlements",
        fields:
          "settlement_id:VARCHAR,psp_reference:VARCHAR,amount:DECIMAL(12,2),fee:DECIMAL(12,2),currency:VARCHAR(3),settled_at:TIMESTAMP",
        rowBytes: 130,
      },
      {
        task: "load_shipfast_shipments",
        tool: "cron",
        at: "15:30",
        min: 4,
        rows: 63_000,
        cores: 0.5,
        memMb: 512,
        out: "raw.shipfast_shipments",
        fields:
          "shipment_id:VARCHAR,order_id:BIGINT,tracking_id:VARCHAR,carrier_status:VARCHAR,delivered_at:TIMESTAMP,is_return:BOOLEAN",
        rowBytes: 110,
      },
      {
        task: "load_fx_rates",
        tool: "cron",
        at: "17:15",
        tz: "Europe/Berlin",
        min: 1,
        rows: 170,
        cores: 0.2,
        memMb: 200,
        out: "raw.fx_rates",
        fields: "currency:VARCHAR(3),rate_to_eur:DECIMAL(18,8),published_at:TIMESTAMP",
        rowBytes: 40,
      },
      {
        task: "validate_landing",
        tool: "airflow",
        at: "07:00",
        min: 3,
        rows: 2_370_000,
        cores: 0.8,
        memMb: 900,
        out: "ops.landing_validation",
        fields:
          "file_path:VARCHAR,supplier:VARCHAR,row_count:BIGINT,checksum_ok:BOOLEAN,validated_at:TIMESTAMP",
        rowBytes: 90,
      },
    ],
  },
  {
    name: "dashboards_refresh",
    owner: "@bi-team",
    channel: "#bi-dashboards",
    tz: "UTC",
    jobs: [
      {
        task: "kpi_hourly",
        tool: "cron",
        hourly: 5,
        min: 2.5,
        rows: 1_200,
        cores: 0.5,
        memMb: 400,
        out: "bi.kpi_hourly",
        fields: "metric:VARCHAR,value:DOUBLE,hour:TIMESTAMP",
        rowBytes: 40,
      },
      {
        task: "exec_kpis",
        tool: "airflow",
        at: "06:00",
        tz: "America/New_York",
        min: 6,
        rows: 4_800,
        cores: 0.3,
        memMb: 500,
        out: "bi.exec_kpis_extract",
        fields: "metric:VARCHAR,value:DOUBLE,target:DOUBLE,as_of:DATE",
        rowBytes: 36,
      },
      {
        task: "sales_dashboard",
        tool: "airflow",
        after: "exec_kpis",
        tz: "America/New_York",
        min: 4,
        rows: 12_500,
        cores: 0.3,
        memMb: 480,
        out: "bi.sales_dashboard_extract",
        fields: "region:VARCHAR,day:DATE,orders:INTEGER,revenue_eur:DECIMAL(14,2)",
        rowBytes: 44,
      },
      {
        task: "marketing_dashboard",
        tool: "airflow",
        at: "07:15",
        min: 5,
        rows: 8_400,
        cores: 0.3,
        memMb: 460,
        out: "bi.marketing_dashboard_extract",
        fields: "channel:VARCHAR,day:DATE,spend_eur:DECIMAL(12,2),attributed_revenue_eur:DECIMAL(14,2)",
        rowBytes: 48,
      },
      {
        task: "finance_dashboard",
        tool: "airflow",
        at: "07:45",
        min: 5,
        rows: 5_100,
        cores: 0.3,
        memMb: 470,
        out: "bi.finance_dashboard_extract",
        fields: "account_group:VARCHAR,period:VARCHAR,actual_eur:DECIMAL(14,2),budget_eur:DECIMAL(14,2)",
        rowBytes: 50,
      },
      {
        task: "ops_dashboard",
        tool: "cron",
        at: "07:00",
        min: 2,
        rows: 900,
        cores: 0.2,
        memMb: 300,
        out: "bi.ops_dashboard_extract",
        fields: "pipeline:VARCHAR,day:DATE,runs:INTEGER,failures:INTEGER,p95_minutes:DOUBLE",
        rowBytes: 38,
      },
      {
        task: "exec_kpis_staging",
        tool: "cron",
        env: "staging",
        at: "10:00",
        min: 5,
        rows: 4_800,
        cores: 0.3,
        memMb: 480,
        out: "bi.exec_kpis_extract",
        fields: "metric:VARCHAR,value:DOUBLE,target:DOUBLE,as_of:DATE",
        rowBytes: 36,
      },
    ],
  },
];

/** $ per cpu-second, by tool (warehouse time is dear, cluster cores are cheap). */
const COST_PER_CPU_S: Record<Tool, number> = { spark: 0.00004, dbt: 0.0011, airflow: 0.00002, cron: 0.00001 };

interface SupplierDatasetSpec {
  name: string;
  at: string;
  tz: string;
  rows: number;
  rowBytes: number;
  fields: string;
}

interface SupplierSpec {
  supplier: string;
  owner: string;
  datasets: SupplierDatasetSpec[];
}

const LANDING = "s3://dataops-landing";

const SUPPLIERS: SupplierSpec[] = [
  {
    supplier: "acme_payments",
    owner: "@data-eng",
    datasets: [
      {
        name: "acme_payments/settlements",
        at: "05:30",
        tz: "UTC",
        rows: 176_000,
        rowBytes: 150,
        fields:
          "settlement_id:STRING,psp_reference:STRING,amount:DECIMAL(12,2),fee:DECIMAL(12,2),currency:STRING,settled_at:TIMESTAMP",
      },
    ],
  },
  {
    supplier: "shipfast_logistics",
    owner: "@data-eng",
    datasets: [
      {
        name: "shipfast_logistics/shipments",
        at: "05:30",
        tz: "America/New_York",
        rows: 58_000,
        rowBytes: 180,
        fields:
          "shipment_id:STRING,order_ref:STRING,tracking_id:STRING,carrier_status:STRING,delivered_at:TIMESTAMP",
      },
      {
        name: "shipfast_logistics/returns",
        at: "05:45",
        tz: "America/New_York",
        rows: 5_100,
        rowBytes: 170,
        fields:
          "return_id:STRING,order_ref:STRING,tracking_id:STRING,reason_code:STRING,received_at:TIMESTAMP",
      },
    ],
  },
  {
    supplier: "adnet_clicks",
    owner: "@analytics",
    datasets: [
      {
        name: "adnet_clicks/click_log",
        at: "03:00",
        tz: "UTC",
        rows: 2_130_000,
        rowBytes: 210,
        fields: "click_id:STRING,campaign_id:STRING,publisher:STRING,cost_micros:INT64,clicked_at:TIMESTAMP",
      },
    ],
  },
  {
    supplier: "fx_rates_api",
    owner: "@finance-data",
    datasets: [
      {
        name: "fx_rates_api/daily_rates",
        at: "16:30",
        tz: "Europe/Berlin",
        rows: 170,
        rowBytes: 60,
        fields: "currency:STRING,rate_to_eur:DECIMAL(18,8),published_at:TIMESTAMP",
      },
    ],
  },
];

/** Supplier deliveries may be up to this much older than the previous one and still count as fresh. */
const SUPPLIER_MAX_AGE_H = 30;

// ---------------------------------------------------------------------------------------
// Planted stories and the few other irregularities, by day offset from `until` (-1 = yesterday).

const FLAPPING_JOB = "marketing_attribution.attribution_model";
const FLAPPING_DAYS = 10;
const LATE_START_JOB = "finance_close.gl_summary";
const LATE_START_S = 2 * 3600 + 15 * 60;
const LONG_RUN_JOB = "ml_features.train_churn_model";
const LONG_RUN_FACTOR = 4.1;
const COST_SPIKE_JOB = "ml_features.user_embeddings";
const COST_SPIKE_FACTOR = 5.2;
const STALE_JOB = "orders_daily.dim_customers";
const STALE_FROM = -3;
const SCHEMA_JOB = "orders_daily.fct_orders";
const SCHEMA_FROM = -5;
const SCHEMA_NEW_FIELD: SchemaField = { name: "discount_amount", type: "DECIMAL(12,2)" };
const LATE_SUPPLIER = "shipfast_logistics";
const LATE_SUPPLIER_S = 3.5 * 3600;
const LATE_SUPPLIER_DAYS = 3;

const FLAPPING_ERRORS = [
  "Database Error in model attribution_model (models/marts/attribution_model.sql): deadlock detected while updating marketing.attribution_touchpoints",
  "Database Error in model attribution_model (models/marts/attribution_model.sql): could not serialize access due to concurrent update",
];

/** Failures that are not stories: a runner-up for "troublesome pipelines" and some history. */
const OTHER_FAILURES: Record<string, Record<number, string>> = {
  "ingest_suppliers.load_acme_settlements": {
    [-6]: "sftp.acme-payments.com: Connection reset by peer while listing /outbound/settlements (exit 1)",
    [-4]: "sftp.acme-payments.com: Connection reset by peer while listing /outbound/settlements (exit 1)",
  },
  "dashboards_refresh.marketing_dashboard": {
    [-3]: "Tableau extract refresh timed out after 300 s (datasource 'Marketing Performance')",
  },
  "dashboards_refresh.finance_dashboard": {
    [-15]: "Tableau extract refresh failed: 401 Unauthorized (personal access token expired)",
  },
  "ml_features.drift_report": {
    [-22]: "KeyError: 'sessions_7d' not found in reference profile (exit 1)",
  },
  "ingest_suppliers.validate_landing": {
    [-12]: "Checksum mismatch for s3://dataops-landing/adnet_clicks/click_log (expected 9f1c…, got 03ab…)",
  },
  "ml_features.feature_backfill_dev": {
    [-25]:
      "org.apache.spark.SparkException: Job aborted due to stage failure: ExecutorLostFailure (executor 7 exited, OOMKilled)",
    [-18]:
      "org.apache.spark.SparkException: Job aborted due to stage failure: ExecutorLostFailure (executor 3 exited, OOMKilled)",
  },
  "marketing_attribution.attribution_model_staging": {
    [-14]: "Compilation Error in model attribution_model: 'ref' to 'stg_touchpoints' not found",
  },
};

// ---------------------------------------------------------------------------------------
// Tests and deploys.

type TestKind =
  "not_null" | "unique" | "accepted_values" | "row_count_min" | "relationships" | "expression_is_true";

interface TestSpec {
  name: string;
  job: string;
  kind: TestKind;
  /** Also run daily in the `qa` environment. */
  qa?: boolean;
  /** Non-pass outcomes in prod, by day offset. */
  prod?: Record<number, [TestStatus, string]>;
  /** Non-pass outcomes in qa, by day offset. */
  qaOutcomes?: Record<number, [TestStatus, string]>;
}

const TESTS: TestSpec[] = [
  { name: "not_null_fct_orders_order_id", job: "orders_daily.fct_orders", kind: "not_null" },
  { name: "unique_fct_orders_order_id", job: "orders_daily.fct_orders", kind: "unique", qa: true },
  {
    name: "accepted_values_fct_orders_status",
    job: "orders_daily.fct_orders",
    kind: "accepted_values",
    qa: true,
  },
  { name: "row_count_min_fct_orders", job: "orders_daily.fct_orders", kind: "row_count_min" },
  {
    name: "relationships_fct_orders_customer_id",
    job: "orders_daily.fct_orders",
    kind: "relationships",
    prod: { [-9]: ["warn", "14 orphaned rows (customer_id not in dim_customers)"] },
  },
  { name: "not_null_stg_payments_payment_id", job: "orders_daily.stg_payments", kind: "not_null" },
  {
    name: "accepted_values_stg_payments_method",
    job: "orders_daily.stg_payments",
    kind: "accepted_values",
    qa: true,
    qaOutcomes: { [-1]: ["fail", "1 unexpected value: 'klarna' (412 rows)"] },
  },
  {
    name: "unique_dim_customers_customer_id",
    job: "orders_daily.dim_customers",
    kind: "unique",
    prod: { [-8]: ["fail", "3 duplicate values"] },
  },
  {
    name: "not_null_dim_customers_email",
    job: "orders_daily.dim_customers",
    kind: "not_null",
    prod: { [-17]: ["warn", "211 null values (warn > 0, error > 1000)"] },
  },
  {
    name: "not_null_fct_refunds_refund_reason",
    job: "orders_daily.fct_refunds",
    kind: "not_null",
    prod: {
      [-16]: ["warn", "9 null values (warn > 0, error > 50)"],
      [-2]: ["warn", "4 null values (warn > 0, error > 50)"],
      [-1]: ["warn", "7 null values (warn > 0, error > 50)"],
    },
  },
  { name: "row_count_min_orders_enriched", job: "orders_daily.orders_enrichment", kind: "row_count_min" },
  { name: "unique_fct_order_items_order_item_id", job: "orders_daily.fct_order_items", kind: "unique" },
  { name: "not_null_sessions_session_id", job: "marketing_attribution.sessionize", kind: "not_null" },
  { name: "unique_sessions_session_id", job: "marketing_attribution.sessionize", kind: "unique", qa: true },
  {
    name: "accepted_values_attribution_touchpoints_channel",
    job: "marketing_attribution.attribution_model",
    kind: "accepted_values",
    qa: true,
  },
  {
    name: "not_null_attribution_touchpoints_conversion_id",
    job: "marketing_attribution.attribution_model",
    kind: "not_null",
  },
  {
    name: "row_count_min_campaign_performance",
    job: "marketing_attribution.campaign_performance",
    kind: "row_count_min",
    prod: {
      [-20]: ["warn", "2,310 rows (min 2,400)"],
      [-13]: ["warn", "2,355 rows (min 2,400)"],
    },
  },
  {
    name: "expression_is_true_stg_ad_spend_spend_eur_gte_0",
    job: "marketing_attribution.stg_ad_spend",
    kind: "expression_is_true",
  },
  { name: "not_null_stg_ledger_account_id", job: "finance_close.stg_ledger", kind: "not_null" },
  { name: "unique_stg_ledger_entry_id", job: "finance_close.stg_ledger", kind: "unique" },
  {
    name: "expression_is_true_revenue_recognition_balanced",
    job: "finance_close.revenue_recognition",
    kind: "expression_is_true",
    prod: { [-23]: ["fail", "1 failing row: sum(debits) - sum(credits) = 1,204.17 EUR"] },
  },
  { name: "not_null_fx_revaluation_rate", job: "finance_close.fx_revaluation", kind: "not_null", qa: true },
  {
    name: "row_count_min_payment_reconciliation",
    job: "finance_close.reconcile_payments",
    kind: "row_count_min",
  },
  {
    name: "accepted_values_payment_reconciliation_match_status",
    job: "finance_close.reconcile_payments",
    kind: "accepted_values",
    prod: { [-11]: ["warn", "1 unexpected value: 'pending_psp' (37 rows)"] },
  },
  { name: "not_null_session_features_user_id", job: "ml_features.session_features", kind: "not_null" },
  {
    name: "row_count_min_user_embeddings",
    job: "ml_features.user_embeddings",
    kind: "row_count_min",
    qa: true,
  },
  { name: "not_null_churn_scores_churn_probability", job: "ml_features.train_churn_model", kind: "not_null" },
  {
    name: "accepted_values_churn_scores_risk_band",
    job: "ml_features.train_churn_model",
    kind: "accepted_values",
    qa: true,
  },
  {
    name: "row_count_min_acme_settlements",
    job: "ingest_suppliers.load_acme_settlements",
    kind: "row_count_min",
  },
  {
    name: "not_null_shipfast_shipments_tracking_id",
    job: "ingest_suppliers.load_shipfast_shipments",
    kind: "not_null",
    prod: { [-19]: ["warn", "38 null values (warn > 0, error > 500)"] },
  },
  {
    name: "not_null_exec_kpis_extract_value",
    job: "dashboards_refresh.exec_kpis",
    kind: "not_null",
    qa: true,
  },
];

/** QA test suites run daily at this UTC time against the qa copies of the same models. */
const QA_AT = "11:00";

interface DeployStage {
  env: "dev" | "staging" | "prod";
  day: number;
  at: string;
  status?: DeployStatus;
}

interface ReleaseSpec {
  artifact: string;
  kind: DeployKind;
  /** A semver, or "sha" for a short commit sha drawn from the PRNG. */
  version: string;
  project: string;
  tickets: string[];
  stages: DeployStage[];
}

const RELEASES: ReleaseSpec[] = [
  {
    artifact: "orders_daily",
    kind: "pipeline",
    version: "v2.3.0",
    project: "PRJ-CHECKOUT",
    tickets: ["DATA-1187"],
    stages: [
      { env: "dev", day: -28, at: "10:12" },
      { env: "staging", day: -28, at: "14:40" },
      { env: "prod", day: -27, at: "09:30" },
    ],
  },
  {
    artifact: "spark-jobs",
    kind: "code",
    version: "sha",
    project: "PRJ-GROWTH",
    tickets: ["DATA-1192"],
    stages: [
      { env: "dev", day: -26, at: "11:05" },
      { env: "staging", day: -26, at: "15:20" },
      { env: "prod", day: -25, at: "10:15" },
    ],
  },
  {
    artifact: "exec_kpis_dashboard",
    kind: "dashboard",
    version: "v1.12.0",
    project: "PRJ-GROWTH",
    tickets: ["DATA-1203"],
    stages: [
      { env: "staging", day: -24, at: "13:00" },
      { env: "prod", day: -24, at: "16:45" },
    ],
  },
  {
    artifact: "dim_customers",
    kind: "model",
    version: "v1.8.3",
    project: "PRJ-CHECKOUT",
    tickets: ["DATA-1210"],
    stages: [
      { env: "dev", day: -22, at: "09:50" },
      { env: "staging", day: -21, at: "11:30" },
      { env: "prod", day: -20, at: "10:05" },
    ],
  },
  {
    artifact: "warehouse.finance",
    kind: "schema",
    version: "v0.41.0",
    project: "PRJ-FINANCE",
    tickets: ["DATA-1215"],
    stages: [
      { env: "dev", day: -19, at: "13:20" },
      { env: "staging", day: -18, at: "10:40" },
      { env: "prod", day: -17, at: "08:55" },
    ],
  },
  {
    artifact: "marketing_attribution",
    kind: "pipeline",
    version: "v3.0.1",
    project: "PRJ-GROWTH",
    tickets: ["DATA-1221"],
    stages: [
      { env: "dev", day: -17, at: "14:10" },
      { env: "staging", day: -16, at: "10:25", status: "failed" },
    ],
  },
  {
    artifact: "marketing_attribution",
    kind: "pipeline",
    version: "v3.0.2",
    project: "PRJ-GROWTH",
    tickets: ["DATA-1221", "DATA-1224"],
    stages: [
      { env: "dev", day: -16, at: "13:35" },
      { env: "staging", day: -16, at: "15:05" },
      { env: "prod", day: -15, at: "09:40" },
    ],
  },
  {
    artifact: "attribution_model",
    kind: "model",
    version: "v2.4.0",
    project: "PRJ-GROWTH",
    tickets: ["DATA-1234"],
    stages: [
      { env: "dev", day: -13, at: "11:15" },
      { env: "staging", day: -12, at: "14:30" },
      { env: "prod", day: -11, at: "16:20" },
    ],
  },
  {
    artifact: "dq-checks",
    kind: "code",
    version: "sha",
    project: "PRJ-CHECKOUT",
    tickets: ["DATA-1237"],
    stages: [{ env: "dev", day: -10, at: "15:45" }],
  },
  {
    artifact: "fct_orders",
    kind: "model",
    version: "v3.2.0",
    project: "PRJ-CHECKOUT",
    tickets: ["DATA-1240"],
    stages: [
      { env: "dev", day: -8, at: "10:30" },
      { env: "staging", day: -7, at: "13:10" },
      { env: "prod", day: -6, at: "14:20" },
    ],
  },
  {
    artifact: "sales_dashboard",
    kind: "dashboard",
    version: "v2.0.0",
    project: "PRJ-CHECKOUT",
    tickets: ["DATA-1242"],
    stages: [
      { env: "staging", day: -7, at: "16:00" },
      { env: "prod", day: -5, at: "11:25" },
    ],
  },
  {
    artifact: "dim_customers",
    kind: "model",
    version: "v1.9.0",
    project: "PRJ-CHECKOUT",
    tickets: ["DATA-1244"],
    stages: [
      { env: "dev", day: -6, at: "09:35" },
      { env: "staging", day: -5, at: "15:50" },
      { env: "prod", day: -4, at: "15:10" },
    ],
  },
  {
    artifact: "finance_close",
    kind: "pipeline",
    version: "v1.8.0",
    project: "PRJ-FINANCE",
    tickets: ["DATA-1252"],
    stages: [
      { env: "dev", day: -4, at: "10:50" },
      { env: "staging", day: -3, at: "14:15" },
      { env: "prod", day: -2, at: "15:20", status: "failed" },
    ],
  },
  {
    artifact: "spark-jobs",
    kind: "code",
    version: "sha",
    project: "PRJ-GROWTH",
    tickets: ["DATA-1249"],
    stages: [
      { env: "dev", day: -3, at: "09:45" },
      { env: "staging", day: -3, at: "13:30" },
      { env: "prod", day: -2, at: "11:40" },
    ],
  },
  {
    artifact: "finance_close",
    kind: "pipeline",
    version: "v1.8.1",
    project: "PRJ-FINANCE",
    tickets: ["DATA-1252", "DATA-1255"],
    stages: [
      { env: "dev", day: -2, at: "16:10" },
      { env: "staging", day: -2, at: "16:35" },
      { env: "prod", day: -2, at: "17:05" },
    ],
  },
  {
    artifact: "stg_payments",
    kind: "model",
    version: "v1.3.1",
    project: "PRJ-CHECKOUT",
    tickets: ["DATA-1260"],
    stages: [
      { env: "dev", day: -2, at: "10:20" },
      { env: "staging", day: -1, at: "09:15" },
    ],
  },
  {
    artifact: "ml_features",
    kind: "pipeline",
    version: "v0.14.0",
    project: "PRJ-GROWTH",
    tickets: ["DATA-1258"],
    stages: [
      { env: "dev", day: -1, at: "13:00" },
      { env: "staging", day: -1, at: "16:00" },
    ],
  },
];

// ---------------------------------------------------------------------------------------
// Resolution: group specs → concrete jobs with crons.

interface Job {
  spec: JobSpec;
  group: GroupSpec;
  name: string;
  namespace: Tool;
  env: Env;
  tz: string;
  cron: string;
  /** Local minutes of day for daily jobs (used to place downstream slots). */
  localMin: number;
  upstream?: Job;
  graceSeconds: number;
  dsNamespace: string;
  maxAgeSeconds?: number;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

function hhmm(s: string): number {
  const [h, m] = s.split(":").map(Number);
  return h! * 60 + m!;
}

function parseFields(s: string): SchemaField[] {
  // Commas inside a type's parentheses, as in DECIMAL(12,2), do not separate fields.
  return s.split(/,(?![^(]*\))/).map((f) => {
    const i = f.indexOf(":");
    return { name: f.slice(0, i), type: f.slice(i + 1) };
  });
}

function resolveJobs(): Job[] {
  const out: Job[] = [];
  for (const group of GROUPS) {
    const byTask = new Map<string, Job>();
    for (const spec of group.jobs) {
      const name = `${group.name}.${spec.task}`;
      const env = spec.env ?? "prod";
      const upstream = spec.after ? byTask.get(spec.after) : undefined;
      if (spec.after && !upstream) throw new Error(`demo fleet: ${name} waits on unknown ${spec.after}`);
      const tz = spec.tz ?? upstream?.tz ?? group.tz;
      let cron: string;
      let localMin = -1;
      if (spec.hourly !== undefined) {
        cron = `${spec.hourly} * * * *`;
      } else {
        if (upstream) {
          // Far enough after the upstream's typical end that noise never delays this start.
          const gap = Math.ceil((upstream.spec.min * 1.3 + 5) / 5) * 5;
          localMin = upstream.localMin + gap;
        } else {
          localMin = hhmm(spec.at ?? "00:00");
        }
        cron = `${localMin % 60} ${Math.floor(localMin / 60)} * * *`;
      }
      const maxAgeH =
        spec.maxAgeH !== undefined
          ? spec.maxAgeH
          : env !== "prod"
            ? null
            : spec.hourly !== undefined
              ? 2
              : 28;
      const job: Job = {
        spec,
        group,
        name,
        namespace: spec.tool,
        env,
        tz,
        cron,
        localMin,
        graceSeconds: spec.hourly !== undefined ? 1800 : (30 + (hash32(name) % 7) * 5) * 60,
        dsNamespace: env === "prod" ? "warehouse" : `warehouse_${env}`,
      };
      if (upstream) job.upstream = upstream;
      if (maxAgeH !== null) job.maxAgeSeconds = maxAgeH * 3600;
      byTask.set(spec.task, job);
      out.push(job);
    }
  }
  return out;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset in ms at instant `t`. */
function zoneOffset(t: number, tz: string): number {
  let f = zoneFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    zoneFormats.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t)))
    if (part.type !== "literal") p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/**
 * Slots with from ≤ t < to of the only two cron shapes the fleet uses, "M H * * *" (in
 * `tz`) and "M * * * *" (UTC): plain arithmetic, since a cron library is ~100× slower here.
 * No local time of the fleet falls into a daylight-saving gap, and the tests check every
 * slot against cron-parser.
 */
function slotsBetween(cron: string, tz: string, from: number, to: number): Date[] {
  const [minute, hour] = cron.split(" ").map((f) => (f === "*" ? -1 : Number(f)));
  const out: Date[] = [];
  if (hour === -1) {
    if (tz !== "UTC") throw new Error(`demo fleet: hourly crons are UTC only (${cron} ${tz})`);
    for (let t = Math.floor(from / HOUR) * HOUR + minute! * MINUTE; t < to; t += HOUR) {
      if (t >= from) out.push(new Date(t));
    }
    return out;
  }
  for (let day = Math.floor(from / DAY) * DAY - DAY; day < to + DAY; day += DAY) {
    const local = day + hour! * HOUR + minute! * MINUTE;
    let t = local - zoneOffset(local, tz);
    t = local - zoneOffset(t, tz);
    if (t >= from && t < to) out.push(new Date(t));
  }
  return out;
}

const dayKey = (t: number) => new Date(t).toISOString().slice(0, 10);
const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const fmtInt = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const fmtDur = (ms: number) => {
  const m = Math.round(ms / MINUTE);
  return m >= 60 ? `${Math.floor(m / 60)}h${pad2(m % 60)}m` : `${m}m`;
};
const hm = (d: Date) => `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} UTC`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface GeneratedRun {
  job: Job;
  offset: number;
  event: RunEvent;
}

/**
 * The demo fleet for the `days` (default 30) UTC days before `until`, plus the `until` day
 * itself up to `todayHours` (default 6) hours past midnight UTC; runs still going at that
 * point are reported as "running". `until` = the UTC midnight that ends the seeded history
 * (the caller picks it, normally today 00:00 UTC). Stories are placed relative to `until`
 * ("yesterday" = until − 1 day). Deterministic: same options → byte-identical output.
 */
export function generateDemoFleet(opts: { until: Date; days?: number; todayHours?: number }): DemoFleet {
  const days = opts.days ?? 30;
  const todayHours = opts.todayHours ?? DEMO_TODAY_HOURS;
  if (!(todayHours >= 0 && todayHours <= 24)) {
    throw new RangeError(`todayHours must be from 0 to 24, got ${todayHours}`);
  }
  if (!Number.isInteger(days) || days < 15 || days > 365) {
    throw new RangeError(
      `days must be an integer from 15 to 365 (stories need 14 days of history), got ${days}`,
    );
  }
  const until = opts.until.getTime();
  if (Number.isNaN(until) || until % DAY !== 0) {
    throw new RangeError(
      `until must be a UTC midnight, got ${Number.isNaN(until) ? "an invalid date" : opts.until.toISOString()}`,
    );
  }
  const start = until - days * DAY;
  const horizon = until + todayHours * HOUR;
  const offsetOf = (t: number) => Math.floor((t - until) / DAY);
  const dayOf = (offset: number) => dayKey(until + offset * DAY);

  const jobs = resolveJobs();
  const events: HoustonEvent[] = [];
  const runs: GeneratedRun[] = [];
  /** End of each job's run per UTC day, for placing downstream starts. */
  const ends = new Map<string, number>();

  // What each job reads: its upstream's table and any other of its group's it names.
  const readsOf = new Map<Job, { namespace: string; name: string }[]>();
  const inputsOf = (job: Job) => {
    let got = readsOf.get(job);
    if (!got) {
      const from = [
        ...(job.upstream ? [job.upstream] : []),
        ...(job.spec.reads ?? []).flatMap((t) =>
          jobs.filter((j) => j.group.name === job.group.name && j.env === job.env && j.spec.task === t),
        ),
      ];
      got = from.map((j) => ({ namespace: j.dsNamespace, name: j.spec.out }));
      readsOf.set(job, got);
    }
    return got;
  };

  // --- Runs and output datasets -------------------------------------------------------
  for (const job of jobs) {
    const perDay = new Map<string, number>();
    const history: { offset: number; durS: number; rows: number; cpu: number; memoryMb: number }[] = [];
    for (const slot of slotsBetween(job.cron, job.tz, start, horizon)) {
      const slotMs = slot.getTime();
      const day = dayKey(slotMs);
      const n = perDay.get(day) ?? 0;
      perDay.set(day, n + 1);
      const offset = offsetOf(slotMs);
      const r = rngFor(`run:${job.name}:${day}:${n}`);
      const zDur = gauss(r, NOISE_LIMIT);
      const zRows = gauss(r, NOISE_LIMIT);
      const zCpu = gauss(r, NOISE_LIMIT);
      const zMem = gauss(r, NOISE_LIMIT);
      const jitterS = Math.round(between(r, 4, job.name === LATE_START_JOB && offset === -1 ? 30 : 150));

      let startMs = slotMs;
      if (job.upstream) {
        const upEnd = ends.get(`${job.upstream.name}@${day}`);
        if (upEnd === undefined) continue; // upstream did not run (not in this window)
        startMs = Math.max(slotMs, upEnd + 20_000);
      }
      if (job.name === LATE_START_JOB && offset === -1) startMs += LATE_START_S * 1000;
      startMs += jitterS * 1000;
      if (startMs >= horizon) continue;

      const spec = job.spec;
      const sigma = spec.sigma ?? 0.06;
      let durS = spec.min * 60 * Math.exp(sigma * zDur);
      let rows = spec.rows * Math.exp(0.03 * zRows);
      let cpu = durS * spec.cores * Math.exp(0.03 * zCpu);
      let memoryMb = spec.memMb * Math.exp(0.04 * zMem);
      // Yesterday and today sit in the middle of the job's own last 14 days, so that only
      // the planted stories stand out to an anomaly detector.
      if (offset >= -1) {
        const window = history.filter((h) => h.offset >= offset - 14 && h.offset <= offset - 1);
        if (window.length >= 5) {
          durS = steady(
            window.map((h) => h.durS),
            r,
          );
          rows = steady(
            window.map((h) => h.rows),
            r,
          );
          cpu = steady(
            window.map((h) => h.cpu),
            r,
          );
          memoryMb = steady(
            window.map((h) => h.memoryMb),
            r,
          );
        }
      }
      if (job.name === LONG_RUN_JOB && offset === -1) durS *= LONG_RUN_FACTOR; // it waited, it did not work
      if (job.name === COST_SPIKE_JOB && offset === -1) cpu *= COST_SPIKE_FACTOR;

      let error: string | undefined;
      let part = 1;
      if (job.name === FLAPPING_JOB && offset >= -FLAPPING_DAYS && offset <= -1 && -offset % 2 === 1) {
        error = FLAPPING_ERRORS[(-offset >> 1) % 2]!;
        part = between(r, 0.86, 0.95); // it fails in the final merge, so the duration looks normal
      } else {
        error = OTHER_FAILURES[job.name]?.[offset];
        if (error) part = between(r, 0.3, 0.7);
      }
      durS = Math.max(20, Math.round(durS * part));
      cpu *= part;
      rows = Math.round(rows);
      memoryMb = Math.round(memoryMb);
      const endMs = startMs + durS * 1000;
      ends.set(`${job.name}@${day}`, endMs);
      if (!error && endMs <= horizon) history.push({ offset, durS, rows, cpu, memoryMb });

      const runId = uuid(r);
      const base = {
        type: "run" as const,
        id: `demo:run:${job.name}:${day}:${n}`,
        namespace: job.namespace,
        job: job.name,
        runId,
        scheduledFor: new Date(slotMs),
        startedAt: new Date(startMs),
        group: job.group.name,
        environment: job.env,
        tool: job.spec.tool,
        owner: job.group.owner,
        // What it reads: the table its upstream job writes (a lineage edge; the write edge
        // comes from the dataset event's run_id below).
        ...(inputsOf(job).length ? { inputs: inputsOf(job) } : {}),
      };
      let event: RunEvent;
      if (endMs > horizon) {
        event = { ...base, status: "running", eventTime: new Date(startMs) };
      } else {
        event = {
          ...base,
          status: error ? "failed" : "success",
          endedAt: new Date(endMs),
          ...(error ? {} : { rows }),
          cpuSeconds: round(cpu, 1),
          memoryMb,
          cost: round(cpu * COST_PER_CPU_S[spec.tool], 6),
          ...(spec.tool === "cron" ? { exitCode: error ? 1 : 0 } : {}),
          ...(error ? { error } : {}),
          eventTime: new Date(endMs),
        };
      }
      events.push(event);
      runs.push({ job, offset, event });

      if (event.status !== "success") continue;
      if (job.name === STALE_JOB && offset >= STALE_FROM) continue; // runs, but no longer writes
      let schema = parseFields(spec.fields);
      if (job.name === SCHEMA_JOB && offset >= SCHEMA_FROM) schema = [...schema, SCHEMA_NEW_FIELD];
      const ds: DatasetEvent = {
        type: "dataset",
        id: `demo:dataset:${job.dsNamespace}/${spec.out}:${day}:${n}`,
        namespace: job.dsNamespace,
        dataset: spec.out,
        updatedAt: new Date(endMs),
        rows,
        bytes: Math.round(rows * spec.rowBytes * (1 + 0.002 * (r() - 0.5))),
        owner: job.group.owner,
        schema,
        runId,
        producer: { namespace: job.namespace, job: job.name },
      };
      events.push(ds);
    }
  }

  // --- Supplier deliveries ------------------------------------------------------------
  const supplierDeliveries = new Map<string, Date[]>();
  for (const sup of SUPPLIERS) {
    for (const d of sup.datasets) {
      const history: { offset: number; rows: number }[] = [];
      const t = hhmm(d.at);
      const cron = `${t % 60} ${Math.floor(t / 60)} * * *`;
      for (const slot of slotsBetween(cron, d.tz, start - DAY, horizon + DAY)) {
        const day = dayKey(slot.getTime());
        const offset = offsetOf(slot.getTime());
        const r = rngFor(`delivery:${d.name}:${day}`);
        const late = sup.supplier === LATE_SUPPLIER && offset >= -LATE_SUPPLIER_DAYS && offset <= -1;
        const arrival =
          slot.getTime() +
          (late ? LATE_SUPPLIER_S * 1000 + between(r, -6, 6) * MINUTE : -between(r, 8, 40) * MINUTE);
        const at = Math.round(arrival / 1000) * 1000;
        if (at < start || at >= horizon) continue;
        let rows = d.rows * Math.exp(0.03 * gauss(r, NOISE_LIMIT));
        if (offset >= -1) {
          const window = history.filter((h) => h.offset >= offset - 14 && h.offset <= offset - 1);
          if (window.length >= 5)
            rows = steady(
              window.map((h) => h.rows),
              r,
            );
        }
        rows = Math.round(rows);
        history.push({ offset, rows });
        events.push({
          type: "dataset",
          id: `demo:dataset:${LANDING}/${d.name}:${day}:0`,
          namespace: LANDING,
          dataset: d.name,
          updatedAt: new Date(at),
          rows,
          bytes: Math.round(rows * d.rowBytes),
          supplier: sup.supplier,
          owner: sup.owner,
          schema: parseFields(d.fields),
        });
        if (late) {
          const list = supplierDeliveries.get(d.name) ?? [];
          list.push(new Date(at));
          supplierDeliveries.set(d.name, list);
        }
      }
    }
  }

  // --- Tests --------------------------------------------------------------------------
  const jobByName = new Map(jobs.map((j) => [j.name, j]));
  const updatesByJob = new Map<string, DatasetEvent[]>();
  for (const e of events) {
    if (e.type === "dataset" && e.producer) {
      const list = updatesByJob.get(e.producer.job) ?? [];
      list.push(e);
      updatesByJob.set(e.producer.job, list);
    }
  }
  for (const t of TESTS) {
    const job = jobByName.get(t.job);
    if (!job) throw new Error(`demo fleet: test ${t.name} on unknown job ${t.job}`);
    const min = Math.round((job.spec.rows * 0.75) / 100) * 100;
    const passValue = (rows: number): string => {
      switch (t.kind) {
        case "not_null":
          return "0 null values";
        case "unique":
          return "0 duplicate values";
        case "accepted_values":
          return "0 unexpected values";
        case "relationships":
          return "0 orphaned rows";
        case "expression_is_true":
          return "0 failing rows";
        case "row_count_min":
          return `${fmtInt(rows)} rows (min ${fmtInt(min)})`;
      }
    };
    const common = {
      type: "test" as const,
      test: t.name,
      dataset: job.spec.out,
      datasetNamespace: job.dsNamespace,
      job: job.name,
      jobNamespace: job.namespace,
    };
    for (const u of updatesByJob.get(job.name) ?? []) {
      const offset = offsetOf(u.updatedAt.getTime());
      const day = dayKey(u.updatedAt.getTime());
      const r = rngFor(`test:${t.name}:${day}`);
      const at = u.updatedAt.getTime() + Math.round(between(r, 25, 110)) * 1000;
      if (at >= horizon) continue;
      const [status, value] = t.prod?.[offset] ?? ["pass" as TestStatus, passValue(u.rows ?? 0)];
      const ev: TestEvent = {
        ...common,
        id: `demo:test:prod:${t.name}:${day}`,
        status,
        environment: "prod",
        value,
        at: new Date(at),
      };
      if (u.runId) ev.runId = u.runId;
      events.push(ev);
    }
    if (t.qa) {
      for (let offset = -days; offset <= 0; offset++) {
        const day = dayOf(offset);
        const r = rngFor(`qa:${t.name}:${day}`);
        const at = until + offset * DAY + hhmm(QA_AT) * MINUTE + Math.round(between(r, 30, 600)) * 1000;
        if (at < start || at >= horizon) continue;
        const qaRows = Math.round(job.spec.rows * 0.1 * Math.exp(0.03 * gauss(r, 2)));
        const [status, value] = t.qaOutcomes?.[offset] ?? [
          "pass" as TestStatus,
          t.kind === "row_count_min"
            ? `${fmtInt(qaRows)} rows (min ${fmtInt(Math.round(min / 1000) * 100)})`
            : passValue(qaRows),
        ];
        events.push({
          ...common,
          id: `demo:test:qa:${t.name}:${day}`,
          status,
          environment: "qa",
          value,
          at: new Date(at),
        });
      }
    }
  }

  // --- Deploys ------------------------------------------------------------------------
  const failedDeploys: DeployEvent[] = [];
  const fixDeploys: DeployEvent[] = [];
  for (const rel of RELEASES) {
    const version =
      rel.version === "sha" ? sha(rngFor(`sha:${rel.artifact}:${rel.tickets.join(",")}`)) : rel.version;
    for (const st of rel.stages) {
      const r = rngFor(`deploy:${rel.artifact}:${version}:${st.env}`);
      const at = until + st.day * DAY + hhmm(st.at) * MINUTE + Math.round(between(r, 0, 59)) * 1000;
      if (at < start || at >= horizon) continue;
      const ev: DeployEvent = {
        type: "deploy",
        id: `demo:deploy:${rel.artifact}:${st.env}:${version}`,
        artifact: rel.artifact,
        kind: rel.kind,
        version,
        environment: st.env,
        status: st.status ?? "success",
        at: new Date(at),
        project: rel.project,
        tickets: [...rel.tickets],
      };
      events.push(ev);
      if (rel.artifact === "finance_close" && st.env === "prod") {
        (ev.status === "failed" ? failedDeploys : fixDeploys).push(ev);
      }
    }
  }

  // --- Stories (numbers taken from the generated events) ------------------------------
  const stories: DemoStory[] = [];
  const yesterday = dayOf(-1);
  const runsOf = (name: string) => runs.filter((x) => x.job.name === name);
  const durMs = (e: RunEvent) => e.endedAt!.getTime() - e.startedAt!.getTime();
  const history = (name: string, pick: (e: RunEvent) => number) =>
    runsOf(name)
      .filter((x) => x.offset >= -15 && x.offset <= -2 && x.event.status === "success")
      .map((x) => pick(x.event));
  const runOn = (name: string, offset: number) => runsOf(name).find((x) => x.offset === offset)?.event;

  const flaps = runsOf(FLAPPING_JOB).filter((x) => x.offset >= -FLAPPING_DAYS && x.offset <= -1);
  if (flaps.length) {
    const seq = flaps.map((x) => (x.event.status === "failed" ? "F" : "S")).join("");
    stories.push({
      kind: "flapping",
      subject: FLAPPING_JOB,
      day: yesterday,
      detail:
        `dbt job ${FLAPPING_JOB} (namespace dbt, prod) alternates failed/success every day since ${dayOf(-FLAPPING_DAYS)} ` +
        `(oldest→newest ${seq}: ${flaps.filter((x) => x.event.status === "failed").length} failures in ${flaps.length} runs, ` +
        `${flaps.filter((x) => x.offset >= -7 && x.event.status === "failed").length} in the last 7 days, failed yesterday) — ` +
        `deadlocks against marketing_attribution.campaign_performance, since attribution_model v2.4.0 reached prod on ${dayOf(-11)}. ` +
        `The most troublesome pipeline of the week; runner-up is ingest_suppliers.load_acme_settlements (2 failures).`,
    });
  }
  const late = runOn(LATE_START_JOB, -1);
  if (late) {
    const delay = late.startedAt!.getTime() - late.scheduledFor!.getTime();
    stories.push({
      kind: "late_start",
      subject: LATE_START_JOB,
      day: yesterday,
      detail:
        `${LATE_START_JOB} (namespace dbt, prod, cron in Europe/Berlin) was scheduled for ${hm(late.scheduledFor!)} ` +
        `but started at ${hm(late.startedAt!)}: ${fmtDur(delay)} late (grace ${jobByName.get(LATE_START_JOB)!.graceSeconds / 60} min); ` +
        `its duration (${fmtDur(durMs(late))}) was normal.`,
    });
  }
  const long = runOn(LONG_RUN_JOB, -1);
  if (long?.endedAt) {
    const med = median(history(LONG_RUN_JOB, durMs));
    const ratio = durMs(long) / med;
    const common = `${LONG_RUN_JOB} (namespace airflow, prod) started on time at ${hm(long.startedAt!)} and ran ${fmtDur(durMs(long))}, ${ratio.toFixed(1)}× its 14-day median of ${fmtDur(med)}`;
    stories.push({
      kind: "long_run",
      subject: LONG_RUN_JOB,
      day: yesterday,
      detail: `${common}; it waited on a warehouse lock, so cpu, memory, rows and cost were normal.`,
    });
    stories.push({
      kind: "duration_anomaly",
      subject: LONG_RUN_JOB,
      day: yesterday,
      detail: `${common} (history σ ≈ 3%): the only duration anomaly of the day.`,
    });
  }
  const stale = jobByName.get(STALE_JOB)!;
  const lastUpdate = (updatesByJob.get(STALE_JOB) ?? []).at(-1);
  if (lastUpdate) {
    stories.push({
      kind: "stale_dataset",
      subject: stale.spec.out,
      day: dayOf(STALE_FROM),
      detail:
        `${stale.dsNamespace}/${stale.spec.out} (written by ${STALE_JOB}) has no update since ${lastUpdate.updatedAt.toISOString()} ` +
        `although its job still succeeds daily (dim_customers v1.9.0 reached prod the day before); ` +
        `freshness SLA 26 h, so it is ${((until - lastUpdate.updatedAt.getTime()) / HOUR).toFixed(1)} h old at ${dayKey(until)} 00:00 UTC.`,
    });
  }
  const lateDeliveries = [...supplierDeliveries.entries()];
  if (lateDeliveries.length) {
    const sup = SUPPLIERS.find((s) => s.supplier === LATE_SUPPLIER)!;
    stories.push({
      kind: "late_supplier",
      subject: LATE_SUPPLIER,
      day: yesterday,
      detail:
        `${LATE_SUPPLIER} delivered ~3.5 h after its usual arrival on each of the last ${LATE_SUPPLIER_DAYS} days ` +
        `(${dayOf(-LATE_SUPPLIER_DAYS)}..${yesterday}): ` +
        sup.datasets
          .map(
            (d) =>
              `${d.name} expected ${d.at} ${d.tz}, arrived ${(supplierDeliveries.get(d.name) ?? []).map(hm).join(", ")}`,
          )
          .join("; ") +
        `. Before that it always arrived 8–40 min early.`,
    });
  }
  const failed = failedDeploys[0];
  if (failed) {
    const fix = fixDeploys.find((d) => d.at > failed.at);
    stories.push({
      kind: "failed_deploy",
      subject: failed.artifact,
      day: dayKey(failed.at.getTime()),
      detail:
        `${failed.artifact} ${failed.version} (pipeline, ${failed.project}, ${failed.tickets.join(", ")}) failed to deploy to prod at ${hm(failed.at)}` +
        (fix ? `; ${fix.version} succeeded at ${hm(fix.at)} the same day.` : ".") +
        ` The only failed prod deploy in the period (one staging deploy, marketing_attribution v3.0.1, failed on ${dayOf(-16)}).`,
    });
  }
  const schemaJob = jobByName.get(SCHEMA_JOB)!;
  const firstNew = (updatesByJob.get(SCHEMA_JOB) ?? []).find(
    (u) => offsetOf(u.updatedAt.getTime()) >= SCHEMA_FROM,
  );
  if (firstNew) {
    stories.push({
      kind: "schema_change",
      subject: schemaJob.spec.out,
      day: dayOf(SCHEMA_FROM),
      detail:
        `${schemaJob.dsNamespace}/${schemaJob.spec.out} gained column ${SCHEMA_NEW_FIELD.name} ${SCHEMA_NEW_FIELD.type} ` +
        `at ${firstNew.updatedAt.toISOString()} (fct_orders v3.2.0 reached prod the day before); the only schema change in the period.`,
    });
  }
  const spike = runOn(COST_SPIKE_JOB, -1);
  if (spike?.endedAt) {
    const medCost = median(history(COST_SPIKE_JOB, (e) => e.cost ?? 0));
    const medCpu = median(history(COST_SPIKE_JOB, (e) => e.cpuSeconds ?? 0));
    stories.push({
      kind: "cost_spike",
      subject: COST_SPIKE_JOB,
      day: yesterday,
      detail:
        `${COST_SPIKE_JOB} (namespace spark, prod) cost $${spike.cost!.toFixed(2)} and ${fmtInt(spike.cpuSeconds!)} cpu-seconds, ` +
        `${(spike.cost! / medCost).toFixed(1)}× its 14-day median ($${medCost.toFixed(2)}, ${fmtInt(medCpu)} cpu-s); ` +
        `duration, rows and memory were normal (spark-jobs executor change reached prod the day before).`,
    });
  }

  // --- Assemble -----------------------------------------------------------------------
  const timeOf = (e: HoustonEvent): number => {
    switch (e.type) {
      case "run":
        return e.eventTime.getTime();
      case "dataset":
        return e.updatedAt.getTime();
      case "test":
      case "deploy":
        return e.at.getTime();
      case "job":
        return 0;
    }
  };
  events.sort((a, b) => timeOf(a) - timeOf(b) || (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0));

  const schedules: DemoSchedule[] = jobs.map((j) => ({
    namespace: j.namespace,
    job: j.name,
    cron: j.cron,
    timezone: j.tz,
    graceSeconds: j.graceSeconds,
  }));
  const datasets: DemoDataset[] = [];
  const seen = new Set<string>();
  for (const j of jobs) {
    const key = `${j.dsNamespace}/${j.spec.out}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const d: DemoDataset = { namespace: j.dsNamespace, name: j.spec.out, owner: j.group.owner };
    if (j.maxAgeSeconds !== undefined) d.maxAgeSeconds = j.maxAgeSeconds;
    datasets.push(d);
  }
  for (const sup of SUPPLIERS) {
    for (const d of sup.datasets) {
      datasets.push({
        namespace: LANDING,
        name: d.name,
        supplier: sup.supplier,
        owner: sup.owner,
        maxAgeSeconds: SUPPLIER_MAX_AGE_H * 3600,
        expectedArrival: d.at,
        timezone: d.tz,
      });
    }
  }
  const demoJobs: DemoJob[] = jobs.map((j) => ({
    namespace: j.namespace,
    job: j.name,
    group: j.group.name,
    tool: j.spec.tool,
    environment: j.env,
    owner: j.group.owner,
    slackChannel: j.group.channel,
    output: { namespace: j.dsNamespace, name: j.spec.out },
    ...(j.upstream ? { after: j.upstream.name } : {}),
  }));
  return { events, schedules, datasets, stories, jobs: demoJobs };
}
