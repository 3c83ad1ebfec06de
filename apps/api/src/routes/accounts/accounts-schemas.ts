import { SUPPORTED_LOCALES } from '@otp-relay/core';
import Type, { type Static } from 'typebox';

/**
 * The accounts contract the ecommerce frontend calls. Field names are the frontend's (snake_case).
 * Each field's `errorMessage` is what a refusal says of it, for people (ajv-errors).
 */

/** A mobile number libphonenumber takes as a valid mobile (a UK one), for examples and messages. */
const EXAMPLE_MOBILE = '+44 7400 123456';
const EXAMPLE_VERIFICATION_ID = 'vf_3q2-7wEVl9xJc0dZK1mXb5aR';
// The request examples' answers, as their descriptions say them (a test reads the status there).
const ANSWERS_200 = 'Answers 200.';
const WITH_REAL_ID = 'With the verification_id request-otp returned';
const EXAMPLE_SHOPPER = {
  email: 'ann@example.com',
  otp_method: 'email',
  username: 'ann_k',
  first_name: 'Ann',
  last_name: 'Lee',
  password: 'correct horse battery staple',
};

export const EmailSchema = Type.String({
  format: 'email',
  minLength: 3,
  maxLength: 254,
  examples: ['ann@example.com'],
  errorMessage: 'must be an email address (at most 254 characters)',
});
export const OtpMethodSchema = Type.Union(
  [Type.Literal('email'), Type.Literal('whatsapp'), Type.Literal('sms')],
  {
    description:
      'Where the code goes: the email, or the mobile number by WhatsApp or by SMS (text message). A channel the service has not enabled is refused with 400 CHANNEL_UNAVAILABLE.',
    errorMessage: "must be 'email', 'whatsapp' or 'sms'",
  },
);
// Letters of any script, combining marks, spaces, apostrophes, dots and hyphens: "José", "O'Brien", "Anne-Marie", "李".
const NameSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: "^[\\p{L}\\p{M}][\\p{L}\\p{M} '’.-]*$",
  errorMessage:
    'must be 1 to 100 letters (any script), with spaces, apostrophes, dots and hyphens, starting with a letter',
});

// Turnstile's answers are up to 2,048 characters; hCaptcha's are shorter.
const CaptchaTokenSchema = Type.String({
  minLength: 1,
  maxLength: 4096,
  description:
    "The CAPTCHA widget's answer (Cloudflare Turnstile or hCaptcha). Required when the service has CAPTCHA_PROVIDER set; ignored otherwise.",
  errorMessage: "must be the CAPTCHA widget's answer (1 to 4096 characters)",
});

/**
 * The shop's own small object for the account (a customer number, a referral, a marketing
 * consent), kept on it and sent in its events. The limits are METADATA_LIMITS (account-profile.ts),
 * which also caps the whole object at 2 KB of JSON.
 */
export const MetadataSchema = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }),
  Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean(), Type.Null()]),
  {
    maxProperties: 16,
    additionalProperties: false,
    description:
      'Optional, kept on the account and returned in its user object and events: at most 16 keys of 1 to 40 letters, digits, `_`, `.` or `-`; each value a string of at most 500 characters, a number, true, false or null; at most 2 KB as JSON.',
    examples: [{ customer_ref: 'C-1042', newsletter: true }],
    errorMessage:
      "must be an object of at most 16 keys (1 to 40 letters, digits, '_', '.' or '-'), each a string of at most 500 characters, a number, true, false or null",
  },
);

export const RequestOtpBodySchema = Type.Object(
  {
    email: EmailSchema,
    otp_method: OtpMethodSchema,
    mobile: Type.Optional(
      Type.String({
        minLength: 4,
        maxLength: 32,
        description:
          'Needed for whatsapp and sms: a mobile number with its country code, in any common notation; stored as E.164.',
        examples: [EXAMPLE_MOBILE],
        errorMessage: `must be a mobile number in international format, e.g. ${EXAMPLE_MOBILE}`,
      }),
    ),
    username: Type.Optional(
      Type.String({
        minLength: 3,
        maxLength: 30,
        pattern: '^[A-Za-z0-9_.-]+$',
        description:
          'Unique, whatever its case. Required unless the service runs with USERNAME_REQUIRED=false (then 400 VALIDATION_ERROR naming `username` when missing).',
        examples: ['ann_k'],
        errorMessage: "must be 3 to 30 characters and may only contain letters, digits, '_', '.' and '-'",
      }),
    ),
    first_name: NameSchema,
    last_name: NameSchema,
    password: Type.String({
      minLength: 8,
      maxLength: 128,
      description: 'Stored only as an argon2id hash.',
      errorMessage: 'must be 8 to 128 characters',
    }),
    captcha_token: Type.Optional(CaptchaTokenSchema),
    metadata: Type.Optional(MetadataSchema),
    locale: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          "The shopper's language for the code's messages, as a BCP 47 tag (`es`, `pt-BR`, `ar`). A malformed tag is refused (400 naming `locale`); a well-formed one the service has no messages for gets the closest it has, else English. When absent: the `Accept-Language` header, then (WhatsApp and SMS) the number's country, then English. Kept on the flow: resends and fallbacks use it.",
        examples: ['es', 'pt-BR', 'ar'],
        errorMessage: 'must be a language tag (BCP 47), e.g. es or pt-BR',
      }),
    ),
  },
  {
    additionalProperties: false,
    // Bodies the service accepts as they are (the OpenAPI document's request examples; a test sends each).
    'x-examples': {
      email: { summary: 'A code by email', description: ANSWERS_200, value: EXAMPLE_SHOPPER },
      whatsapp: {
        summary: 'A code by WhatsApp',
        description: `${ANSWERS_200} WhatsApp must be enabled (WHATSAPP_PROVIDER).`,
        value: { ...EXAMPLE_SHOPPER, otp_method: 'whatsapp', mobile: EXAMPLE_MOBILE },
      },
      sms: {
        summary: 'A code by SMS',
        description: `${ANSWERS_200} SMS must be enabled (SMS_PROVIDER).`,
        value: { ...EXAMPLE_SHOPPER, otp_method: 'sms', mobile: EXAMPLE_MOBILE },
      },
    },
  },
);
export type RequestOtpBody = Static<typeof RequestOtpBodySchema>;

export const VerificationIdSchema = Type.String({
  minLength: 16,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_-]+$',
  description:
    'The registration flow this call is about, as request-otp returned it. Always send it: without it a call works only while the address has exactly one open registration.',
  examples: [EXAMPLE_VERIFICATION_ID],
  errorMessage: 'must be the verification_id that request-otp returned',
});

export const OtpIssuedResponseSchema = Type.Object(
  {
    success: Type.Literal(true),
    message: Type.String(),
    expires_in: Type.Integer({ description: 'Seconds the code stays valid.' }),
    resend_after: Type.Integer({ description: 'Seconds before another code may be requested.' }),
    debug_otp: Type.Optional(
      Type.String({ description: 'Only in development with OTP_DEBUG_RESPONSE=true: the code itself.' }),
    ),
  },
  { description: 'A new code is on its way (or, when there was nothing to send, the same answer).' },
);
export type OtpIssuedResponse = Static<typeof OtpIssuedResponseSchema>;

/** The languages the service's messages ship in; a flow speaks one of them. */
export const LocaleSchema = Type.Enum(SUPPORTED_LOCALES, {
  type: 'string',
  description: "The flow's language (BCP 47): the supported locale chosen for the shopper.",
});

export const RequestOtpResponseSchema = Type.Object(
  {
    ...OtpIssuedResponseSchema.properties,
    verification_id: VerificationIdSchema,
    locale: LocaleSchema,
  },
  { description: 'The flow is open and its code on its way; keep verification_id for the next calls.' },
);
export type RequestOtpResponse = Static<typeof RequestOtpResponseSchema>;

export const VerifyOtpBodySchema = Type.Object(
  {
    email: EmailSchema,
    otp: Type.String({
      pattern: '^[0-9]{4,10}$',
      description: 'The code as received.',
      examples: ['123456'],
      errorMessage: 'must be the code as received: 4 to 10 digits',
    }),
    verification_id: Type.Optional(VerificationIdSchema),
  },
  {
    additionalProperties: false,
    'x-examples': {
      withId: {
        summary: 'The code, with the flow request-otp opened',
        description: `${ANSWERS_200} ${WITH_REAL_ID} and the code it sent.`,
        value: { email: EXAMPLE_SHOPPER.email, otp: '123456', verification_id: EXAMPLE_VERIFICATION_ID },
      },
    },
  },
);

export const ResendOtpBodySchema = Type.Object(
  {
    email: EmailSchema,
    otp_method: OtpMethodSchema,
    verification_id: Type.Optional(VerificationIdSchema),
    captcha_token: Type.Optional(CaptchaTokenSchema),
  },
  {
    additionalProperties: false,
    'x-examples': {
      withId: {
        summary: 'A new code by email for the flow request-otp opened',
        description: `${ANSWERS_200} ${WITH_REAL_ID}.`,
        value: {
          email: EXAMPLE_SHOPPER.email,
          otp_method: 'email',
          verification_id: EXAMPLE_VERIFICATION_ID,
        },
      },
    },
  },
);

export const UserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.Union([Type.String(), Type.Null()], {
    description: 'As typed. Trust it only when email_verified; null once another account proved it.',
  }),
  mobile: Type.Union([Type.String(), Type.Null()], {
    description: 'E.164. Trust it only when phone_verified.',
  }),
  username: Type.Union([Type.String(), Type.Null()], {
    description: 'Null for an account registered without one (USERNAME_REQUIRED=false).',
  }),
  first_name: Type.String(),
  last_name: Type.String(),
  is_verified: Type.Boolean({ description: 'Some contact of the account was proven by a code.' }),
  email_verified: Type.Boolean({ description: 'A code sent to the email proved it.' }),
  phone_verified: Type.Boolean({ description: 'A code sent to the phone (WhatsApp or SMS) proved it.' }),
  metadata: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
    { description: 'What request-otp was given as `metadata`; {} when nothing.' },
  ),
});
export type UserResponse = Static<typeof UserSchema>;

export const VerifiedResponseSchema = Type.Object(
  {
    success: Type.Literal(true),
    message: Type.String(),
    user: UserSchema,
    token: Type.String({ description: 'A JWT for `Authorization: Bearer`.' }),
  },
  { description: 'The code was right: the account exists, and here is its token.' },
);

export const MeResponseSchema = Type.Object(
  { success: Type.Literal(true), user: UserSchema },
  { description: "The token's account." },
);
