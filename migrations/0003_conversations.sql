CREATE TABLE "conversations" (
	"key" text PRIMARY KEY NOT NULL,
	"question" text NOT NULL,
	"frame" jsonb NOT NULL,
	"window" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "conversations_updated_idx" ON "conversations" USING btree ("updated_at");