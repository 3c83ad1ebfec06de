/**
 * The speed-of-light baseline: the least work a registration needs, in a bare Node `http` server.
 * POST /request: one argon2id hash (the same parameters as the API), one INSERT into a table shaped
 * like our first version's otp_challenges (now registration_flows), one LPUSH to Redis. POST
 * /verify: one `UPDATE … RETURNING` and one JWT signature. No framework, validation, limits, queue
 * or email: what ours adds on top is its cost.
 *
 * With BASELINE_SEND=1 it also delivers, with the least work that takes: the LPUSH carries the
 * address and the code, a loop in the same process pops it (BRPOP) and sends a plain-text email
 * through the same clients as our worker (nodemailer's MailComposer, the Gmail API client with an
 * OAuth2 refresh token) to the fake Google; no retries, no delivery record. Verify then takes the
 * address and the code from the inbox (`{email, otp}`; ours also takes the flow's verification_id).
 *
 * Run as a child of the bench (IPC: it reports its port); the bench creates the table.
 */
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gmail } from '@googleapis/gmail';
import { hash } from '@node-rs/argon2';
import { createSigner } from 'fast-jwt';
import { OAuth2Client } from 'google-auth-library';
import { Redis } from 'ioredis';
import MailComposer from 'nodemailer/lib/mail-composer';
import postgres from 'postgres';

// 2 is Algorithm.Argon2id (a const enum, unreadable with isolated modules), as in the API.
const ARGON2ID = 2;

export const BASELINE_TABLE_SQL = `
  CREATE TABLE IF NOT EXISTS baseline_challenges (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    channel text NOT NULL,
    destination text NOT NULL,
    code_hash text NOT NULL,
    username text NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    password_hash text NOT NULL,
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE UNIQUE INDEX IF NOT EXISTS baseline_challenges_live_email_key
    ON baseline_challenges (email) WHERE consumed_at IS NULL`;

interface RequestBody {
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  password: string;
}

/** What the sending baseline queues: the least a send needs (ours seals the code in Postgres instead). */
interface QueuedCode {
  email: string;
  code: string;
}

// As our worker's default WORKER_CONCURRENCY.
const SEND_CONCURRENCY = 50;

/** Sends queued codes as they arrive, up to SEND_CONCURRENCY at once, until stopped. */
function startSending(env: NodeJS.ProcessEnv, redis: Redis, queueKey: string) {
  const auth = new OAuth2Client({
    clientId: env.GMAIL_CLIENT_ID ?? '',
    clientSecret: env.GMAIL_CLIENT_SECRET ?? '',
    endpoints: { oauth2TokenUrl: env.GMAIL_TOKEN_URL ?? '' },
  });
  auth.setCredentials({ refresh_token: env.GMAIL_REFRESH_TOKEN ?? '' });
  const client = gmail({ version: 'v1', auth, rootUrl: env.GMAIL_API_ROOT_URL ?? '', retry: false });
  const send = async ({ email, code }: QueuedCode) => {
    const message = await new MailComposer({
      from: 'codes@shop.test',
      to: email,
      subject: `${code} is your verification code`,
      text: `Your verification code is: ${code}`,
    })
      .compile()
      .build();
    await client.users.messages.send({ userId: 'me', requestBody: { raw: message.toString('base64url') } });
  };

  // BRPOP blocks its connection, so the loop has one of its own.
  const consumer = redis.duplicate();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const popped = await consumer.brpop(queueKey, 1).catch(() => null);
      if (!popped) continue;
      const sending: Promise<void> = send(JSON.parse(popped[1]) as QueuedCode)
        .catch((error: unknown) => console.error('baseline send failed', error))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (inFlight.size >= SEND_CONCURRENCY) await Promise.race(inFlight);
    }
  })();
  return () => {
    stopped = true;
    consumer.disconnect();
  };
}

function main() {
  const env = process.env;
  const sql = postgres(env.DATABASE_URL ?? '', { max: 10, onnotice: () => {} });
  const redis = new Redis(env.REDIS_URL ?? '');
  const queueKey = `${env.QUEUE_PREFIX ?? 'baseline'}:queue`;
  const sends = env.BASELINE_SEND === '1';
  const stopSending = sends ? startSending(env, redis, queueKey) : () => {};
  const argon2 = {
    algorithm: ARGON2ID,
    memoryCost: Number(env.ARGON2_MEMORY_COST),
    timeCost: Number(env.ARGON2_TIME_COST),
    parallelism: Number(env.ARGON2_PARALLELISM),
  };
  const hmacKey = Buffer.from(env.OTP_PEPPER ?? 'pepper');
  const hashCode = (boundTo: string, code: string) =>
    createHmac('sha256', hmacKey).update(`${boundTo}:${code}`).digest('base64url');
  const sign = createSigner({
    key: Buffer.from(env.JWT_SECRET ?? 'secret'),
    algorithm: 'HS256',
    expiresIn: 3600 * 1000,
    iss: 'otp-relay',
    aud: 'otp-relay',
  });

  async function readJson(request: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  }

  function reply(response: ServerResponse, status: number, body: unknown) {
    const payload = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    });
    response.end(payload);
  }

  async function requestCode(body: RequestBody) {
    const id = randomUUID();
    const passwordHash = await hash(body.password, argon2);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    // Bound to what verify will be given: the id, or (when sending) the address.
    const codeHash = hashCode(sends ? body.email : id, code);
    await sql`
      INSERT INTO baseline_challenges
        (id, email, channel, destination, code_hash, username, first_name, last_name, password_hash, expires_at)
      VALUES (${id}, ${body.email}, 'email', ${body.email}, ${codeHash}, ${body.username}, ${body.first_name},
        ${body.last_name}, ${passwordHash}, now() + interval '10 minutes')`;
    await redis.lpush(
      queueKey,
      sends ? JSON.stringify({ email: body.email, code } satisfies QueuedCode) : id,
    );
    return sends ? { success: true } : { success: true, id };
  }

  async function verify(body: { id?: string; email?: string; otp?: string }) {
    type Row = { id: string; email: string; username: string };
    const [row] = sends
      ? await sql<Row[]>`
          UPDATE baseline_challenges SET consumed_at = now()
          WHERE email = ${body.email ?? ''} AND consumed_at IS NULL
            AND code_hash = ${hashCode(body.email ?? '', body.otp ?? '')}
          RETURNING id, email, username`
      : await sql<Row[]>`
          UPDATE baseline_challenges SET consumed_at = now()
          WHERE id = ${body.id ?? ''} AND consumed_at IS NULL
          RETURNING id, email, username`;
    if (!row) return undefined;
    return { success: true, user: row, token: sign({ sub: row.id }) };
  }

  const server = createServer((request, response) => {
    void (async () => {
      try {
        if (request.method === 'POST' && request.url === '/request') {
          reply(response, 200, await requestCode((await readJson(request)) as RequestBody));
        } else if (request.method === 'POST' && request.url === '/verify') {
          const verified = await verify((await readJson(request)) as Parameters<typeof verify>[0]);
          reply(response, verified ? 200 : 400, verified ?? { success: false });
        } else {
          reply(response, 404, { success: false });
        }
      } catch (error) {
        reply(response, 500, { success: false, message: error instanceof Error ? error.message : 'error' });
      }
    })();
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });

  const stop = () => {
    stopSending();
    server.close();
    server.closeAllConnections();
    redis.disconnect();
    void sql.end({ timeout: 5 }).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

// Imported by the bench for the table's SQL; started as a process to serve.
if (process.env.BASELINE_SERVE === '1') main();
