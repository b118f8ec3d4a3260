CREATE TABLE "provisioning_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"action" text NOT NULL,
	"entitlement_id" text NOT NULL,
	"principal_type" text NOT NULL,
	"principal_arn" text NOT NULL,
	"reason" text,
	"expires_at" timestamp (3) with time zone,
	"dry_run" boolean DEFAULT false NOT NULL,
	"idempotency_key" text,
	"requested_by" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"result" text,
	"plan" jsonb,
	"error" jsonb,
	"attempt" integer DEFAULT 0 NOT NULL,
	"worker" text,
	"parent_request_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "provisioning_requests_action_check" CHECK ("provisioning_requests"."action" IN ('grant', 'revoke')),
	CONSTRAINT "provisioning_requests_status_check" CHECK ("provisioning_requests"."status" IN ('pending', 'running', 'succeeded', 'failed', 'refused'))
);
--> statement-breakpoint
ALTER TABLE "sync_runs" DROP CONSTRAINT "sync_runs_trigger_check";--> statement-breakpoint
ALTER TABLE "provisioning_requests" ADD CONSTRAINT "provisioning_requests_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "provisioning_requests_idempotency_key" ON "provisioning_requests" USING btree ("requested_by","idempotency_key") WHERE "provisioning_requests"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "provisioning_requests_one_expiry_revoke" ON "provisioning_requests" USING btree ("parent_request_id") WHERE "provisioning_requests"."parent_request_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "provisioning_requests_cluster_created_idx" ON "provisioning_requests" USING btree ("cluster_id","created_at","id");--> statement-breakpoint
CREATE INDEX "provisioning_requests_principal_idx" ON "provisioning_requests" USING btree ("principal_arn","created_at");--> statement-breakpoint
CREATE INDEX "provisioning_requests_expiry_idx" ON "provisioning_requests" USING btree ("expires_at") WHERE "provisioning_requests"."expires_at" IS NOT NULL AND "provisioning_requests"."status" = 'succeeded';--> statement-breakpoint
ALTER TABLE "sync_runs" ADD CONSTRAINT "sync_runs_trigger_check" CHECK ("sync_runs"."trigger" IN ('api', 'schedule', 'c1', 'bulk', 'provision'));