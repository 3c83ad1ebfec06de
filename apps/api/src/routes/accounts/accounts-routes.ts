import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccessTokens } from '../../auth/access-tokens.js';
import { bearerSubject } from '../../auth/bearer-subject.js';
import { BODY_ERRORS, errorResponses, SERVER_ERRORS } from '../../http/error-contract.js';
import { userObject } from '../../registration/registration-events.js';
import type {
  IssuedCode,
  RegistrationService,
  VerifiedUser,
} from '../../registration/registration-service.js';
import type { IpBucket, SendLimits } from '../../registration/send-limits.js';
import {
  MeResponseSchema,
  type OtpIssuedResponse,
  OtpIssuedResponseSchema,
  RequestOtpBodySchema,
  RequestOtpResponseSchema,
  ResendOtpBodySchema,
  VerifiedResponseSchema,
  VerifyOtpBodySchema,
} from './accounts-schemas.js';
import { limitedPerIp, RATE_LIMIT_HEADERS } from './ip-limit-hook.js';

export interface AccountsRoutesOptions {
  /** Issues the token verify-otp returns and checks the one /me gets. */
  accessTokens: AccessTokens;
  registration: RegistrationService;
  /** Put the code in responses: development only, refused in production by the config. */
  debugResponses: boolean;
  /** Requests per client IP: request-otp and resend-otp share one count, verify-otp has its own. */
  ipLimits: Pick<SendLimits, 'takeRequest'>;
}

/**
 * The token's claims: the account, and which of its contacts were proven, in OpenID Connect's
 * names, so a shop's backend can tell a proven email from one that was only typed.
 */
function tokenClaims(user: VerifiedUser) {
  return {
    sub: user.id,
    email_verified: user.emailVerifiedAt !== null,
    phone_number_verified: user.phoneVerifiedAt !== null,
    ...(user.email && user.emailVerifiedAt ? { email: user.email } : {}),
    ...(user.phone && user.phoneVerifiedAt ? { phone_number: user.phone } : {}),
  };
}

export const accountsRoutes: FastifyPluginAsyncTypebox<AccountsRoutesOptions> = async (app, options) => {
  const { accessTokens, registration, debugResponses, ipLimits } = options;
  const limited = (bucket: IpBucket) => limitedPerIp(ipLimits, bucket);

  const issuedResponse = (message: string, issued: IssuedCode): OtpIssuedResponse => ({
    success: true,
    message,
    expires_in: issued.expiresInSeconds,
    resend_after: issued.resendAfterSeconds,
    ...(debugResponses && issued.code ? { debug_otp: issued.code } : {}),
  });

  app.post(
    '/request-otp/',
    {
      onRequest: limited('send'),
      schema: {
        operationId: 'requestOtp',
        tags: ['registration'],
        summary: 'Start a registration: send a one-time code',
        body: RequestOtpBodySchema,
        response: {
          200: { ...RequestOtpResponseSchema, headers: RATE_LIMIT_HEADERS },
          ...errorResponses([
            ...BODY_ERRORS,
            'CHANNEL_UNAVAILABLE',
            'CAPTCHA_REQUIRED',
            'CAPTCHA_INVALID',
            'USERNAME_TAKEN',
            'RESEND_TOO_SOON',
            'RATE_LIMITED',
            'SEND_BUDGET_EXHAUSTED',
            'SERVICE_BUSY',
            ...SERVER_ERRORS,
          ]),
        },
      },
    },
    async (request) => {
      const { body } = request;
      const issued = await registration.requestOtp(
        {
          email: body.email,
          channel: body.otp_method,
          ...(body.mobile === undefined ? {} : { mobile: body.mobile }),
          username: body.username,
          metadata: body.metadata,
          firstName: body.first_name,
          lastName: body.last_name,
          password: body.password,
          captchaToken: body.captcha_token,
          ip: request.ip,
          locale: body.locale,
          acceptLanguage: request.headers['accept-language'],
        },
        request.log,
      );
      return {
        ...issuedResponse(`A verification code is on its way by ${body.otp_method}.`, issued),
        verification_id: issued.verificationId,
        locale: issued.locale,
      };
    },
  );

  app.post(
    '/verify-otp/',
    {
      onRequest: limited('verify'),
      schema: {
        operationId: 'verifyOtp',
        tags: ['registration'],
        summary: 'Finish a registration with the code: creates the account and returns a token',
        body: VerifyOtpBodySchema,
        response: {
          200: { ...VerifiedResponseSchema, headers: RATE_LIMIT_HEADERS },
          ...errorResponses([
            ...BODY_ERRORS,
            'OTP_INVALID',
            'OTP_EXPIRED',
            'OTP_ATTEMPTS_EXCEEDED',
            'VERIFICATION_ID_REQUIRED',
            'USERNAME_TAKEN',
            'RATE_LIMITED',
            ...SERVER_ERRORS,
          ]),
        },
      },
    },
    async (request) => {
      const { body } = request;
      const user = await registration.verifyOtp({
        email: body.email,
        code: body.otp,
        verificationId: body.verification_id,
        ip: request.ip,
      });
      const token = await accessTokens.sign(tokenClaims(user));
      return {
        success: true as const,
        message: 'Registration successful',
        user: userObject(user),
        token,
      };
    },
  );

  app.post(
    '/resend-otp/',
    {
      onRequest: limited('send'),
      schema: {
        operationId: 'resendOtp',
        tags: ['registration'],
        summary: 'Send a new code; the previous one stops working',
        body: ResendOtpBodySchema,
        response: {
          200: { ...OtpIssuedResponseSchema, headers: RATE_LIMIT_HEADERS },
          ...errorResponses([
            ...BODY_ERRORS,
            'CHANNEL_UNAVAILABLE',
            'CAPTCHA_REQUIRED',
            'CAPTCHA_INVALID',
            'VERIFICATION_ID_REQUIRED',
            'OTP_ATTEMPTS_EXCEEDED',
            'RESEND_TOO_SOON',
            'RATE_LIMITED',
            'SEND_BUDGET_EXHAUSTED',
            ...SERVER_ERRORS,
          ]),
        },
      },
    },
    async (request) => {
      const { body } = request;
      const issued = await registration.resendOtp(
        {
          email: body.email,
          channel: body.otp_method,
          verificationId: body.verification_id,
          captchaToken: body.captcha_token,
          ip: request.ip,
        },
        request.log,
      );
      return issuedResponse(
        `If a registration is pending, a new code is on its way by ${body.otp_method}.`,
        issued,
      );
    },
  );

  app.get(
    '/me',
    {
      schema: {
        operationId: 'getMe',
        tags: ['account'],
        summary: 'The account a token belongs to',
        security: [{ bearerAuth: [] }],
        response: { 200: MeResponseSchema, ...errorResponses(['UNAUTHORIZED', ...SERVER_ERRORS]) },
      },
    },
    async (request, reply) => {
      const user = await registration.findUser(
        await bearerSubject(accessTokens, request.headers.authorization),
      );
      if (!user) {
        return reply
          .status(401)
          .send({ success: false, code: 'UNAUTHORIZED', message: 'The account no longer exists.' });
      }
      return { success: true as const, user: userObject(user) };
    },
  );
};
