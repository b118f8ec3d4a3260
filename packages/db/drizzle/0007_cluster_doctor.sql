CREATE TABLE "cluster_doctor_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"provisioning" boolean DEFAULT false NOT NULL,
	"result" text,
	"report" jsonb,
	"error" jsonb,
	"worker" text,
	"requested_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "cluster_doctor_runs_status_check" CHECK ("cluster_doctor_runs"."status" IN ('queued', 'running', 'succeeded', 'failed')),
	CONSTRAINT "cluster_doctor_runs_result_check" CHECK ("cluster_doctor_runs"."result" IN ('pass', 'warn', 'fail'))
);
--> statement-breakpoint
ALTER TABLE "cluster_doctor_runs" ADD CONSTRAINT "cluster_doctor_runs_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "cluster_doctor_runs_one_active_per_cluster" ON "cluster_doctor_runs" USING btree ("cluster_id") WHERE "cluster_doctor_runs"."status" IN ('queued', 'running');--> statement-breakpoint
CREATE INDEX "cluster_doctor_runs_cluster_requested_at_idx" ON "cluster_doctor_runs" USING btree ("cluster_id","requested_at");