import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type JwksResponse, JwksResponseSchema } from '../../auth/jwks-schemas.js';
import { errorResponses } from '../../http/error-contract.js';

export interface JwksRoutesOptions {
  /** The public keys, made once when the app is built. */
  jwks: JwksResponse;
}

/**
 * GET /.well-known/jwks.json: what a shop's backend verifies access tokens with (jose's
 * createRemoteJWKSet and the like). Cached for five minutes: a key added first in a rotation is
 * seen by then, and a token with an unknown kid makes such libraries fetch the set again anyway.
 */
export const jwksRoutes: FastifyPluginAsyncTypebox<JwksRoutesOptions> = async (app, options) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        operationId: 'getJwks',
        tags: ['tokens'],
        summary: 'The public keys access tokens are signed with (JWK Set)',
        description:
          'ES256 keys, each with the `kid` that names it in a token header: the key signing new tokens first, ' +
          'then keys whose tokens may still be in use. Cacheable for 5 minutes.',
        // It reads nothing but the keys held in memory: only a failure of ours can go wrong.
        response: { 200: JwksResponseSchema, ...errorResponses(['INTERNAL_ERROR']) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return options.jwks;
    },
  );
};
