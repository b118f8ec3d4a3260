-- Change notifications: every committed change that can alter what the API serves for a cluster
-- (its row: current snapshot, deletion, settings; a sync run deleted by pruning) or which API keys
-- are valid (revoked, expired, re-scoped, rotated) is announced on the channel
-- `eks_access_changes`, so API processes can keep read caches without polling. Triggers, so every
-- writer (API, workers, CLI, hand-written SQL) announces; NOTIFY is delivered only on commit.
CREATE OR REPLACE FUNCTION eks_access_notify_cluster() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('eks_access_changes', 'cluster:' || OLD.id::text);
  ELSE
    PERFORM pg_notify('eks_access_changes', 'cluster:' || NEW.id::text);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER clusters_notify_change AFTER INSERT OR UPDATE OR DELETE ON "clusters"
  FOR EACH ROW EXECUTE FUNCTION eks_access_notify_cluster();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION eks_access_notify_sync_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('eks_access_changes', 'cluster:' || OLD.cluster_id::text);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER sync_runs_notify_delete AFTER DELETE ON "sync_runs"
  FOR EACH ROW EXECUTE FUNCTION eks_access_notify_sync_run();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION eks_access_notify_api_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('eks_access_changes', 'api_keys');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER api_keys_notify_change AFTER UPDATE OF "revoked_at", "expires_at", "scopes", "hash" OR DELETE ON "api_keys"
  FOR EACH STATEMENT EXECUTE FUNCTION eks_access_notify_api_keys();
