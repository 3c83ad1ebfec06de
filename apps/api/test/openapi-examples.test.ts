import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  committedDocument,
  type HttpMethod,
  type OpenApiDocument,
  operationOf,
  operations,
  undocumented,
} from './support/openapi.js';
import { type Stack, startStack } from './support/stack.js';

/**
 * Every request example, in the OpenAPI document, docs/api.md and README.md, sent to the service as it is
 * written, gets the answer documented for it. Examples that continue a registration carry a
 * placeholder flow id and code: the test puts in the real ones, the id from the request-otp answer
 * before it and the code from its `debug_otp` (OTP_DEBUG_RESPONSE=true), and the token from verify-otp.
 */

const PLACEHOLDER_ID = 'vf_3q2-7wEVl9xJc0dZK1mXb5aR';
const PLACEHOLDER_CODE = '123456';

// Each part has a database of its own: the docs register the same address as the document.
let documentStack: Stack;
let referenceStack: Stack;
let readmeStack: Stack;
let document: OpenApiDocument;
beforeAll(async () => {
  const env = { OTP_DEBUG_RESPONSE: 'true' };
  [documentStack, referenceStack, readmeStack, document] = await Promise.all([
    startStack({ env }),
    startStack({ env }),
    startStack({ env }),
    committedDocument(),
  ]);
});
afterAll(() => Promise.all([documentStack.close(), referenceStack.close(), readmeStack.close()]));

/** What a registration's earlier answers give the examples after them. */
interface Carried {
  verificationId?: string;
  code?: string;
  token?: string;
}

function substituted(text: string, carried: Carried): string {
  return text
    .replaceAll(PLACEHOLDER_ID, carried.verificationId ?? PLACEHOLDER_ID)
    .replaceAll(`"otp":"${PLACEHOLDER_CODE}"`, `"otp":"${carried.code ?? PLACEHOLDER_CODE}"`)
    .replaceAll('$TOKEN', carried.token ?? '$TOKEN');
}

function carryFrom(answer: { json(): unknown }, carried: Carried) {
  const body = answer.json() as { verification_id?: string; debug_otp?: string; token?: string };
  if (body.verification_id) carried.verificationId = body.verification_id;
  if (body.debug_otp) carried.code = body.debug_otp;
  if (body.token) carried.token = body.token;
}

describe("the OpenAPI document's request examples", () => {
  it('each is accepted and answered as documented', async () => {
    const order = ['requestOtp', 'verifyOtp', 'resendOtp'];
    const examples = operations(document)
      .flatMap(({ operation, paths, method }) =>
        Object.entries(operation.requestBody?.content['application/json']?.examples ?? {}).map(
          ([name, example]) => ({
            operation,
            path: paths[0] ?? '',
            method,
            name,
            value: example.value,
            status: Number(/Answers (\d{3})/.exec(example.description ?? '')?.[1]),
          }),
        ),
      )
      // The registration in the order a frontend makes it; the email example opens the flow the others continue.
      .sort((a, b) => order.indexOf(a.operation.operationId) - order.indexOf(b.operation.operationId));
    expect(examples.map((example) => `${example.operation.operationId}.${example.name}`)).toEqual([
      'requestOtp.email',
      'requestOtp.whatsapp',
      'requestOtp.sms',
      'verifyOtp.withId',
      'resendOtp.withId',
    ]);

    const carried: Carried = {};
    for (const example of examples) {
      // Past the resend cooldown, which each example to the same address or number would meet.
      documentStack.advanceClock(documentStack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
      const answer = await documentStack.app.inject({
        method: example.method.toUpperCase() as 'POST',
        url: example.path,
        headers: { 'content-type': 'application/json' },
        payload: substituted(JSON.stringify(example.value), carried),
      });
      const label = `${example.operation.operationId}.${example.name}`;
      expect(example.status, `${label} says the status it answers`).toBeGreaterThan(0);
      expect(answer.statusCode, `${label}: ${answer.body}`).toBe(example.status);
      expect(undocumented(example.operation, answer), label).toEqual([]);
      if (example.name === 'email') carryFrom(answer, carried);
    }
  });
});

interface ShownRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The JSON answer the page shows right after the request, if any. */
  shown?: unknown;
}

/** A Markdown page of the repository, or its section under `heading` (up to the next `## `). */
async function page(path: string, heading?: string): Promise<string> {
  const text = await readFile(new URL(`../../../${path}`, import.meta.url), 'utf8');
  if (heading === undefined) return text;
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no "${heading}" in ${path}`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The curl commands of a page, with the JSON answer shown after each. */
function shownRequests(text: string): ShownRequest[] {
  const blocks = [...text.matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map((match) => ({
    kind: match[1],
    text: match[2],
    start: match.index,
    end: match.index + match[0].length,
  }));
  const requests: ShownRequest[] = [];
  for (const [index, block] of blocks.entries()) {
    if (block.kind !== 'sh' || !block.text?.includes('curl ')) continue;
    const command = (block.text ?? '').replaceAll('\\\n', ' ');
    const url = /https?:\/\/[^/\s]+(\/\S*)/.exec(command)?.[1];
    if (!url) throw new Error(`no URL in ${command}`);
    const headers = Object.fromEntries(
      [...command.matchAll(/-H ['"]([^:'"]+):\s*([^'"]*)['"]/g)].map(([, name = '', value = '']) => [
        name.toLowerCase(),
        value,
      ]),
    );
    const body = /-d '([\s\S]*?)'/.exec(command)?.[1];
    const method = /-X (\w+)/.exec(command)?.[1] ?? (body ? 'POST' : 'GET');
    const next = blocks[index + 1];
    requests.push({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(JSON.parse(body)) }),
      // An answer is shown right below its request, with nothing but blank space between.
      ...(next?.kind === 'json' && text.slice(block.end, next.start).trim() === ''
        ? { shown: JSON.parse(next.text ?? '') }
        : {}),
    });
  }
  return requests;
}

/**
 * What of a shown answer must match the real one: the same keys all the way down, and values of the
 * same JSON types where both are not null (the docs show a pending flow; the one here may have
 * moved on, and the document says which values may be null).
 */
function sameShape(actual: unknown, shown: unknown, at = 'body'): string[] {
  if (actual === null || shown === null) return [];
  if (typeof actual !== typeof shown) return [`${at}: ${typeof actual}, shown ${typeof shown}`];
  if (typeof actual !== 'object' || Array.isArray(actual)) return [];
  const [a, s] = [actual as Record<string, unknown>, shown as Record<string, unknown>];
  const keys = (value: object) => Object.keys(value).sort().join(',');
  if (keys(a) !== keys(s)) return [`${at}: keys ${keys(a)}, shown ${keys(s)}`];
  return Object.keys(a).flatMap((key) => sameShape(a[key], s[key], `${at}.${key}`));
}

/** What leaves an answer out of the comparison: debug_otp is there only in development and here. */
function withoutCode(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const { debug_otp: _code, ...rest } = body as Record<string, unknown>;
  return rest;
}

/**
 * Sends a page's requests in order, each continuing the registration of the ones before it, and
 * checks that each answers 200 as the OpenAPI document lists and in the shape the page shows.
 */
async function sendInOrder(stack: Stack, requests: ShownRequest[]) {
  const carried: Carried = {};
  for (const request of requests) {
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const url = substituted(request.url, carried);
    const answer = await stack.app.inject({
      method: request.method as 'GET' | 'POST',
      url,
      headers: Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, substituted(value, carried)]),
      ),
      ...(request.body === undefined ? {} : { payload: substituted(request.body, carried) }),
    });
    const label = `${request.method} ${request.url}`;
    expect(answer.statusCode, `${label}: ${answer.body}`).toBe(200);
    const path = Object.keys(document.paths).find((candidate) =>
      new RegExp(`^${candidate.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(url),
    );
    expect(path, label).toBeDefined();
    expect(
      undocumented(operationOf(document, path ?? '', request.method.toLowerCase() as HttpMethod), answer),
    ).toEqual([]);
    if (request.shown !== undefined) {
      expect(sameShape(withoutCode(answer.json()), withoutCode(request.shown)), label).toEqual([]);
    }
    carryFrom(answer, carried);
  }
}

const called = (requests: ShownRequest[]) =>
  requests.map((request) => `${request.method} ${request.url.split('/').slice(0, 4).join('/')}`);

describe("docs/api.md's requests", () => {
  it('each gets the answer the page shows and the document lists', async () => {
    const requests = shownRequests(await page('docs/api.md'));
    expect(called(requests)).toEqual(
      expect.arrayContaining([
        'POST /api/accounts/request-otp',
        'POST /api/accounts/verify-otp',
        'POST /api/accounts/resend-otp',
        'GET /api/accounts/verifications',
        'GET /api/accounts/me',
      ]),
    );
    // request-otp's, verify-otp's and the status's answers are shown, and compared.
    expect(requests.filter((request) => request.shown !== undefined).length).toBeGreaterThanOrEqual(3);
    await sendInOrder(referenceStack, requests);
  });
});

describe("the README's example", () => {
  it('registers and verifies with the answers it shows', async () => {
    const requests = shownRequests(await page('README.md', '## Try it'));
    expect(called(requests)).toEqual(['POST /api/accounts/request-otp', 'POST /api/accounts/verify-otp']);
    expect(requests.every((request) => request.shown !== undefined)).toBe(true);
    await sendInOrder(readmeStack, requests);
  });
});
