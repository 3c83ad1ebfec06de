-- The shopper's language, negotiated at request-otp: resends and fallbacks speak it too.
ALTER TABLE "registration_flows" ADD COLUMN "locale" text DEFAULT 'en' NOT NULL;
