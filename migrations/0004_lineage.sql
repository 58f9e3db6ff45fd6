CREATE TABLE "dataset_aliases" (
	"alias" text PRIMARY KEY NOT NULL,
	"dataset" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lineage_edges" (
	"job_id" integer NOT NULL,
	"direction" text NOT NULL,
	"dataset" text NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	CONSTRAINT "lineage_edges_job_id_direction_dataset_pk" PRIMARY KEY("job_id","direction","dataset"),
	CONSTRAINT "lineage_edges_direction_ck" CHECK (direction IN ('read','write'))
);
--> statement-breakpoint
CREATE TABLE "lineage_pending_writes" (
	"run_external_id" text NOT NULL,
	"dataset" text NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	CONSTRAINT "lineage_pending_writes_run_external_id_dataset_pk" PRIMARY KEY("run_external_id","dataset")
);
--> statement-breakpoint
ALTER TABLE "dataset_updates" ADD COLUMN "bad_records" bigint;--> statement-breakpoint
ALTER TABLE "run_daily" ADD COLUMN "bad_records" bigint;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "bad_records" bigint;--> statement-breakpoint
ALTER TABLE "lineage_edges" ADD CONSTRAINT "lineage_edges_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dataset_aliases_dataset_idx" ON "dataset_aliases" USING btree ("dataset");--> statement-breakpoint
CREATE INDEX "lineage_edges_dataset_idx" ON "lineage_edges" USING btree ("dataset","direction","job_id");--> statement-breakpoint
CREATE INDEX "lineage_pending_writes_seen_idx" ON "lineage_pending_writes" USING btree ("last_seen");--> statement-breakpoint
CREATE INDEX "dataset_updates_bad_records_idx" ON "dataset_updates" USING btree ("updated_at") WHERE bad_records > 0;--> statement-breakpoint
CREATE INDEX "runs_external_idx" ON "runs" USING btree ("external_id");