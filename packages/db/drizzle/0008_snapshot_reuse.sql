ALTER TABLE "clusters" ADD COLUMN "snapshot_retention" integer;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "resources_hash" text;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "entitlements_hash" text;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "grants_hash" text;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "resources_run_id" uuid;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "entitlements_run_id" uuid;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "grants_run_id" uuid;--> statement-breakpoint
CREATE INDEX "snapshot_grants_resource_idx" ON "snapshot_grants" USING btree ("sync_run_id","resource_type","resource_id","grant_id");--> statement-breakpoint
CREATE INDEX "sync_runs_finished_at_idx" ON "sync_runs" USING btree ("finished_at");--> statement-breakpoint
CREATE INDEX "sync_runs_resources_run_id_idx" ON "sync_runs" USING btree ("resources_run_id");--> statement-breakpoint
CREATE INDEX "sync_runs_entitlements_run_id_idx" ON "sync_runs" USING btree ("entitlements_run_id");--> statement-breakpoint
CREATE INDEX "sync_runs_grants_run_id_idx" ON "sync_runs" USING btree ("grants_run_id");--> statement-breakpoint
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_snapshot_retention_check" CHECK ("clusters"."snapshot_retention" >= 1);--> statement-breakpoint
-- Hand-written from here on (drizzle-kit generates neither data changes nor triggers).
-- A snapshot written before this migration is held by the run that wrote it.
UPDATE "sync_runs" SET "resources_run_id" = "id", "entitlements_run_id" = "id", "grants_run_id" = "id"
 WHERE "status" IN ('succeeded', 'partial');
--> statement-breakpoint
-- Runs now share snapshot rows: a run whose content equals the current snapshot's names that
-- snapshot's rows instead of writing a copy (src/queries/sync-runs.ts). Deleting runs (pruning, or
-- a cluster deleted outright) therefore deletes the rows they named only when no remaining run
-- names them. The clusters of the deleted runs are locked first: two prunes of one cluster that
-- each delete one of the last two runs naming some rows would otherwise each see the other's run as
-- still naming them, and keep the rows forever.
CREATE OR REPLACE FUNCTION delete_snapshot_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM clusters c WHERE c.id IN (SELECT cluster_id FROM deleted_runs) ORDER BY c.id FOR NO KEY UPDATE OF c;
  DELETE FROM snapshot_resources s
   USING (SELECT DISTINCT coalesce(d.resources_run_id, d.id) AS id FROM deleted_runs d) g
   WHERE s.sync_run_id = g.id AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.resources_run_id = g.id);
  DELETE FROM snapshot_entitlements s
   USING (SELECT DISTINCT coalesce(d.entitlements_run_id, d.id) AS id FROM deleted_runs d) g
   WHERE s.sync_run_id = g.id AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.entitlements_run_id = g.id);
  DELETE FROM snapshot_grants s
   USING (SELECT DISTINCT coalesce(d.grants_run_id, d.id) AS id FROM deleted_runs d) g
   WHERE s.sync_run_id = g.id AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.grants_run_id = g.id);
  RETURN NULL;
END
$$;
