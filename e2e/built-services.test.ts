import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type FakeGoogle, startFakeGoogle, type TestDatabase } from '@otp-relay/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The service as operators run it: the built output (`pnpm build`), the migration CLI, then the
 * API and worker as separate processes with the contract's environment, Gmail pointed at the fake.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const google = { clientId: 'e2e-client', clientSecret: 'e2e-secret', refreshToken: 'e2e-refresh' };

let fake: FakeGoogle;
let database: TestDatabase;
let env: NodeJS.ProcessEnv;
let baseUrl: string;
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function run(script: string) {
  const child = spawn(process.execPath, [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Resolves with the first stdout line that matches, from a child that logs JSON lines. */
function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) throw new Error('child has no stdout pipe');
    const lines = createInterface({ input: child.stdout });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    lines.on('line', (line) => {
      if (pattern.test(line)) resolve(line);
    });
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before logging ${pattern}: ${stderr}`)),
    );
  });
}

beforeAll(async () => {
  const services = inject('testServices');
  fake = await startFakeGoogle(google);
  database = await createTestDatabase(services, { migrated: false });
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: database.url,
    REDIS_URL: services.redisUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    OTP_PEPPER: randomBytes(32).toString('hex'),
    OTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    EMAIL_PROVIDER: 'gmail',
    EMAIL_CLIENT_ID: google.clientId,
    EMAIL_CLIENT_SECRET: google.clientSecret,
    EMAIL_REFRESH_TOKEN: google.refreshToken,
    EMAIL_FROM: 'Shop <no-reply@shop.test>',
    GMAIL_API_ROOT_URL: fake.rootUrl,
    GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl,
  };
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await fake?.close();
  await database?.drop();
});

describe('the built services', () => {
  it('migrate, start, deliver one email, verify, and stop cleanly on SIGTERM', async () => {
    const migrate = run('packages/db/dist/migrate-cli.js');
    const [migrateExit] = await once(migrate, 'exit');
    expect(migrateExit).toBe(0);

    const api = run('apps/api/dist/main.js');
    const worker = run('apps/worker/dist/main.js');
    await Promise.all([lineMatching(api, /Server listening/), lineMatching(worker, /worker started/)]);

    const email = `e2e-${randomBytes(4).toString('hex')}@example.com`;
    const call = (path: string, body?: unknown, token?: string) =>
      fetch(`${baseUrl}/api/accounts/${path}`, {
        method: body ? 'POST' : 'GET',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });

    const requested = await call('request-otp/', {
      email,
      otp_method: 'email',
      username: `e2e_${randomBytes(3).toString('hex')}`,
      first_name: 'Eve',
      last_name: 'Two',
      password: 'a long enough password',
    });
    expect(requested.status).toBe(200);
    expect(await requested.json()).not.toHaveProperty('debug_otp');

    const [message] = await fake.waitForEmails(1, { to: email });
    const code = /code is: (\d{6})/.exec(message?.text ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);

    const verified = await call('verify-otp/', { email, otp: code });
    expect(verified.status).toBe(200);
    const { user, token } = (await verified.json()) as { user: { id: string; email: string }; token: string };
    expect(user.email).toBe(email);

    const me = await call('me', undefined, token);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: unknown }).user).toEqual(user);
    expect(fake.sent.filter((sent) => sent.to.includes(email))).toHaveLength(1);

    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    const [[apiExit], [workerExit]] = await Promise.all([once(api, 'exit'), once(worker, 'exit')]);
    expect(apiExit).toBe(0);
    expect(workerExit).toBe(0);
  });
});
