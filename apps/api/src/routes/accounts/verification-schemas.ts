import Type, { type Static } from 'typebox';
import { LocaleSchema, VerificationIdSchema } from './accounts-schemas.js';

/**
 * The contract of a registration flow's status and cancel, for the frontend that holds the flow's
 * `verification_id` (snake_case, as the rest of the accounts API).
 */

export const VerificationParamsSchema = Type.Object(
  {
    verification_id: Type.String({
      ...VerificationIdSchema,
      description: 'The registration flow, as request-otp returned it.',
    }),
  },
  { additionalProperties: false },
);
export type VerificationParams = Static<typeof VerificationParamsSchema>;

const VerificationStateSchema = Type.Union(
  [
    Type.Literal('pending'),
    Type.Literal('approved'),
    Type.Literal('expired'),
    Type.Literal('canceled'),
    Type.Literal('max_attempts_reached'),
  ],
  {
    description:
      '`pending`: the code works. `approved`: the code verified the flow and the account exists. ' +
      '`expired`: the code ran out (a resend gives a new one). `canceled`: canceled, or another ' +
      'registration proved this contact first. `max_attempts_reached`: too many wrong codes; start again.',
  },
);

const DeliveryStateSchema = Type.Union(
  [
    Type.Literal('queued'),
    Type.Literal('sending'),
    Type.Literal('sent'),
    Type.Literal('delivered'),
    Type.Literal('read'),
    Type.Literal('failed'),
    Type.Literal('undelivered'),
  ],
  {
    description:
      '`queued`, `sending` (retries included): not yet accepted by the provider. `sent`: accepted. ' +
      "Then the provider's reports where it sends them (WhatsApp, SMS): `delivered` to the handset, " +
      '`read`, or `failed` / `undelivered`. `failed` also means the service gave up on it.',
  },
);

export const VerificationSchema = Type.Object({
  verification_id: VerificationIdSchema,
  status: VerificationStateSchema,
  channel: Type.Union([Type.Literal('email'), Type.Literal('whatsapp'), Type.Literal('sms')], {
    description: 'The channel that carries the current code: the one asked for, or the one it fell back to.',
  }),
  delivery: Type.Union(
    [
      Type.Object({
        status: DeliveryStateSchema,
        error_code: Type.Union([Type.String(), Type.Null()], {
          description: "The provider's error code with `failed` or `undelivered`, e.g. Twilio's 63016.",
        }),
      }),
      Type.Null(),
    ],
    { description: "The current code's message, while the flow is pending; null once it is not." },
  ),
  fell_back: Type.Boolean({
    description:
      'The current code went out as the fallback of a message that failed (WhatsApp → email, or the backup mail transport).',
  }),
  expires_in: Type.Integer({ minimum: 0, description: 'Seconds the code still works; 0 unless pending.' }),
  resend_after: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description:
      'Seconds until resend-otp on the channel the code was asked for is allowed (0: now); ' +
      'null when a resend can send nothing (approved, canceled, max_attempts_reached).',
  }),
  attempts_left: Type.Integer({
    minimum: 0,
    description: 'Wrong codes that may still be tried with this id.',
  }),
  locale: LocaleSchema,
});
export type VerificationResponseBody = Static<typeof VerificationSchema>;

export const VerificationResponseSchema = Type.Object(
  { success: Type.Literal(true), verification: VerificationSchema },
  { description: "The registration flow's status." },
);
