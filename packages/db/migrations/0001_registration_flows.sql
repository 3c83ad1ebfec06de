-- Registrations become flows: each keeps its own id (verification_id), profile, current code and
-- wrong-code count, and accounts record which contact a code proved. Existing rows carry over:
-- every challenge becomes a flow (used → verified, replaced → closed), its deliveries follow it,
-- and a pending code keeps working (its hash stays in the old, address-bound form, which
-- flowCodeMatches in otp-crypto.ts still reads).
ALTER TABLE "otp_challenges" RENAME TO "registration_flows";--> statement-breakpoint
ALTER TABLE "registration_flows" RENAME COLUMN "consumed_at" TO "verified_at";--> statement-breakpoint
ALTER TABLE "registration_flows" RENAME COLUMN "superseded_at" TO "closed_at";--> statement-breakpoint
ALTER TABLE "registration_flows" RENAME CONSTRAINT "otp_challenges_pkey" TO "registration_flows_pkey";--> statement-breakpoint
ALTER TABLE "registration_flows" RENAME CONSTRAINT "otp_challenges_channel_check" TO "registration_flows_channel_check";--> statement-breakpoint
ALTER TABLE "registration_flows" RENAME CONSTRAINT "otp_challenges_failed_attempts_check" TO "registration_flows_failed_attempts_check";--> statement-breakpoint
DROP INDEX "otp_challenges_live_email_key";--> statement-breakpoint
ALTER INDEX "otp_challenges_expires_at_idx" RENAME TO "registration_flows_expires_at_idx";--> statement-breakpoint
ALTER TABLE "registration_flows" ADD COLUMN "verification_id" text;--> statement-breakpoint
ALTER TABLE "registration_flows" ADD COLUMN "kind" text DEFAULT 'code' NOT NULL;--> statement-breakpoint
ALTER TABLE "registration_flows" ADD COLUMN "email_key" text;--> statement-breakpoint
ALTER TABLE "registration_flows" ADD COLUMN "code_sequence" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "registration_flows" ADD COLUMN "failed_attempts_without_id" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- The mailbox key as apps/api/src/registration/contact-keys.ts computes it: lower case, +tag
-- dropped, and for Gmail the dots dropped and googlemail.com read as gmail.com.
UPDATE "registration_flows" AS f SET
	"verification_id" = 'vf_' || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''),
	"email_key" = (
		SELECT CASE WHEN p.domain IN ('gmail.com', 'googlemail.com')
			THEN replace(p.local, '.', '') || '@gmail.com'
			ELSE p.local || '@' || p.domain END
		FROM (SELECT
			regexp_replace(regexp_replace(lower(trim(f.email)), '@[^@]*$', ''), '^(.+?)\+.*$', '\1') AS local,
			substring(lower(trim(f.email)) from '@([^@]*)$') AS domain) AS p
	);--> statement-breakpoint
ALTER TABLE "registration_flows" ALTER COLUMN "verification_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "registration_flows" ALTER COLUMN "email_key" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "registration_flows" ADD CONSTRAINT "registration_flows_kind_check" CHECK ("registration_flows"."kind" IN ('code', 'notice'));--> statement-breakpoint
CREATE UNIQUE INDEX "registration_flows_verification_id_key" ON "registration_flows" USING btree ("verification_id");--> statement-breakpoint
CREATE INDEX "registration_flows_open_email_key_idx" ON "registration_flows" USING btree ("email_key") WHERE "registration_flows"."verified_at" IS NULL AND "registration_flows"."closed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "registration_flows_open_phone_idx" ON "registration_flows" USING btree ("destination") WHERE "registration_flows"."verified_at" IS NULL AND "registration_flows"."closed_at" IS NULL AND "registration_flows"."channel" = 'whatsapp';--> statement-breakpoint
CREATE TABLE "send_cooldowns" (
	"destination_key" text PRIMARY KEY NOT NULL,
	"last_sent_at" timestamp with time zone NOT NULL
);--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_otp_shape_check";--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_challenge_id_otp_challenges_id_fk";--> statement-breakpoint
ALTER TABLE "deliveries" RENAME COLUMN "challenge_id" TO "flow_id";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "code_sequence" integer;--> statement-breakpoint
UPDATE "deliveries" SET "code_sequence" = 1 WHERE "kind" = 'otp';--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_otp_shape_check" CHECK ("deliveries"."kind" <> 'otp' OR ("deliveries"."flow_id" IS NOT NULL AND "deliveries"."code_sequence" IS NOT NULL AND "deliveries"."payload_ciphertext" IS NOT NULL));--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_flow_id_registration_flows_id_fk" FOREIGN KEY ("flow_id") REFERENCES "registration_flows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER INDEX "deliveries_challenge_id_idx" RENAME TO "deliveries_flow_id_idx";--> statement-breakpoint
DROP INDEX "deliveries_notice_destination_idx";--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "phone" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email_verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "phone_verified_at" timestamp with time zone;--> statement-breakpoint
-- Every existing account was made by a code; by default it proved the email ...
UPDATE "users" SET "email_verified_at" = "created_at";--> statement-breakpoint
-- ... unless its flow (where one is still kept) sent the code by WhatsApp and never by email:
-- then it proved the phone, and the email stays unproven. Of accounts that share a phone, the
-- first keeps the proof.
UPDATE "users" AS u SET "phone" = w."destination", "email_verified_at" = NULL,
	"phone_verified_at" = CASE WHEN w."first_for_phone" THEN w."verified_at" END
FROM (
	SELECT f."email", f."username", f."destination", f."verified_at",
		row_number() OVER (PARTITION BY f."destination" ORDER BY f."verified_at") = 1 AS "first_for_phone"
	FROM "registration_flows" AS f
	WHERE f."verified_at" IS NOT NULL AND f."channel" = 'whatsapp'
		AND NOT EXISTS (SELECT 1 FROM "deliveries" AS d WHERE d."flow_id" = f."id" AND d."channel" = 'email' AND d."status" = 'sent')
) AS w
WHERE u."email" = w."email" AND lower(u."username") = lower(w."username");--> statement-breakpoint
DROP INDEX "users_email_key";--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_proof_has_contact_check" CHECK (("users"."email_verified_at" IS NULL OR "users"."email" IS NOT NULL) AND ("users"."phone_verified_at" IS NULL OR "users"."phone" IS NOT NULL));--> statement-breakpoint
CREATE UNIQUE INDEX "users_verified_email_key" ON "users" USING btree (lower("email")) WHERE "users"."email_verified_at" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "users_verified_phone_key" ON "users" USING btree ("phone") WHERE "users"."phone_verified_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "users_unproven_email_idx" ON "users" USING btree (lower("email")) WHERE "users"."email_verified_at" IS NULL AND "users"."email" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "users_unproven_phone_idx" ON "users" USING btree ("phone") WHERE "users"."phone_verified_at" IS NULL AND "users"."phone" IS NOT NULL;
