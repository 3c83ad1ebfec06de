import { readFile } from 'node:fs/promises';
import type { OpenAPI3 } from 'openapi-typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { DOCUMENT_URL, GENERATED_URL, openapiTypes } from '../scripts/openapi-types.js';
import type { OtpMethod, OtpRelayErrorCode } from '../src/index.js';

/**
 * The client's types are generated from the committed docs/openapi.json: the committed output
 * must be what the document generates today (`pnpm typecheck` then checks the client against it).
 */
describe('the generated types', () => {
  it('are what docs/openapi.json generates (run `pnpm client:generate` when this fails)', async () => {
    const document = JSON.parse(await readFile(DOCUMENT_URL, 'utf8')) as OpenAPI3;
    const committed = await readFile(GENERATED_URL, 'utf8');
    // Not toBe: a stale file would print its whole diff; say what to do instead.
    const current = committed === (await openapiTypes(document));
    expect(current, 'packages/client/src/generated/openapi.ts is stale: run `pnpm client:generate`').toBe(
      true,
    );
  });

  it("type error codes as the document's closed list, not any string", () => {
    expectTypeOf<'VALIDATION_ERROR' | 'RESEND_TOO_SOON' | 'OTP_INVALID'>().toExtend<OtpRelayErrorCode>();
    expectTypeOf<string>().not.toExtend<OtpRelayErrorCode>();
    expectTypeOf<'NOT_A_CODE'>().not.toExtend<OtpRelayErrorCode>();
    expectTypeOf<OtpMethod>().toEqualTypeOf<'email' | 'whatsapp' | 'sms'>();
  });
});
