import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IpBucket, SendLimits } from '../../registration/send-limits.js';

/**
 * An onRequest hook that counts the request against its client IP in `bucket`, before the body is
 * even read: 429 RATE_LIMITED past RATE_LIMIT_IP_MAX, and the count in X-RateLimit-* headers.
 */
export function limitedPerIp(ipLimits: Pick<SendLimits, 'takeRequest'>, bucket: IpBucket) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const allowance = await ipLimits.takeRequest(bucket, request.ip);
    reply.headers({
      'x-ratelimit-limit': allowance.limit,
      'x-ratelimit-remaining': allowance.remaining,
      'x-ratelimit-reset': allowance.resetSeconds,
    });
  };
}

/** The X-RateLimit-* headers `limitedPerIp` puts on a route's answers, for its response schemas. */
export const RATE_LIMIT_HEADERS = {
  'x-ratelimit-limit': { type: 'integer', description: 'Requests this client IP may make in the window.' },
  'x-ratelimit-remaining': { type: 'integer', description: 'Requests it has left in the window.' },
  'x-ratelimit-reset': { type: 'integer', description: 'Seconds until the window starts again.' },
};
