import Type, { type Static } from 'typebox';

/**
 * GET /.well-known/jwks.json (RFC 7517): the public half of every key tokens may be signed with.
 * The serializer writes only these members, so a private member could not leave even by mistake.
 */
export const PublicJwkSchema = Type.Object(
  {
    kty: Type.Literal('EC'),
    crv: Type.Literal('P-256'),
    x: Type.String({ description: 'The public point, base64url.' }),
    y: Type.String({ description: 'The public point, base64url.' }),
    kid: Type.String({ description: "The key's id: the `kid` header of the tokens it signs." }),
    alg: Type.Literal('ES256'),
    use: Type.Literal('sig'),
  },
  { additionalProperties: false },
);
export type PublicJwk = Static<typeof PublicJwkSchema>;

export const JwksResponseSchema = Type.Object(
  { keys: Type.Array(PublicJwkSchema) },
  {
    additionalProperties: false,
    description: 'A JWK Set: the key signing new tokens first, then keys whose tokens may still be in use.',
    headers: {
      'cache-control': {
        type: 'string',
        description: 'public, max-age=300: verifiers may keep it 5 minutes.',
      },
    },
    examples: [
      {
        keys: [
          {
            kty: 'EC',
            crv: 'P-256',
            x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
            y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
            kid: 'oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U',
            alg: 'ES256',
            use: 'sig',
          },
        ],
      },
    ],
  },
);
export type JwksResponse = Static<typeof JwksResponseSchema>;
