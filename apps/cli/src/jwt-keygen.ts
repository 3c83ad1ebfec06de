/**
 * `pnpm jwt:keygen` (in the image: `node apps/cli/dist/jwt-keygen.js`): a new access-token signing
 * key and the rotated JWT_SIGNING_KEYS value (see run-jwt-keygen.ts, and `--help`).
 */
import { runJwtKeygen } from './run-jwt-keygen.js';

process.exitCode = await runJwtKeygen(process.argv.slice(2), {
  print: (line) => console.log(line),
  error: (line) => console.error(line),
  env: process.env,
});
