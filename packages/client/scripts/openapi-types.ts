import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';

/** The committed contract the types are generated from. */
export const DOCUMENT_URL = new URL('../../../docs/openapi.json', import.meta.url);
/** The committed output: the client imports its types from here. */
export const GENERATED_URL = new URL('../src/generated/openapi.ts', import.meta.url);

const HEADER = `/**
 * Generated from docs/openapi.json by openapi-typescript: run \`pnpm client:generate\` after the
 * document changes. Do not edit by hand.
 */

`;

/** The text as the repository's formatter (biome) writes it, so the file passes `pnpm lint` as it is. */
function formatted(text: string): string {
  const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
  const result = spawnSync(
    process.execPath,
    [biome, 'format', `--stdin-file-path=${fileURLToPath(GENERATED_URL)}`],
    {
      input: text,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.status !== 0) throw new Error(`biome could not format the generated types: ${result.stderr}`);
  return result.stdout;
}

/**
 * The TypeScript types of an OpenAPI document, as committed in src/generated/openapi.ts. One
 * function for the generator and for the test that the committed file is current.
 */
export async function openapiTypes(document: OpenAPI3): Promise<string> {
  // A copy: openapi-typescript resolves references in the object it is given.
  const ast = await openapiTS(structuredClone(document), { silent: true });
  return formatted(HEADER + astToString(ast));
}
