ALTER TABLE "rollup_dirty" DROP CONSTRAINT "rollup_dirty_job_id_day_pk";--> statement-breakpoint
ALTER TABLE "rollup_dirty" ADD COLUMN "id" bigserial PRIMARY KEY NOT NULL;