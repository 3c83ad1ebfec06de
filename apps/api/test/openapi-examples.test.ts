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
 * Every request example, in the OpenAPI document and in README.md, sent to the service as it is
 * written, gets the answer documented for it. Examples that continue a registration carry a
 * placeholder flow id and code: the test puts in the real ones, the id from the request-otp answer
 * before it and the code from its `debug_otp` (OTP_DEBUG_RESPONSE=true), and the token from verify-otp.
 */

const PLACEHOLDER_ID = 'vf_3q2-7wEVl9xJc0dZK1mXb5aR';
const PLACEHOLDER_CODE = '123456';

// Each part has a database of its own: the README registers the same address as the document.
let documentStack: Stack;
let readmeStack: Stack;
let document: OpenApiDocument;
beforeAll(async () => {
  const env = { OTP_DEBUG_RESPONSE: 'true' };
  [documentStack, readmeStack, document] = await Promise.all([
    startStack({ env }),
    startStack({ env }),
    committedDocument(),
  ]);
});
afterAll(() => Promise.all([documentStack.close(), readmeStack.close()]));

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

interface ReadmeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The JSON answer the README shows right after the request, if any. */
  shown?: unknown;
}

/** The curl commands of the README's API section, with the JSON answer shown after each. */
async function readmeRequests(): Promise<ReadmeRequest[]> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const api = readme.slice(
    readme.indexOf('\n## API'),
    readme.indexOf('\n## ', readme.indexOf('\n## API') + 1),
  );
  const blocks = [...api.matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map((match) => ({
    kind: match[1],
    text: match[2],
    start: match.index,
    end: match.index + match[0].length,
  }));
  const requests: ReadmeRequest[] = [];
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
      ...(next?.kind === 'json' && api.slice(block.end, next.start).trim() === ''
        ? { shown: JSON.parse(next.text ?? '') }
        : {}),
    });
  }
  return requests;
}

/**
 * What of a shown answer must match the real one: the same keys all the way down, and values of the
 * same JSON types where both are not null (the README shows a pending flow; the one here may have
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

describe("the README's requests", () => {
  it('each gets the answer the README shows and the document lists', async () => {
    const requests = await readmeRequests();
    expect(
      requests.map((request) => `${request.method} ${request.url.split('/').slice(0, 4).join('/')}`),
    ).toEqual(
      expect.arrayContaining([
        'POST /api/accounts/request-otp',
        'POST /api/accounts/verify-otp',
        'POST /api/accounts/resend-otp',
        'GET /api/accounts/verifications',
        'GET /api/accounts/me',
      ]),
    );
    // request-otp's, verify-otp's and the status's answers are shown, and compared below.
    expect(requests.filter((request) => request.shown !== undefined).length).toBeGreaterThanOrEqual(3);
    const carried: Carried = {};
    for (const request of requests) {
      readmeStack.advanceClock(readmeStack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
      const url = substituted(request.url, carried);
      const answer = await readmeStack.app.inject({
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
        // debug_otp is in these answers only because this stack asks for it.
        const { debug_otp: _code, ...body } = answer.json() as Record<string, unknown>;
        expect(sameShape(body, request.shown), label).toEqual([]);
      }
      carryFrom(answer, carried);
    }
  });
});
