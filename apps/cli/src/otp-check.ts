/**
 * `pnpm otp:check [--send-to <email|+phone>]`: checks the providers the worker's configuration points
 * at, one ✓/✗ line per check, exit code 0 only when all pass (see run-otp-check.ts, and `--help`).
 */
import { runOtpCheck } from './run-otp-check.js';

process.exitCode = await runOtpCheck(process.argv.slice(2), {
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  env: process.env,
});
