CREATE TABLE "change_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"cluster_id" uuid NOT NULL,
	"sync_run_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"source" text NOT NULL,
	"drift" boolean DEFAULT false NOT NULL,
	"principal_type" text,
	"principal_id" text COLLATE "C",
	"resource_type" text,
	"resource_id" text COLLATE "C",
	"entitlement_id" text COLLATE "C",
	"grant_id" text COLLATE "C",
	"finding" text,
	"detail" jsonb NOT NULL,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "change_events_kind_check" CHECK ("change_events"."kind" IN ('grant', 'revoke', 'resource_change', 'finding')),
	CONSTRAINT "change_events_source_check" CHECK ("change_events"."source" IN ('watch', 'sync'))
);
--> statement-breakpoint
ALTER TABLE "sync_runs" DROP CONSTRAINT "sync_runs_trigger_check";--> statement-breakpoint
CREATE INDEX "change_events_cluster_id_idx" ON "change_events" USING btree ("cluster_id","id");--> statement-breakpoint
CREATE INDEX "change_events_principal_id_idx" ON "change_events" USING btree ("principal_id","id");--> statement-breakpoint
CREATE INDEX "change_events_occurred_at_idx" ON "change_events" USING btree ("occurred_at");--> statement-breakpoint
ALTER TABLE "sync_runs" ADD CONSTRAINT "sync_runs_trigger_check" CHECK ("sync_runs"."trigger" IN ('api', 'schedule', 'c1', 'bulk', 'provision', 'watch'));