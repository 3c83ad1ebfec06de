-- A flow that has ended no longer needs the secrets it held: its password hash (copied into the
-- account when it verified) and the sealed codes of its deliveries are set to null when it ends,
-- and by the worker's retention job for flows that can no longer be used.
ALTER TABLE "registration_flows" ALTER COLUMN "password_hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_otp_shape_check";--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_otp_shape_check" CHECK ("deliveries"."kind" <> 'otp' OR ("deliveries"."flow_id" IS NOT NULL AND "deliveries"."code_sequence" IS NOT NULL));
