CREATE TABLE "cron_claims" (
	"task" text NOT NULL,
	"slot" timestamp with time zone NOT NULL,
	"claimed_by" text NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cron_claims_task_slot_pk" PRIMARY KEY("task","slot")
);
--> statement-breakpoint
CREATE TABLE "dataset_updates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"dataset_id" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"rows" bigint,
	"bytes" bigint,
	"schema_fingerprint" text,
	"schema_fields" jsonb,
	"schema_changed" boolean DEFAULT false NOT NULL,
	"run_external_id" text,
	"run_id" bigint
);
--> statement-breakpoint
CREATE TABLE "datasets" (
	"id" serial PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"supplier" text,
	"owner" text,
	"max_age_seconds" integer,
	"expected_arrival" text,
	"arrival_timezone" text,
	"sla_source" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deploys" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"artifact" text NOT NULL,
	"kind" text NOT NULL,
	"version" text,
	"environment" text,
	"status" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"project" text,
	"tickets" text[] DEFAULT '{}'::text[] NOT NULL,
	CONSTRAINT "deploys_kind_ck" CHECK (kind IN ('pipeline','model','dashboard','code','schema')),
	CONSTRAINT "deploys_status_ck" CHECK (status IN ('success','failed','rolled_back'))
);
--> statement-breakpoint
CREATE TABLE "expected_runs" (
	"job_id" integer NOT NULL,
	"slot_at" timestamp with time zone NOT NULL,
	"opens_at" timestamp with time zone NOT NULL,
	"closes_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"run_id" bigint,
	CONSTRAINT "expected_runs_job_id_slot_at_pk" PRIMARY KEY("job_id","slot_at")
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject" text NOT NULL,
	"job_id" integer,
	"dataset_id" integer,
	"group_name" text,
	"severity" text NOT NULL,
	"state" text NOT NULL,
	"summary" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"silenced" boolean DEFAULT false NOT NULL,
	"slack_channel" text,
	"slack_ts" text,
	"routing_key" text,
	"next_reminder_at" timestamp with time zone,
	CONSTRAINT "incidents_state_ck" CHECK (state IN ('triggered','acknowledged','resolved'))
);
--> statement-breakpoint
CREATE TABLE "ingested_events" (
	"id" text PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_schedules" (
	"job_id" integer PRIMARY KEY NOT NULL,
	"cron" text NOT NULL,
	"timezone" text NOT NULL,
	"grace_seconds" integer NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" serial PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"tool" text,
	"group_name" text,
	"environment" text,
	"owner" text,
	"slack_channel" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"ordering_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"result" jsonb,
	CONSTRAINT "outbox_state_ck" CHECK (state IN ('pending','delivered','failed'))
);
--> statement-breakpoint
CREATE TABLE "rollup_dirty" (
	"job_id" integer NOT NULL,
	"day" date NOT NULL,
	"touched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollup_dirty_job_id_day_pk" PRIMARY KEY("job_id","day")
);
--> statement-breakpoint
CREATE TABLE "run_daily" (
	"job_id" integer NOT NULL,
	"day" date NOT NULL,
	"runs" integer NOT NULL,
	"successes" integer NOT NULL,
	"failures" integer NOT NULL,
	"running" integer NOT NULL,
	"duration_p50_ms" double precision,
	"duration_p95_ms" double precision,
	"duration_max_ms" double precision,
	"duration_total_ms" double precision,
	"rows" bigint,
	"cpu_seconds" double precision,
	"memory_mb_max" double precision,
	"cost" double precision,
	"first_run_at" timestamp with time zone,
	"last_run_at" timestamp with time zone,
	CONSTRAINT "run_daily_job_id_day_pk" PRIMARY KEY("job_id","day")
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" integer NOT NULL,
	"external_id" text NOT NULL,
	"status" text NOT NULL,
	"scheduled_for" timestamp with time zone,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"run_at" timestamp with time zone GENERATED ALWAYS AS (coalesce(started_at, ended_at, scheduled_for)) STORED NOT NULL,
	"duration_ms" bigint GENERATED ALWAYS AS ((extract(epoch from (ended_at - started_at)) * 1000)::bigint) STORED,
	"rows" bigint,
	"cpu_seconds" double precision,
	"memory_mb" double precision,
	"cost" double precision,
	"exit_code" integer,
	"error" text,
	"parent_run_id" text,
	"environment" text,
	"status_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "runs_status_ck" CHECK (status IN ('running','success','failed','cancelled','skipped'))
);
--> statement-breakpoint
CREATE TABLE "silences" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject_type" text NOT NULL,
	"subject" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"reason" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"test_id" integer NOT NULL,
	"status" text NOT NULL,
	"environment" text,
	"value" text,
	"at" timestamp with time zone NOT NULL,
	"run_external_id" text,
	CONSTRAINT "test_results_status_ck" CHECK (status IN ('pass','fail','warn','error','skip'))
);
--> statement-breakpoint
CREATE TABLE "tests" (
	"id" serial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"dataset_id" integer,
	"job_id" integer
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dataset_updates" ADD CONSTRAINT "dataset_updates_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_schedules" ADD CONSTRAINT "job_schedules_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_results" ADD CONSTRAINT "test_results_test_id_tests_id_fk" FOREIGN KEY ("test_id") REFERENCES "public"."tests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tests" ADD CONSTRAINT "tests_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tests" ADD CONSTRAINT "tests_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dataset_updates_dataset_time_idx" ON "dataset_updates" USING btree ("dataset_id","updated_at");--> statement-breakpoint
CREATE INDEX "dataset_updates_run_idx" ON "dataset_updates" USING btree ("run_id") WHERE run_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "dataset_updates_schema_changed_idx" ON "dataset_updates" USING btree ("updated_at") WHERE schema_changed;--> statement-breakpoint
CREATE UNIQUE INDEX "datasets_namespace_name_uq" ON "datasets" USING btree ("namespace","name");--> statement-breakpoint
CREATE INDEX "datasets_name_idx" ON "datasets" USING btree ("name");--> statement-breakpoint
CREATE INDEX "deploys_artifact_time_idx" ON "deploys" USING btree ("artifact","at");--> statement-breakpoint
CREATE INDEX "deploys_time_idx" ON "deploys" USING btree ("at");--> statement-breakpoint
CREATE INDEX "deploys_failed_idx" ON "deploys" USING btree ("at") WHERE status <> 'success';--> statement-breakpoint
CREATE INDEX "deploys_project_time_idx" ON "deploys" USING btree ("project","at");--> statement-breakpoint
CREATE INDEX "deploys_tickets_gin" ON "deploys" USING gin ("tickets");--> statement-breakpoint
CREATE INDEX "expected_runs_unmatched_due_idx" ON "expected_runs" USING btree ("due_at") WHERE run_id IS NULL;--> statement-breakpoint
CREATE INDEX "expected_runs_job_opens_idx" ON "expected_runs" USING btree ("job_id","opens_at");--> statement-breakpoint
CREATE INDEX "expected_runs_slot_idx" ON "expected_runs" USING btree ("slot_at");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_key_uq" ON "incidents" USING btree ("key");--> statement-breakpoint
CREATE INDEX "incidents_open_idx" ON "incidents" USING btree ("opened_at") WHERE state <> 'resolved';--> statement-breakpoint
CREATE INDEX "incidents_slack_idx" ON "incidents" USING btree ("slack_channel","slack_ts");--> statement-breakpoint
CREATE INDEX "ingested_events_received_idx" ON "ingested_events" USING brin ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_namespace_name_uq" ON "jobs" USING btree ("namespace","name");--> statement-breakpoint
CREATE INDEX "jobs_name_idx" ON "jobs" USING btree ("name");--> statement-breakpoint
CREATE INDEX "jobs_group_idx" ON "jobs" USING btree ("group_name");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("next_attempt_at") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_key_idx" ON "outbox" USING btree ("ordering_key","id");--> statement-breakpoint
CREATE INDEX "run_daily_day_idx" ON "run_daily" USING btree ("day");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_job_external_uq" ON "runs" USING btree ("job_id","external_id");--> statement-breakpoint
CREATE INDEX "runs_job_run_at_idx" ON "runs" USING btree ("job_id","run_at");--> statement-breakpoint
CREATE INDEX "runs_run_at_brin" ON "runs" USING brin ("run_at");--> statement-breakpoint
CREATE INDEX "runs_failed_idx" ON "runs" USING btree ("run_at","job_id") WHERE status = 'failed';--> statement-breakpoint
CREATE INDEX "runs_running_idx" ON "runs" USING btree ("job_id") WHERE status = 'running';--> statement-breakpoint
CREATE INDEX "silences_active_idx" ON "silences" USING btree ("ends_at");--> statement-breakpoint
CREATE INDEX "test_results_test_time_idx" ON "test_results" USING btree ("test_id","at");--> statement-breakpoint
CREATE INDEX "test_results_env_time_idx" ON "test_results" USING btree ("environment","at");--> statement-breakpoint
CREATE INDEX "test_results_at_brin" ON "test_results" USING brin ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "tests_key_uq" ON "tests" USING btree ("key");--> statement-breakpoint
CREATE INDEX "tests_dataset_idx" ON "tests" USING btree ("dataset_id");