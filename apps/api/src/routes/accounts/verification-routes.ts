import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BODY_ERRORS, errorResponses, SERVER_ERRORS } from '../../http/error-contract.js';
import type { RegistrationService } from '../../registration/registration-service.js';
import type { SendLimits } from '../../registration/send-limits.js';
import type { VerificationStatus } from '../../registration/verification-status.js';
import { limitedPerIp, RATE_LIMIT_HEADERS } from './ip-limit-hook.js';
import {
  VerificationParamsSchema,
  type VerificationResponseBody,
  VerificationResponseSchema,
} from './verification-schemas.js';

export interface VerificationRoutesOptions {
  registration: Pick<RegistrationService, 'getVerification' | 'cancelVerification'>;
  /** Requests per client IP: status and cancel share a count of their own. */
  ipLimits: Pick<SendLimits, 'takeRequest'>;
}

function toVerificationResponse(status: VerificationStatus): VerificationResponseBody {
  return {
    verification_id: status.verificationId,
    status: status.state,
    channel: status.channel,
    delivery: status.delivery && { status: status.delivery.state, error_code: status.delivery.errorCode },
    fell_back: status.fellBack,
    expires_in: status.expiresInSeconds,
    resend_after: status.resendAfterSeconds,
    attempts_left: status.attemptsLeft,
    locale: status.locale,
  };
}

/**
 * A registration flow's status and cancel, for whoever holds its id (under /api/accounts). They
 * answer the same for a flow that sends codes and one that sends a notice: nothing about accounts.
 */
export const verificationRoutes: FastifyPluginAsyncTypebox<VerificationRoutesOptions> = async (
  app,
  options,
) => {
  const { registration } = options;
  const limited = limitedPerIp(options.ipLimits, 'status');
  const ok = { ...VerificationResponseSchema, headers: RATE_LIMIT_HEADERS };
  const refusals = ['VALIDATION_ERROR', 'VERIFICATION_NOT_FOUND', 'RATE_LIMITED', ...SERVER_ERRORS] as const;

  app.get(
    '/verifications/:verification_id',
    {
      onRequest: limited,
      schema: {
        operationId: 'getVerification',
        tags: ['verifications'],
        summary: "A registration's status: pending, approved, expired, canceled or max_attempts_reached",
        description:
          'Also where the current code went (channel, delivery, fell_back) and when a resend is allowed. Poll it every few seconds while pending.',
        params: VerificationParamsSchema,
        response: { 200: ok, ...errorResponses(refusals) },
      },
    },
    async (request, reply) => {
      // Polled: no cache may answer for the service.
      reply.header('cache-control', 'no-store');
      const status = await registration.getVerification(request.params.verification_id);
      return { success: true as const, verification: toVerificationResponse(status) };
    },
  );

  app.post(
    '/verifications/:verification_id/cancel',
    {
      onRequest: limited,
      schema: {
        operationId: 'cancelVerification',
        tags: ['verifications'],
        summary: 'End a pending registration: its code stops working and nothing more is sent',
        description:
          'Idempotent. Answers the status after the call: `canceled`, or what the flow already was (an approved flow stays approved).',
        params: VerificationParamsSchema,
        // It takes no body; one sent anyway is parsed like any other (bad JSON, too large, not JSON).
        response: { 200: ok, ...errorResponses([...refusals, ...BODY_ERRORS]) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const status = await registration.cancelVerification(request.params.verification_id);
      return { success: true as const, verification: toVerificationResponse(status) };
    },
  );
};
