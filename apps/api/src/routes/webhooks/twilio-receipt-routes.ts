import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TWILIO_RECEIPT_PATH } from '@otp-relay/core';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import Type from 'typebox';
import type { ReceiptService } from '../../delivery-receipts/receipt-service.js';
import { type ErrorResponse, ErrorResponseSchema } from '../../http/error-contract.js';

export interface TwilioReceiptRoutesOptions {
  receipts: ReceiptService;
  authToken: string;
  /** The service's public address, as Twilio calls it: the signature covers the full URL. */
  publicBaseUrl: string;
}

// What of Twilio's callback form we read; it sends many more fields, all covered by the signature.
const TwilioStatusFormSchema = Type.Object(
  {
    MessageSid: Type.String({ minLength: 1, maxLength: 64 }),
    MessageStatus: Type.String({ minLength: 1, maxLength: 32 }),
    ErrorCode: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: Type.String() },
);

/**
 * Twilio's message status callbacks: signed form posts (X-Twilio-Signature, an HMAC of the full
 * URL and every parameter under the account's auth token), checked with the twilio library before
 * anything is read. A bad signature is 403 and changes nothing; a good one is applied at most once.
 */
export const twilioReceiptRoutes: FastifyPluginAsyncTypebox<TwilioReceiptRoutesOptions> = async (
  app,
  options,
) => {
  // Form bodies here only; the rest of the API stays JSON-only.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const base = options.publicBaseUrl.replace(/\/+$/, '');

  app.post(
    TWILIO_RECEIPT_PATH,
    {
      schema: {
        hide: true,
        body: TwilioStatusFormSchema,
        response: { 204: Type.Null(), 403: ErrorResponseSchema },
      },
      // Checked before the body is validated: an unsigned caller learns nothing about the form.
      preValidation: async (request, reply) => {
        const signature = request.headers['x-twilio-signature'];
        const params = (request.body ?? {}) as Record<string, string>;
        const url = `${base}${request.url}`;
        if (typeof signature !== 'string' || !validateRequest(options.authToken, signature, url, params)) {
          request.log.warn('Twilio receipt with a missing or wrong signature refused');
          const body: ErrorResponse = {
            success: false,
            code: 'SIGNATURE_INVALID',
            message: 'The request is not signed by the provider.',
          };
          return reply.status(403).send(body);
        }
      },
    },
    async (request, reply) => {
      const form = request.body;
      await options.receipts.apply(
        {
          provider: 'twilio',
          providerMessageId: form.MessageSid,
          status: form.MessageStatus,
          errorCode: form.ErrorCode || undefined,
        },
        request.log,
      );
      return reply.status(204).send(null);
    },
  );
};
