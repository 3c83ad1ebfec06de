/**
 * Smoke test of `pnpm dev` as a newcomer runs it: starts it (no stdin, CI=true), waits until it
 * serves, registers (request-otp, then verify-otp with the debug code dev returns), stops it.
 * Exits 0 when the registration went through; otherwise prints dev's last lines and exits 1.
 * .ci/run runs it on a machine without redis-server; scripts/test/dev-smoke.test.ts runs it with
 * redis-server hidden. Variables it is given (DATABASE_URL, say) reach `pnpm dev` unchanged.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '@otp-relay/local-services';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Long enough for a first run: apt-get installing Redis, initdb, migrations, the demo page's build. */
const TIMEOUT_MS = Number(process.env.DEV_SMOKE_TIMEOUT_MS || 300_000);

async function main(): Promise<number> {
  const port = await freePort();
  const adminPort = await freePort();
  const lines: string[] = [];
  const base = `http://127.0.0.1:${port}`;
  // The banner, printed once /healthz answers, names the address.
  let served: () => void = () => {};
  const serving = new Promise<'served'>((resolve) => {
    served = () => resolve('served');
  });
  const dev = spawn('pnpm', ['dev'], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', PORT: String(port), ADMIN_PORT: String(adminPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [dev.stdout, dev.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 80) lines.shift();
      if (line.includes(base)) served();
      if (process.env.DEV_SMOKE_VERBOSE) console.log(line);
    });
  }
  const exited = once(dev, 'exit');
  const stop = async () => {
    if (dev.exitCode === null && dev.signalCode === null && dev.pid) {
      process.kill(-dev.pid, 'SIGTERM');
      const timer = setTimeout(() => dev.pid && process.kill(-dev.pid, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const fail = async (why: string) => {
    await stop();
    console.error(`dev smoke FAILED: ${why}\n--- pnpm dev's last lines ---\n${lines.join('\n')}`);
    return 1;
  };

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    serving,
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'exited') return fail(`pnpm dev exited (${dev.exitCode ?? dev.signalCode})`);
  if (outcome === 'timeout') return fail(`pnpm dev did not serve ${base} within ${TIMEOUT_MS / 1000} s`);
  const post = async (route: string, body: unknown) => {
    const response = await fetch(`${base}/api/accounts/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const email = `smoke-${randomBytes(4).toString('hex')}@example.com`;
  const requested = await post('request-otp/', {
    email,
    otp_method: 'email',
    username: `smoke_${randomBytes(4).toString('hex')}`,
    first_name: 'Dev',
    last_name: 'Smoke',
    password: 'a long enough password',
  });
  if (requested.status !== 200)
    return fail(`request-otp answered ${requested.status}: ${JSON.stringify(requested.body)}`);
  const code = requested.body.debug_otp;
  if (typeof code !== 'string')
    return fail('request-otp returned no debug_otp (OTP_DEBUG_RESPONSE is on in dev)');
  const verified = await post('verify-otp/', { email, otp: code });
  if (verified.status !== 200)
    return fail(`verify-otp answered ${verified.status}: ${JSON.stringify(verified.body)}`);
  await stop();
  console.log(`dev smoke passed: ${email} registered through pnpm dev (${base}).`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
