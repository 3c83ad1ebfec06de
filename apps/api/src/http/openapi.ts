import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

/**
 * The public API's OpenAPI 3.1 document, as @fastify/swagger builds it from the route schemas
 * (operation ids, tags, examples, every answer a route gives). It is committed as
 * docs/openapi.json (`pnpm openapi:write`), served by the operators' app at /docs/json, and a
 * test keeps the two equal.
 */

type OpenApiDocument = ReturnType<NonNullable<FastifyDynamicSwaggerOptions['transformObject']>> &
  Record<string, unknown>;
type PathItem = Record<string, unknown>;

const OPENAPI_TAGS = [
  {
    name: 'registration',
    description:
      'Open a registration flow (a code by email, WhatsApp or SMS), verify the code into an account, or send a new one.',
  },
  {
    name: 'verifications',
    description: "A registration flow's status, and cancel, for whoever holds its verification_id.",
  },
  { name: 'account', description: 'The account a token belongs to.' },
  { name: 'tokens', description: "The public keys that verify the service's access tokens (JWKS)." },
  { name: 'health', description: 'Liveness and readiness, for load balancers and orchestrators.' },
];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The other slash form of a path: the router serves both (ignoreTrailingSlash). */
function otherSlashForm(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
}

/** A path item's name in components.pathItems: its first operation's id. */
function pathItemName(path: string, item: PathItem): string {
  for (const method of METHODS) {
    const operationId = (item[method] as { operationId?: unknown } | undefined)?.operationId;
    if (typeof operationId === 'string') return operationId;
  }
  throw new Error(`OpenAPI: ${path} has no operation with an operationId`);
}

function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Every path in both its slash forms, as the router answers them: each path item lives once in
 * components.pathItems and both forms refer to it (one operation, one operationId, so a client
 * generator makes one method). Paths and components are sorted so the document diffs cleanly.
 */
function withBothSlashForms(document: OpenApiDocument): OpenApiDocument {
  const paths = (document.paths ?? {}) as Record<string, PathItem>;
  const pathItems: Record<string, PathItem> = {};
  const refs: Record<string, { $ref: string }> = {};
  for (const [path, item] of Object.entries(paths)) {
    const name = pathItemName(path, item);
    if (pathItems[name]) throw new Error(`OpenAPI: operationId ${name} is used twice`);
    pathItems[name] = item;
    const ref = { $ref: `#/components/pathItems/${name}` };
    refs[path] = ref;
    if (path !== '/') refs[otherSlashForm(path)] = ref;
  }
  const { schemas = {}, ...components } = (document.components ?? {}) as Record<
    string,
    Record<string, unknown>
  >;
  const { openapi, info, servers, security, tags, ...rest } = document as Record<string, unknown>;
  // The usual order of an OpenAPI document, for people reading it.
  return {
    openapi,
    info,
    servers,
    security,
    tags,
    ...rest,
    paths: sortedByKey(refs),
    components: sortedByKey({
      ...components,
      pathItems: sortedByKey(pathItems),
      ...(Object.keys(schemas).length > 0 ? { schemas: sortedByKey(schemas) } : {}),
    }),
  } as OpenApiDocument;
}

/**
 * Drops ajv-errors' `errorMessage` from the document's schemas: it tells the validator what a
 * refusal says (the 400's `errors` carry it), and is no JSON Schema keyword that tools know.
 */
function withoutValidatorKeywords<T>(value: T, key?: string): T {
  if (Array.isArray(value)) return value.map((item) => withoutValidatorKeywords(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).filter(
    ([name, child]) => key === 'properties' || name !== 'errorMessage' || typeof child !== 'string',
  );
  return Object.fromEntries(
    entries.map(([name, child]) => [name, withoutValidatorKeywords(child, name)]),
  ) as T;
}

export function openApiOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'otp-relay',
        version: '1.0.0',
        description:
          'Registration by one-time code for ecommerce frontends: a shopper signs up, gets a code by email, ' +
          'WhatsApp or SMS, and the code verified creates the account and returns a token. Every error ' +
          'answers `{success: false, code, message, errors?}`; each operation lists the codes it can answer. ' +
          'Every path is served with and without its trailing slash.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // A templated server, not '/': this document is also served by the operators' listener, whose
      // origin is not the API's. Clients and mocks take the default or put in the shop's address.
      servers: [
        {
          url: '{origin}',
          description: "The service's public address (PUBLIC_BASE_URL), e.g. https://auth.shop.example",
          variables: {
            origin: { default: 'http://localhost:3000', description: 'Scheme, host and port.' },
          },
        },
      ],
      // No authentication unless an operation says so (GET /api/accounts/me).
      security: [],
      tags: OPENAPI_TAGS,
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'The token verify-otp returned.',
          },
        },
      },
    },
    // Named schemas (FieldError) keep their names in components.schemas.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
    transformObject: (documentObject) =>
      withBothSlashForms(
        withoutValidatorKeywords(
          ('openapiObject' in documentObject ? documentObject.openapiObject : {}) as OpenApiDocument,
        ),
      ),
  };
}

/** The document as docs/openapi.json holds it: two-space JSON and a final newline. */
export function formatOpenApiDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
