CREATE TABLE "digest_deliveries" (
	"subscription_id" integer NOT NULL,
	"slot_at" timestamp with time zone NOT NULL,
	"report" text NOT NULL,
	"channel" text NOT NULL,
	"reported_date" date NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"claimed_by" text NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"slack_ts" text,
	"file_id" text,
	CONSTRAINT "digest_deliveries_subscription_id_slot_at_pk" PRIMARY KEY("subscription_id","slot_at"),
	CONSTRAINT "digest_deliveries_state_ck" CHECK (state IN ('claimed','sending','delivered','failed','skipped','channel_gone'))
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" serial PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"report" text NOT NULL,
	"cadence" text NOT NULL,
	"weekday" integer DEFAULT -1 NOT NULL,
	"local_time" text NOT NULL,
	"timezone" text NOT NULL,
	"environment" text DEFAULT '' NOT NULL,
	"group_name" text DEFAULT '' NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"channel_gone_at" timestamp with time zone,
	"channel_gone_error" text,
	CONSTRAINT "subscriptions_report_ck" CHECK (report IN ('sla','anomalies','resources')),
	CONSTRAINT "subscriptions_cadence_ck" CHECK (cadence IN ('daily','weekly')),
	CONSTRAINT "subscriptions_source_ck" CHECK (source IN ('slack','config','cli')),
	CONSTRAINT "subscriptions_weekday_ck" CHECK ((cadence = 'daily' AND weekday = -1) OR (cadence = 'weekly' AND weekday BETWEEN 0 AND 6))
);
--> statement-breakpoint
ALTER TABLE "digest_deliveries" ADD CONSTRAINT "digest_deliveries_subscription_id_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."subscriptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "digest_deliveries_retry_idx" ON "digest_deliveries" USING btree ("next_attempt_at") WHERE state IN ('claimed','sending');--> statement-breakpoint
CREATE INDEX "digest_deliveries_slot_idx" ON "digest_deliveries" USING btree ("slot_at");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_active_uq" ON "subscriptions" USING btree ("channel","report","cadence","weekday","local_time","environment","group_name") WHERE ended_at IS NULL;--> statement-breakpoint
CREATE INDEX "subscriptions_channel_idx" ON "subscriptions" USING btree ("channel");