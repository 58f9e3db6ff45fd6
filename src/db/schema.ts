// The run-history store. Sized for ~10M runs and ~5,000 jobs: every question the
// product asks ("latest run of X", "runs of X in a window", "latest update of Y",
// "failed deploys in 7 days", "per-job stats for a day") is an index range scan here.
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
// Time indexes are ascending on purpose: a backward scan serves "ORDER BY t DESC", whereas
// drizzle's .desc() builds DESC NULLS LAST, which a plain DESC order cannot use.

export const RUN_STATUSES = ["running", "success", "failed", "cancelled", "skipped"] as const;
export const TEST_STATUSES = ["pass", "fail", "warn", "error", "skip"] as const;
export const DEPLOY_KINDS = ["pipeline", "model", "dashboard", "code", "schema"] as const;
export const DEPLOY_STATUSES = ["success", "failed", "rolled_back"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type TestStatus = (typeof TEST_STATUSES)[number];
export type DeployKind = (typeof DEPLOY_KINDS)[number];
export type DeployStatus = (typeof DEPLOY_STATUSES)[number];

export const jobs = pgTable(
  "jobs",
  {
    id: serial("id").primaryKey(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    // The producing tool (dbt, spark, airflow, flink, cron, …).
    tool: text("tool"),
    groupName: text("group_name"),
    environment: text("environment"),
    owner: text("owner"),
    slackChannel: text("slack_channel"),
    createdAt: tz("created_at").notNull().defaultNow(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("jobs_namespace_name_uq").on(t.namespace, t.name),
    index("jobs_name_idx").on(t.name),
    index("jobs_group_idx").on(t.groupName),
  ],
);

export const runs = pgTable(
  "runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    jobId: integer("job_id")
      .notNull()
      .references(() => jobs.id),
    externalId: text("external_id").notNull(),
    status: text("status").$type<RunStatus>().notNull(),
    scheduledFor: tz("scheduled_for"),
    startedAt: tz("started_at"),
    endedAt: tz("ended_at"),
    // A run that arrives as "finished" before its "started" has no start yet; run_at is
    // the best-known time of the run and what every index and the rollup key on.
    runAt: tz("run_at")
      .notNull()
      .generatedAlwaysAs(sql`coalesce(started_at, ended_at, scheduled_for)`),
    durationMs: bigint("duration_ms", { mode: "number" }).generatedAlwaysAs(
      sql`(extract(epoch from (ended_at - started_at)) * 1000)::bigint`,
    ),
    rows: bigint("rows", { mode: "number" }),
    // Records the run rejected or could not load (the producer's own count).
    badRecords: bigint("bad_records", { mode: "number" }),
    cpuSeconds: doublePrecision("cpu_seconds"),
    memoryMb: doublePrecision("memory_mb"),
    cost: doublePrecision("cost"),
    exitCode: integer("exit_code"),
    error: text("error"),
    parentRunId: text("parent_run_id"),
    environment: text("environment"),
    // Event time of the status we hold, so a late-arriving older event cannot overwrite it.
    statusAt: tz("status_at").notNull(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("runs_job_external_uq").on(t.jobId, t.externalId),
    // A dataset event names its producing run by run_id alone (no job): finding the
    // writer's job for the lineage graph is a probe here rather than a scan of all runs.
    index("runs_external_idx").on(t.externalId),
    index("runs_job_run_at_idx").on(t.jobId, t.runAt),
    // Fleet-wide windows ("yesterday's work"): rows arrive roughly in time order, so a
    // BRIN index is almost free in size and good enough for day-sized ranges.
    index("runs_run_at_brin").using("brin", t.runAt),
    // Failure questions only ever look at the failing minority.
    index("runs_failed_idx")
      .on(t.runAt, t.jobId)
      .where(sql`status = 'failed'`),
    index("runs_running_idx")
      .on(t.jobId)
      .where(sql`status = 'running'`),
    check("runs_status_ck", sql`status IN ('running','success','failed','cancelled','skipped')`),
  ],
);

// Per job and UTC day: kept current as runs land (see src/db/rollup.ts), so 30-day series
// and fleet-wide day stats never scan raw runs.
export const runDaily = pgTable(
  "run_daily",
  {
    jobId: integer("job_id").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    runs: integer("runs").notNull(),
    successes: integer("successes").notNull(),
    failures: integer("failures").notNull(),
    running: integer("running").notNull(),
    durationP50Ms: doublePrecision("duration_p50_ms"),
    durationP95Ms: doublePrecision("duration_p95_ms"),
    durationMaxMs: doublePrecision("duration_max_ms"),
    durationTotalMs: doublePrecision("duration_total_ms"),
    rows: bigint("rows", { mode: "number" }),
    badRecords: bigint("bad_records", { mode: "number" }),
    cpuSeconds: doublePrecision("cpu_seconds"),
    memoryMbMax: doublePrecision("memory_mb_max"),
    cost: doublePrecision("cost"),
    firstRunAt: tz("first_run_at"),
    lastRunAt: tz("last_run_at"),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.day] }), index("run_daily_day_idx").on(t.day)],
);

// (job, day) pairs whose rollup row is out of date: an append-only queue. Writers only
// insert (no unique key, so concurrent writers marking the same day never wait on each
// other's row locks); one flusher at a time takes rows, de-duplicates the keys and
// recomputes them from committed runs (see src/db/rollup.ts).
export const rollupDirty = pgTable("rollup_dirty", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  jobId: integer("job_id").notNull(),
  day: date("day", { mode: "string" }).notNull(),
  // When the key was marked: the oldest one says how far the rollup lags.
  touchedAt: tz("touched_at").notNull().defaultNow(),
});

// A job's declared schedule. Source says who owns the row: houston.yml ("config") is
// re-synced at every start; "demo" rows come from `houston demo`.
export const jobSchedules = pgTable("job_schedules", {
  jobId: integer("job_id")
    .primaryKey()
    .references(() => jobs.id),
  cron: text("cron").notNull(),
  timezone: text("timezone").notNull(),
  graceSeconds: integer("grace_seconds").notNull(),
  source: text("source").notNull(),
  updatedAt: tz("updated_at").notNull().defaultNow(),
});

// Expected slots expanded from schedules, matched to runs as runs are ingested, so
// "which expected runs are missing" is a lookup of unmatched rows, not a join.
export const expectedRuns = pgTable(
  "expected_runs",
  {
    jobId: integer("job_id").notNull(),
    slotAt: tz("slot_at").notNull(),
    // A run whose nominal time (else start time) falls in [opens_at, closes_at) belongs to
    // this slot. opens_at is a little before slot_at so a cron job whose clock runs a few
    // seconds fast still counts; closes_at is the next slot's opens_at.
    opensAt: tz("opens_at").notNull(),
    closesAt: tz("closes_at").notNull(),
    // slot_at + grace: after this an unmatched slot is a missed run.
    dueAt: tz("due_at").notNull(),
    // The run that fulfilled this slot (its start time, for lateness, is on the run).
    runId: bigint("run_id", { mode: "number" }),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.slotAt] }),
    index("expected_runs_unmatched_due_idx")
      .on(t.dueAt)
      .where(sql`run_id IS NULL`),
    index("expected_runs_job_opens_idx").on(t.jobId, t.opensAt),
    index("expected_runs_slot_idx").on(t.slotAt),
  ],
);

export const datasets = pgTable(
  "datasets",
  {
    id: serial("id").primaryKey(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    supplier: text("supplier"),
    owner: text("owner"),
    // Freshness SLA: the dataset is stale when its last update is older than this.
    maxAgeSeconds: integer("max_age_seconds"),
    // Source deliveries: expected each day by this local time ("HH:MM") in arrival_timezone.
    expectedArrival: text("expected_arrival"),
    arrivalTimezone: text("arrival_timezone"),
    // Who declared the SLA: "config" (houston.yml, re-synced at start) or "demo".
    slaSource: text("sla_source"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("datasets_namespace_name_uq").on(t.namespace, t.name),
    index("datasets_name_idx").on(t.name),
  ],
);

export const datasetUpdates = pgTable(
  "dataset_updates",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    datasetId: integer("dataset_id")
      .notNull()
      .references(() => datasets.id),
    updatedAt: tz("updated_at").notNull(),
    rows: bigint("rows", { mode: "number" }),
    bytes: bigint("bytes", { mode: "number" }),
    badRecords: bigint("bad_records", { mode: "number" }),
    schemaFingerprint: text("schema_fingerprint"),
    schemaFields: jsonb("schema_fields"),
    // True when the fingerprint differs from the previous update's: a schema change.
    schemaChanged: boolean("schema_changed").notNull().default(false),
    runExternalId: text("run_external_id"),
    runId: bigint("run_id", { mode: "number" }),
  },
  (t) => [
    index("dataset_updates_dataset_time_idx").on(t.datasetId, t.updatedAt),
    // "what did job J write": outputs by producing run.
    index("dataset_updates_run_idx")
      .on(t.runId)
      .where(sql`run_id IS NOT NULL`),
    index("dataset_updates_schema_changed_idx")
      .on(t.updatedAt)
      .where(sql`schema_changed`),
    // The resources digest lists the datasets that rejected records in a period: few rows.
    index("dataset_updates_bad_records_idx")
      .on(t.updatedAt)
      .where(sql`bad_records > 0`),
  ],
);

export const tests = pgTable(
  "tests",
  {
    id: serial("id").primaryKey(),
    // name + dataset + job: one identity even when dataset or job is absent.
    key: text("key").notNull(),
    name: text("name").notNull(),
    datasetId: integer("dataset_id").references(() => datasets.id),
    jobId: integer("job_id").references(() => jobs.id),
  },
  (t) => [uniqueIndex("tests_key_uq").on(t.key), index("tests_dataset_idx").on(t.datasetId)],
);

export const testResults = pgTable(
  "test_results",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    testId: integer("test_id")
      .notNull()
      .references(() => tests.id),
    status: text("status").$type<TestStatus>().notNull(),
    environment: text("environment"),
    value: text("value"),
    at: tz("at").notNull(),
    runExternalId: text("run_external_id"),
  },
  (t) => [
    index("test_results_test_time_idx").on(t.testId, t.at),
    index("test_results_env_time_idx").on(t.environment, t.at),
    index("test_results_at_brin").using("brin", t.at),
    check("test_results_status_ck", sql`status IN ('pass','fail','warn','error','skip')`),
  ],
);

export const deploys = pgTable(
  "deploys",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    artifact: text("artifact").notNull(),
    kind: text("kind").$type<DeployKind>().notNull(),
    version: text("version"),
    environment: text("environment"),
    status: text("status").$type<DeployStatus>().notNull(),
    at: tz("at").notNull(),
    project: text("project"),
    tickets: text("tickets")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
  },
  (t) => [
    index("deploys_artifact_time_idx").on(t.artifact, t.at),
    index("deploys_time_idx").on(t.at),
    index("deploys_failed_idx")
      .on(t.at)
      .where(sql`status <> 'success'`),
    index("deploys_project_time_idx").on(t.project, t.at),
    // "was DATA-1252 released?"
    index("deploys_tickets_gin").using("gin", t.tickets),
    check("deploys_kind_ck", sql`kind IN ('pipeline','model','dashboard','code','schema')`),
    check("deploys_status_ck", sql`status IN ('success','failed','rolled_back')`),
  ],
);

// ---------------------------------------------------------------------------------------
// Lineage: which job reads and which writes which dataset (src/db/queries/lineage.ts).

export const LINEAGE_DIRECTIONS = ["read", "write"] as const;
export type LineageDirection = (typeof LINEAGE_DIRECTIONS)[number];

// One row per (job, direction, dataset), however often it is seen: re-seeing an edge only
// widens [first_seen, last_seen] (event times, so a replayed or late event lands right).
// A dataset is its lineage name (src/ingest/dataset-names.ts), not a datasets row: a table
// that dbt names postgres://host:5432 + db.schema.table and a native event names
// schema.table is one node, although the store keeps two datasets rows for it.
export const lineageEdges = pgTable(
  "lineage_edges",
  {
    jobId: integer("job_id")
      .notNull()
      .references(() => jobs.id),
    direction: text("direction").$type<LineageDirection>().notNull(),
    dataset: text("dataset").notNull(),
    firstSeen: tz("first_seen").notNull(),
    lastSeen: tz("last_seen").notNull(),
  },
  (t) => [
    // From a job: what it reads / writes (upstream and downstream steps out of a job).
    primaryKey({ columns: [t.jobId, t.direction, t.dataset] }),
    // From a dataset: who writes / reads it (steps into a job).
    index("lineage_edges_dataset_idx").on(t.dataset, t.direction, t.jobId),
    check("lineage_edges_direction_ck", sql`direction IN ('read','write')`),
  ],
);

// Sightings of edges queued by ingest (an append-only queue, like rollup_dirty): a request
// only inserts here, so concurrent requests naming the same job's edges never wait on each
// other's row locks; the rollup flusher folds them into lineage_edges (src/ingest/lineage.ts).
// One row per job and seen-range, its datasets as lists, and no index: a run's edges are
// one cheap row, not four rows and four index entries.
export const lineageSightings = pgTable("lineage_sightings", {
  jobId: integer("job_id").notNull(),
  firstSeen: tz("first_seen").notNull(),
  lastSeen: tz("last_seen").notNull(),
  reads: text("reads")
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  writes: text("writes")
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
});

// A dataset event's run_id whose run has not arrived yet: the write edge is made when a
// run with that id is ingested (events of one run may arrive in any order). Claims whose
// run never comes are pruned with the event ids (src/db/retention.ts).
export const lineagePendingWrites = pgTable(
  "lineage_pending_writes",
  {
    runExternalId: text("run_external_id").notNull(),
    dataset: text("dataset").notNull(),
    firstSeen: tz("first_seen").notNull(),
    lastSeen: tz("last_seen").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.runExternalId, t.dataset] }),
    index("lineage_pending_writes_seen_idx").on(t.lastSeen),
  ],
);

// houston.yml's `aliases:` of a dataset (synced at start, like its SLAs): lineage names
// that stand for the declared dataset's lineage name. Applied when the graph is read, so
// editing the file re-joins edges already stored.
export const datasetAliases = pgTable(
  "dataset_aliases",
  {
    alias: text("alias").primaryKey(),
    dataset: text("dataset").notNull(),
  },
  (t) => [index("dataset_aliases_dataset_idx").on(t.dataset)],
);

// Event ids already applied: re-posting an event with the same id is a no-op.
export const ingestedEvents = pgTable(
  "ingested_events",
  {
    id: text("id").primaryKey(),
    receivedAt: tz("received_at").notNull().defaultNow(),
  },
  (t) => [index("ingested_events_received_idx").using("brin", t.receivedAt)],
);

// ---------------------------------------------------------------------------------------
// Monitors, incidents and durable delivery.

export const INCIDENT_STATES = ["triggered", "acknowledged", "resolved"] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];
export const SEVERITIES = ["critical", "error", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

// One row per breach key (monitor kind, subject, slot): re-evaluation finds the same key
// and updates it, so one breach is one incident, one Slack message and one page.
export const incidents = pgTable(
  "incidents",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    key: text("key").notNull(),
    kind: text("kind").notNull(),
    subjectType: text("subject_type").notNull(),
    subject: text("subject").notNull(),
    jobId: integer("job_id"),
    datasetId: integer("dataset_id"),
    groupName: text("group_name"),
    severity: text("severity").$type<Severity>().notNull(),
    state: text("state").$type<IncidentState>().notNull(),
    summary: text("summary").notNull(),
    details: jsonb("details")
      .notNull()
      .default(sql`'{}'::jsonb`),
    openedAt: tz("opened_at").notNull(),
    lastSeenAt: tz("last_seen_at").notNull(),
    acknowledgedAt: tz("acknowledged_at"),
    acknowledgedBy: text("acknowledged_by"),
    resolvedAt: tz("resolved_at"),
    resolvedBy: text("resolved_by"),
    // Recorded but neither posted nor paged (a silence or maintenance window covered it).
    silenced: boolean("silenced").notNull().default(false),
    slackChannel: text("slack_channel"),
    slackTs: text("slack_ts"),
    routingKey: text("routing_key"),
    nextReminderAt: tz("next_reminder_at"),
  },
  (t) => [
    uniqueIndex("incidents_key_uq").on(t.key),
    index("incidents_open_idx")
      .on(t.openedAt)
      .where(sql`state <> 'resolved'`),
    index("incidents_slack_idx").on(t.slackChannel, t.slackTs),
    check("incidents_state_ck", sql`state IN ('triggered','acknowledged','resolved')`),
  ],
);

// Every Slack post and PagerDuty event is written here in the same transaction as the
// state change it reports, then delivered by a worker: nothing is lost on a crash, and
// events for one ordering key (a dedup_key, an incident) go out in order.
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    target: text("target").notNull(),
    orderingKey: text("ordering_key").notNull(),
    payload: jsonb("payload").notNull(),
    state: text("state").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: tz("next_attempt_at").notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: tz("created_at").notNull().defaultNow(),
    deliveredAt: tz("delivered_at"),
    // Whatever the target answered that later steps need (Slack's message ts).
    result: jsonb("result"),
  },
  (t) => [
    index("outbox_pending_idx")
      .on(t.nextAttemptAt)
      .where(sql`state = 'pending'`),
    index("outbox_key_idx").on(t.orderingKey, t.id),
    check("outbox_state_ck", sql`state IN ('pending','delivered','failed')`),
  ],
);

export const silences = pgTable(
  "silences",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    subjectType: text("subject_type").notNull(),
    subject: text("subject").notNull(),
    startsAt: tz("starts_at").notNull(),
    endsAt: tz("ends_at").notNull(),
    reason: text("reason"),
    createdBy: text("created_by"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [index("silences_active_idx").on(t.endsAt)],
);

// PagerDuty webhook deliveries already handled (X-Webhook-Id): retries are no-ops.
export const webhookDeliveries = pgTable("webhook_deliveries", {
  id: text("id").primaryKey(),
  receivedAt: tz("received_at").notNull().defaultNow(),
});

// A cron slot (task, instant) is claimed once across all replicas (insert-if-absent).
export const cronClaims = pgTable(
  "cron_claims",
  {
    task: text("task").notNull(),
    slot: tz("slot").notNull(),
    claimedBy: text("claimed_by").notNull(),
    claimedAt: tz("claimed_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.task, t.slot] })],
);

// ---------------------------------------------------------------------------------------
// Scheduled digests: who gets which report where, and every (subscription, slot) delivery.

export const DIGEST_CADENCES = ["daily", "weekly"] as const;
export type DigestCadence = (typeof DIGEST_CADENCES)[number];
// "cli": a one-off `houston digest --channel` post, recorded as a subscription that ended as it began.
export const SUBSCRIPTION_SOURCES = ["slack", "config", "cli"] as const;
export type SubscriptionSource = (typeof SUBSCRIPTION_SOURCES)[number];
export const DELIVERY_STATES = [
  "claimed",
  "sending",
  "delivered",
  "failed",
  "skipped",
  "channel_gone",
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

// A channel's standing order for a digest. Unsubscribing ends a row (ended_at) rather than
// deleting it, so past deliveries keep their subscription; a channel the bot was removed
// from is marked (channel_gone_at) and no longer scheduled until someone subscribes again.
export const subscriptions = pgTable(
  "subscriptions",
  {
    id: serial("id").primaryKey(),
    channel: text("channel").notNull(),
    report: text("report").notNull(),
    cadence: text("cadence").$type<DigestCadence>().notNull(),
    // 0 = Sunday … 6 = Saturday for weekly digests; -1 for daily ones (so the unique index,
    // which treats NULLs as distinct, holds for daily subscriptions too).
    weekday: integer("weekday").notNull().default(-1),
    // Local wall-clock time "HH:MM" in `timezone`.
    localTime: text("local_time").notNull(),
    timezone: text("timezone").notNull(),
    // '' = every environment / every group (NULL would defeat the unique index).
    environment: text("environment").notNull().default(""),
    groupName: text("group_name").notNull().default(""),
    settings: jsonb("settings")
      .notNull()
      .default(sql`'{}'::jsonb`),
    source: text("source").$type<SubscriptionSource>().notNull(),
    createdBy: text("created_by"),
    createdAt: tz("created_at").notNull().defaultNow(),
    endedAt: tz("ended_at"),
    channelGoneAt: tz("channel_gone_at"),
    channelGoneError: text("channel_gone_error"),
  },
  (t) => [
    uniqueIndex("subscriptions_active_uq")
      .on(t.channel, t.report, t.cadence, t.weekday, t.localTime, t.environment, t.groupName)
      .where(sql`ended_at IS NULL`),
    index("subscriptions_channel_idx").on(t.channel),
    check("subscriptions_report_ck", sql`report IN ('sla','anomalies','resources')`),
    check("subscriptions_cadence_ck", sql`cadence IN ('daily','weekly')`),
    check("subscriptions_source_ck", sql`source IN ('slack','config','cli')`),
    check(
      "subscriptions_weekday_ck",
      sql`(cadence = 'daily' AND weekday = -1) OR (cadence = 'weekly' AND weekday BETWEEN 0 AND 6)`,
    ),
  ],
);

// One row per (subscription, slot): inserting it is the claim (ON CONFLICT DO NOTHING), so
// one replica sends each digest; the row then records how the delivery went.
export const digestDeliveries = pgTable(
  "digest_deliveries",
  {
    subscriptionId: integer("subscription_id")
      .notNull()
      .references(() => subscriptions.id),
    slotAt: tz("slot_at").notNull(),
    report: text("report").notNull(),
    channel: text("channel").notNull(),
    // The last local day the digest covers (YYYY-MM-DD in the subscription's zone).
    reportedDate: date("reported_date", { mode: "string" }).notNull(),
    state: text("state").$type<DeliveryState>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: tz("next_attempt_at"),
    claimedBy: text("claimed_by").notNull(),
    claimedAt: tz("claimed_at").notNull().defaultNow(),
    error: text("error"),
    startedAt: tz("started_at"),
    finishedAt: tz("finished_at"),
    durationMs: integer("duration_ms"),
    slackTs: text("slack_ts"),
    fileId: text("file_id"),
  },
  (t) => [
    primaryKey({ columns: [t.subscriptionId, t.slotAt] }),
    // Retries due: only the few rows waiting for another attempt.
    index("digest_deliveries_retry_idx")
      .on(t.nextAttemptAt)
      .where(sql`state IN ('claimed','sending')`),
    index("digest_deliveries_slot_idx").on(t.slotAt),
    check(
      "digest_deliveries_state_ck",
      sql`state IN ('claimed','sending','delivered','failed','skipped','channel_gone')`,
    ),
  ],
);

// The last question of each Slack conversation (a DM, or a thread Houston answered in), so
// a short follow-up ("and in staging?") can change one slot of it. Every replica answers
// any message, so this lives in the database; rows older than a day are ignored and pruned.
export const conversations = pgTable(
  "conversations",
  {
    key: text("key").primaryKey(),
    question: text("question").notNull(),
    frame: jsonb("frame").notNull(),
    window: jsonb("window"),
    updatedAt: tz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("conversations_updated_idx").on(t.updatedAt)],
);
