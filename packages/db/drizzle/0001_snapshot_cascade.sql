-- Hand-written (drizzle-kit cannot express triggers). The snapshot tables have no foreign key to
-- sync_runs, because a foreign key checks each of a snapshot's hundreds of thousands of COPYed rows
-- one by one (see src/schema.ts). This trigger gives the ON DELETE CASCADE half back: whenever runs
-- are deleted (pruning, or a cluster hard-deleted, which cascades to its runs) their snapshot rows
-- go in the same statement, once per statement rather than once per row.
CREATE FUNCTION delete_snapshot_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM snapshot_resources s USING deleted_runs d WHERE s.sync_run_id = d.id;
  DELETE FROM snapshot_entitlements s USING deleted_runs d WHERE s.sync_run_id = d.id;
  DELETE FROM snapshot_grants s USING deleted_runs d WHERE s.sync_run_id = d.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER sync_runs_delete_snapshot_rows
  AFTER DELETE ON sync_runs
  REFERENCING OLD TABLE AS deleted_runs
  FOR EACH STATEMENT EXECUTE FUNCTION delete_snapshot_rows();
