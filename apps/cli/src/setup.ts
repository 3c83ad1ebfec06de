/**
 * `pnpm run setup`: interactive setup that writes `.env` (see run-setup.ts, and `--help`).
 *
 *   pnpm run setup                                   asks, runs Google's consent page, writes .env
 *   pnpm run setup --gmail-only                      only renews EMAIL_REFRESH_TOKEN in .env
 *   pnpm run setup --non-interactive --email-provider console --whatsapp-provider disabled --force
 *
 * Note `pnpm run setup`, not `pnpm setup`: that is pnpm's own command (it sets up pnpm's home) and
 * rejects setup's flags.
 */
import { openInBrowser } from './browser.js';
import { inquirerPrompter } from './prompter.js';
import { runSetup } from './run-setup.js';

const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
process.exitCode = await runSetup(process.argv.slice(2), {
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  prompter: interactive ? inquirerPrompter : undefined,
  env: process.env,
  openUrl: openInBrowser,
});
