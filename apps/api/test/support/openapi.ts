import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The committed OpenAPI document, and ways into it that follow its path-item references. */

export const COMMITTED_DOCUMENT_PATH = fileURLToPath(
  new URL('../../../../docs/openapi.json', import.meta.url),
);

export interface Operation {
  operationId: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: {
    content: Record<
      string,
      {
        schema: unknown;
        examples?: Record<string, { summary?: string; description?: string; value: unknown }>;
      }
    >;
  };
  parameters?: { name: string; in: string }[];
  responses: Record<
    string,
    { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }
  >;
}

export interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
}

export type PathItem = Partial<Record<HttpMethod, Operation>>;
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export const HTTP_METHODS: readonly HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

export interface OpenApiDocument {
  openapi: string;
  info: {
    title: string;
    version: string;
    description: string;
    license?: { name: string; identifier?: string };
  };
  servers: unknown[];
  tags: { name: string; description: string }[];
  paths: Record<string, { $ref?: string } & PathItem>;
  components: { pathItems?: Record<string, PathItem> } & Record<string, unknown>;
}

export async function committedDocument(): Promise<OpenApiDocument> {
  return JSON.parse(await readFile(COMMITTED_DOCUMENT_PATH, 'utf8')) as OpenApiDocument;
}

/** A path's item, through its `$ref` into components.pathItems. */
export function pathItem(document: OpenApiDocument, path: string): PathItem | undefined {
  const item = document.paths[path];
  const ref = item?.$ref;
  if (!ref) return item;
  const name = ref.replace('#/components/pathItems/', '');
  return document.components.pathItems?.[name];
}

export function operationOf(
  document: OpenApiDocument,
  path: string,
  method: HttpMethod,
): Operation | undefined {
  return pathItem(document, path)?.[method];
}

/** Every operation once (both slash forms of a path share theirs), with the paths that reach it. */
export function operations(document: OpenApiDocument) {
  const found = new Map<Operation, { method: HttpMethod; paths: string[]; operation: Operation }>();
  for (const path of Object.keys(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = operationOf(document, path, method);
      if (!operation) continue;
      const entry = found.get(operation) ?? { method, paths: [], operation };
      entry.paths.push(path);
      found.set(operation, entry);
    }
  }
  return [...found.values()];
}

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * Whether the document says this answer: its status is listed for the operation, the body has the
 * listed properties of the right JSON types (its `code` one of the listed codes), and each header
 * the status lists is there. Returns what is wrong, or nothing.
 */
export function undocumented(operation: Operation | undefined, answer: Answer): string[] {
  if (!operation) return ['no such operation in the document'];
  const response = operation.responses[String(answer.statusCode)];
  if (!response) return [`status ${answer.statusCode} is not listed (${answer.body})`];
  const problems: string[] = [];
  for (const header of Object.keys(response.headers ?? {})) {
    if (answer.headers[header] === undefined) problems.push(`header ${header} is missing`);
  }
  const schema = response.content?.['application/json']?.schema;
  if (schema) problems.push(...schemaProblems(schema, JSON.parse(answer.body), 'body'));
  return problems;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** A small check of the shapes the document uses: types, enums, required and known properties. */
function schemaProblems(schema: Schema & { anyOf?: Schema[] }, value: unknown, at: string): string[] {
  if (schema.anyOf) {
    return schema.anyOf.some((option) => schemaProblems(option, value, at).length === 0)
      ? []
      : [`${at} matches none of its options`];
  }
  const problems: string[] = [];
  const types = schema.type === undefined ? [] : ([] as string[]).concat(schema.type);
  const type = jsonType(value);
  if (types.length > 0 && !types.includes(type) && !(type === 'integer' && types.includes('number'))) {
    return [`${at} is ${type}, not ${types.join(' or ')}`];
  }
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${at} is ${String(value)}, not in ${schema.enum}`);
  if (type === 'object' && schema.properties) {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? [])
      if (!(name in object)) problems.push(`${at}.${name} is missing`);
    for (const [name, child] of Object.entries(object)) {
      const property = schema.properties[name];
      if (!property) problems.push(`${at}.${name} is not documented`);
      else problems.push(...schemaProblems(property, child, `${at}.${name}`));
    }
  }
  return problems;
}
