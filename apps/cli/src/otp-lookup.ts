/**
 * `pnpm otp:lookup <email or phone>` (in the image: `node apps/cli/dist/otp-lookup.js …`): a shopper's
 * recent registration flows and their deliveries, contacts masked (see lookup/run-otp-lookup.ts,
 * and `--help`).
 */
import { runOtpLookup } from './lookup/run-otp-lookup.js';

// Piped into `head` or a pager that quits early: stop quietly instead of crashing with EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runOtpLookup(process.argv.slice(2), {
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  env: process.env,
});
