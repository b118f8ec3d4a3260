CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"cluster_id" uuid,
	"target" text,
	"before" jsonb,
	"after" jsonb,
	"request_id" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "clusters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"region" text NOT NULL,
	"account_id" text,
	"arn" text,
	"role_arn" text,
	"hosting_mode" text NOT NULL,
	"external_id_enc" text,
	"credentials_enc" text,
	"c1_client_id" text,
	"c1_client_secret_enc" text,
	"schedule" jsonb,
	"provisioning_enabled" boolean DEFAULT false NOT NULL,
	"provisioning_policy" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"current_sync_run_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	CONSTRAINT "clusters_account_id_check" CHECK ("clusters"."account_id" ~ '^[0-9]{12}$'),
	CONSTRAINT "clusters_hosting_mode_check" CHECK ("clusters"."hosting_mode" IN ('self-hosted', 'cloud-hosted', 'default-chain'))
);
--> statement-breakpoint
CREATE TABLE "snapshot_entitlements" (
	"sync_run_id" uuid NOT NULL,
	"entitlement_id" text COLLATE "C" NOT NULL,
	"resource_type" text COLLATE "C" NOT NULL,
	"resource_id" text COLLATE "C" NOT NULL,
	"slug" text NOT NULL,
	"display_name" text NOT NULL,
	"description" text NOT NULL,
	"purpose" text NOT NULL,
	"grantable_to" text[] NOT NULL,
	CONSTRAINT "snapshot_entitlements_sync_run_id_entitlement_id_pk" PRIMARY KEY("sync_run_id","entitlement_id")
);
--> statement-breakpoint
CREATE TABLE "snapshot_grants" (
	"sync_run_id" uuid NOT NULL,
	"grant_id" text COLLATE "C" NOT NULL,
	"entitlement_id" text COLLATE "C" NOT NULL,
	"resource_type" text COLLATE "C" NOT NULL,
	"resource_id" text COLLATE "C" NOT NULL,
	"principal_type" text COLLATE "C" NOT NULL,
	"principal_id" text COLLATE "C" NOT NULL,
	"annotations" jsonb NOT NULL,
	"sources" jsonb,
	"conditions" jsonb,
	CONSTRAINT "snapshot_grants_sync_run_id_grant_id_pk" PRIMARY KEY("sync_run_id","grant_id")
);
--> statement-breakpoint
CREATE TABLE "snapshot_resources" (
	"sync_run_id" uuid NOT NULL,
	"type" text COLLATE "C" NOT NULL,
	"resource_id" text COLLATE "C" NOT NULL,
	"parent_type" text COLLATE "C",
	"parent_id" text COLLATE "C",
	"display_name" text NOT NULL,
	"profile" jsonb NOT NULL,
	"annotations" jsonb NOT NULL,
	CONSTRAINT "snapshot_resources_sync_run_id_type_resource_id_pk" PRIMARY KEY("sync_run_id","type","resource_id")
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"trigger" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"worker" text,
	"progress" jsonb,
	"counts" jsonb,
	"api_calls" jsonb,
	"sources" jsonb,
	"source_durations_ms" jsonb,
	"warnings" jsonb,
	"error" jsonb,
	"total_api_calls" integer,
	"queued_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "sync_runs_trigger_check" CHECK ("sync_runs"."trigger" IN ('api', 'schedule', 'c1', 'bulk')),
	CONSTRAINT "sync_runs_status_check" CHECK ("sync_runs"."status" IN ('queued', 'running', 'succeeded', 'partial', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_current_sync_run_id_sync_runs_id_fk" FOREIGN KEY ("current_sync_run_id") REFERENCES "public"."sync_runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD CONSTRAINT "sync_runs_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_prefix_idx" ON "api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "audit_events_cluster_id_idx" ON "audit_events" USING btree ("cluster_id","id");--> statement-breakpoint
CREATE INDEX "audit_events_action_idx" ON "audit_events" USING btree ("action","id");--> statement-breakpoint
CREATE UNIQUE INDEX "clusters_identity_key" ON "clusters" USING btree ("name","region",coalesce("account_id", '')) WHERE "clusters"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "clusters_created_at_id_idx" ON "clusters" USING btree ("created_at","id") WHERE "clusters"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "snapshot_grants_principal_idx" ON "snapshot_grants" USING btree ("sync_run_id","principal_id","grant_id");--> statement-breakpoint
CREATE INDEX "snapshot_grants_entitlement_idx" ON "snapshot_grants" USING btree ("sync_run_id","entitlement_id","grant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sync_runs_one_active_per_cluster" ON "sync_runs" USING btree ("cluster_id") WHERE "sync_runs"."status" IN ('queued', 'running');--> statement-breakpoint
CREATE INDEX "sync_runs_cluster_queued_at_idx" ON "sync_runs" USING btree ("cluster_id","queued_at","id");