CREATE TABLE "cron_claims" (
	"task" text NOT NULL,
	"slot" timestamp with time zone NOT NULL,
	"claimed_by" text NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cron_claims_task_slot_pk" PRIMARY KEY("task","slot")
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
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_key_uq" ON "incidents" USING btree ("key");--> statement-breakpoint
CREATE INDEX "incidents_open_idx" ON "incidents" USING btree ("opened_at" DESC NULLS LAST) WHERE state <> 'resolved';--> statement-breakpoint
CREATE INDEX "incidents_slack_idx" ON "incidents" USING btree ("slack_channel","slack_ts");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("next_attempt_at") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_key_idx" ON "outbox" USING btree ("ordering_key","id");--> statement-breakpoint
CREATE INDEX "silences_active_idx" ON "silences" USING btree ("ends_at");--> statement-breakpoint
CREATE INDEX "dataset_updates_run_idx" ON "dataset_updates" USING btree ("run_id") WHERE run_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "dataset_updates_schema_changed_idx" ON "dataset_updates" USING btree ("updated_at" DESC NULLS LAST) WHERE schema_changed;--> statement-breakpoint
CREATE INDEX "deploys_tickets_gin" ON "deploys" USING gin ("tickets");--> statement-breakpoint
CREATE INDEX "test_results_at_brin" ON "test_results" USING brin ("at");