-- Delivery truth: what the provider reported after accepting a message (Twilio's status
-- callbacks), each receipt applied once; SMS as a third channel; flows the holder canceled.
ALTER TABLE "deliveries" ADD COLUMN "provider_status" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "provider_error_code" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "provider_status_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_provider_status_check" CHECK ("deliveries"."provider_status" IN ('sent', 'delivered', 'read', 'failed', 'undelivered'));--> statement-breakpoint
CREATE INDEX "deliveries_provider_message_id_idx" ON "deliveries" USING btree ("provider_message_id") WHERE "deliveries"."provider_message_id" IS NOT NULL;--> statement-breakpoint
CREATE TABLE "delivery_receipts" (
	"provider" text NOT NULL,
	"provider_message_id" text NOT NULL,
	"status" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "delivery_receipts_provider_provider_message_id_status_pk" PRIMARY KEY("provider","provider_message_id","status")
);--> statement-breakpoint
ALTER TABLE "registration_flows" ADD COLUMN "canceled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "registration_flows" DROP CONSTRAINT "registration_flows_channel_check";--> statement-breakpoint
ALTER TABLE "registration_flows" ADD CONSTRAINT "registration_flows_channel_check" CHECK ("registration_flows"."channel" IN ('email', 'whatsapp', 'sms'));--> statement-breakpoint
DROP INDEX "registration_flows_open_phone_idx";--> statement-breakpoint
CREATE INDEX "registration_flows_open_phone_idx" ON "registration_flows" USING btree ("destination") WHERE "registration_flows"."verified_at" IS NULL AND "registration_flows"."closed_at" IS NULL AND "registration_flows"."channel" IN ('whatsapp', 'sms');
