CREATE TABLE "deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text DEFAULT 'otp' NOT NULL,
	"challenge_id" uuid,
	"channel" text NOT NULL,
	"provider" text,
	"fallback_of" uuid,
	"destination" text NOT NULL,
	"payload_ciphertext" text,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"interrupted_attempts" integer DEFAULT 0 NOT NULL,
	"provider_message_id" text,
	"last_error" text,
	"error_history" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deliveries_otp_shape_check" CHECK ("deliveries"."kind" <> 'otp' OR ("deliveries"."challenge_id" IS NOT NULL AND "deliveries"."payload_ciphertext" IS NOT NULL)),
	CONSTRAINT "deliveries_status_check" CHECK ("deliveries"."status" IN ('queued', 'sending', 'sent', 'failed', 'dead', 'skipped'))
);
--> statement-breakpoint
CREATE TABLE "otp_challenges" (
	"id" uuid PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"channel" text NOT NULL,
	"destination" text NOT NULL,
	"mobile" text,
	"code_hash" text NOT NULL,
	"username" text NOT NULL,
	"first_name" text NOT NULL,
	"last_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"consumed_at" timestamp with time zone,
	"superseded_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "otp_challenges_channel_check" CHECK ("otp_challenges"."channel" IN ('email', 'whatsapp')),
	CONSTRAINT "otp_challenges_failed_attempts_check" CHECK ("otp_challenges"."failed_attempts" >= 0)
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"username" text NOT NULL,
	"first_name" text NOT NULL,
	"last_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"is_verified" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_challenge_id_otp_challenges_id_fk" FOREIGN KEY ("challenge_id") REFERENCES "otp_challenges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_fallback_of_deliveries_id_fk" FOREIGN KEY ("fallback_of") REFERENCES "deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_challenge_id_idx" ON "deliveries" USING btree ("challenge_id");--> statement-breakpoint
CREATE INDEX "deliveries_queued_idx" ON "deliveries" USING btree ("created_at") WHERE "deliveries"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "deliveries_notice_destination_idx" ON "deliveries" USING btree ("destination","created_at") WHERE "deliveries"."kind" = 'registration-notice';--> statement-breakpoint
CREATE INDEX "deliveries_notice_created_at_idx" ON "deliveries" USING btree ("created_at") WHERE "deliveries"."kind" = 'registration-notice';--> statement-breakpoint
CREATE UNIQUE INDEX "otp_challenges_live_email_key" ON "otp_challenges" USING btree ("email") WHERE "otp_challenges"."consumed_at" IS NULL AND "otp_challenges"."superseded_at" IS NULL;--> statement-breakpoint
CREATE INDEX "otp_challenges_expires_at_idx" ON "otp_challenges" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_lower_key" ON "users" USING btree (lower("username"));