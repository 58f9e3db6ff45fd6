CREATE TABLE "lineage_sightings" (
	"job_id" integer NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"reads" text[] DEFAULT '{}'::text[] NOT NULL,
	"writes" text[] DEFAULT '{}'::text[] NOT NULL
);
--> statement-breakpoint
DROP TABLE "lineage_seen" CASCADE;