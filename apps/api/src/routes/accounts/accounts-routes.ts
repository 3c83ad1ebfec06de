import createError, { type FastifyError } from '@fastify/error';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { commonErrorResponses, ErrorResponseSchema } from '../../http/error-contract.js';
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
  type UserResponse,
  VerifiedResponseSchema,
  VerifyOtpBodySchema,
} from './accounts-schemas.js';
import { limitedPerIp } from './ip-limit-hook.js';

export interface AccountsRoutesOptions {
  registration: RegistrationService;
  /** Put the code in responses: development only, refused in production by the config. */
  debugResponses: boolean;
  /** Requests per client IP: request-otp and resend-otp share one count, verify-otp has its own. */
  ipLimits: Pick<SendLimits, 'takeRequest'>;
}

function toUserResponse(user: VerifiedUser): UserResponse {
  return {
    id: user.id,
    email: user.email,
    mobile: user.phone,
    username: user.username,
    first_name: user.firstName,
    last_name: user.lastName,
    is_verified: user.isVerified,
    email_verified: user.emailVerifiedAt !== null,
    phone_verified: user.phoneVerifiedAt !== null,
  };
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

const TokenInvalidError = createError('OTP_RELAY_TOKEN_INVALID', 'Authorization token is invalid.', 401);

/**
 * The account id in the request's bearer token. @fastify/jwt answers most bad tokens with its own
 * 401s, but lets a few of fast-jwt's decode errors through unmapped (a signature part that is not
 * base64url, such as `..!`), which would leave as a 500. Failing to verify a client's token is
 * always the client's problem.
 */
async function tokenSubject(request: FastifyRequest): Promise<string> {
  try {
    return (await request.jwtVerify<{ sub: string }>()).sub;
  } catch (error) {
    const { statusCode = 500 } = error as Partial<FastifyError>;
    if (statusCode >= 400 && statusCode < 500) throw error;
    throw new TokenInvalidError();
  }
}

export const accountsRoutes: FastifyPluginAsyncTypebox<AccountsRoutesOptions> = async (app, options) => {
  const { registration, debugResponses, ipLimits } = options;
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
        summary: 'Start a registration: send a one-time code',
        body: RequestOtpBodySchema,
        response: { 200: RequestOtpResponseSchema, 409: ErrorResponseSchema, ...commonErrorResponses },
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
          firstName: body.first_name,
          lastName: body.last_name,
          password: body.password,
          captchaToken: body.captcha_token,
          ip: request.ip,
        },
        request.log,
      );
      return {
        ...issuedResponse(`A verification code is on its way by ${body.otp_method}.`, issued),
        verification_id: issued.verificationId,
      };
    },
  );

  app.post(
    '/verify-otp/',
    {
      onRequest: limited('verify'),
      schema: {
        summary: 'Finish a registration with the code: creates the account and returns a token',
        body: VerifyOtpBodySchema,
        response: { 200: VerifiedResponseSchema, 409: ErrorResponseSchema, ...commonErrorResponses },
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
      const token = await app.jwt.sign(tokenClaims(user));
      return {
        success: true as const,
        message: 'Registration successful',
        user: toUserResponse(user),
        token,
      };
    },
  );

  app.post(
    '/resend-otp/',
    {
      onRequest: limited('send'),
      schema: {
        summary: 'Send a new code; the previous one stops working',
        body: ResendOtpBodySchema,
        response: { 200: OtpIssuedResponseSchema, ...commonErrorResponses },
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
        summary: 'The account a token belongs to',
        security: [{ bearerAuth: [] }],
        response: { 200: MeResponseSchema, 401: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const user = await registration.findUser(await tokenSubject(request));
      if (!user) {
        return reply
          .status(401)
          .send({ success: false, code: 'UNAUTHORIZED', message: 'The account no longer exists.' });
      }
      return { success: true as const, user: toUserResponse(user) };
    },
  );
};
