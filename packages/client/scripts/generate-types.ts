/**
 * `pnpm client:generate`: regenerates src/generated/openapi.ts from the committed
 * docs/openapi.json. The client package's test fails while the two disagree.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { OpenAPI3 } from 'openapi-typescript';
import { DOCUMENT_URL, GENERATED_URL, openapiTypes } from './openapi-types.js';

const document = JSON.parse(await readFile(DOCUMENT_URL, 'utf8')) as OpenAPI3;
await writeFile(GENERATED_URL, await openapiTypes(document));
console.log(`wrote ${fileURLToPath(GENERATED_URL)}`);
