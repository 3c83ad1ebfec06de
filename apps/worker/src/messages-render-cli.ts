import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExit, loadMessagesConfig } from '@otp-relay/core';
import { brandOf } from './messages/brand.js';
import { loadMessages } from './messages/load-messages.js';
import { loadMessagesOrExit } from './messages/load-messages-or-exit.js';
import { renderAllMessages } from './messages/render-all-messages.js';

/**
 * `pnpm messages:render [--out DIR]`: every message in every locale written to files for review,
 * with a sample code, the brand (BRAND_*) and TEMPLATES_DIR from the environment, as the worker
 * would send them.
 */

const { values } = parseArgs({ options: { out: { type: 'string', default: 'message-previews' } } });
const config = loadConfigOrExit(loadMessagesConfig, process.env);
const messages = await loadMessagesOrExit(
  loadMessages({ brand: brandOf(config), templatesDir: config.TEMPLATES_DIR }),
);
const outDir = path.resolve(values.out);
const files = await renderAllMessages(messages, outDir);
console.log(`Wrote ${files.length} files to ${outDir}`);
