import Type, { type Static } from 'typebox';

/** The accounts contract the ecommerce frontend calls. Field names are the frontend's (snake_case). */

export const EmailSchema = Type.String({
  format: 'email',
  minLength: 3,
  maxLength: 254,
  examples: ['ann@example.com'],
});
export const OtpMethodSchema = Type.Union(
  [Type.Literal('email'), Type.Literal('whatsapp'), Type.Literal('sms')],
  {
    description:
      'Where the code goes: the email, or the mobile number by WhatsApp or by SMS (text message). A channel the service has not enabled is refused with 400 CHANNEL_UNAVAILABLE.',
  },
);
// Letters of any script, combining marks, spaces, apostrophes, dots and hyphens: "José", "O'Brien", "Anne-Marie", "李".
const NameSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: "^[\\p{L}\\p{M}][\\p{L}\\p{M} '’.-]*$",
});

// Turnstile's answers are up to 2,048 characters; hCaptcha's are shorter.
const CaptchaTokenSchema = Type.String({
  minLength: 1,
  maxLength: 4096,
  description:
    "The CAPTCHA widget's answer (Cloudflare Turnstile or hCaptcha). Required when the service has CAPTCHA_PROVIDER set; ignored otherwise.",
});

export const RequestOtpBodySchema = Type.Object(
  {
    email: EmailSchema,
    otp_method: OtpMethodSchema,
    mobile: Type.Optional(
      Type.String({ minLength: 4, maxLength: 32, description: 'Needed for whatsapp and sms.' }),
    ),
    username: Type.String({ minLength: 3, maxLength: 30, pattern: '^[A-Za-z0-9_.-]+$', examples: ['ann_k'] }),
    first_name: NameSchema,
    last_name: NameSchema,
    password: Type.String({ minLength: 8, maxLength: 128 }),
    captcha_token: Type.Optional(CaptchaTokenSchema),
  },
  { additionalProperties: false },
);
export type RequestOtpBody = Static<typeof RequestOtpBodySchema>;

export const VerificationIdSchema = Type.String({
  minLength: 16,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_-]+$',
  description:
    'The registration flow this call is about, as request-otp returned it. Always send it: without it a call works only while the address has exactly one open registration.',
  examples: ['vf_3q2-7wEVl9xJc0dZK1mXb5aR'],
});

export const OtpIssuedResponseSchema = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  expires_in: Type.Integer({ description: 'Seconds the code stays valid.' }),
  resend_after: Type.Integer({ description: 'Seconds before another code may be requested.' }),
  debug_otp: Type.Optional(
    Type.String({ description: 'Only in development with OTP_DEBUG_RESPONSE=true: the code itself.' }),
  ),
});
export type OtpIssuedResponse = Static<typeof OtpIssuedResponseSchema>;

export const RequestOtpResponseSchema = Type.Object({
  ...OtpIssuedResponseSchema.properties,
  verification_id: VerificationIdSchema,
});
export type RequestOtpResponse = Static<typeof RequestOtpResponseSchema>;

export const VerifyOtpBodySchema = Type.Object(
  {
    email: EmailSchema,
    otp: Type.String({ pattern: '^[0-9]{4,10}$', description: 'The code as received.' }),
    verification_id: Type.Optional(VerificationIdSchema),
  },
  { additionalProperties: false },
);

export const ResendOtpBodySchema = Type.Object(
  {
    email: EmailSchema,
    otp_method: OtpMethodSchema,
    verification_id: Type.Optional(VerificationIdSchema),
    captcha_token: Type.Optional(CaptchaTokenSchema),
  },
  { additionalProperties: false },
);

export const UserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.Union([Type.String(), Type.Null()], {
    description: 'As typed. Trust it only when email_verified; null once another account proved it.',
  }),
  mobile: Type.Union([Type.String(), Type.Null()], {
    description: 'E.164. Trust it only when phone_verified.',
  }),
  username: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  is_verified: Type.Boolean({ description: 'Some contact of the account was proven by a code.' }),
  email_verified: Type.Boolean({ description: 'A code sent to the email proved it.' }),
  phone_verified: Type.Boolean({ description: 'A code sent to the phone (WhatsApp or SMS) proved it.' }),
});
export type UserResponse = Static<typeof UserSchema>;

export const VerifiedResponseSchema = Type.Object({
  success: Type.Literal(true),
  message: Type.String(),
  user: UserSchema,
  token: Type.String({ description: 'A JWT for `Authorization: Bearer`.' }),
});

export const MeResponseSchema = Type.Object({ success: Type.Literal(true), user: UserSchema });
