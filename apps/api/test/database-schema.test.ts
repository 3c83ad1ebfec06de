import type { ApiConfig } from '@otp-relay/core';
import { createDatabase, runMigrations, users } from '@otp-relay/db';
import { createTestDatabase, installAsBeforeSchemas, type TestDatabase } from '@otp-relay/testkit';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * The API against our own schema: an install of an earlier version moved out of public keeps
 * working, a shop's own `users` in public is never read or written, and DATABASE_SCHEMA is obeyed.
 */

let stack: Stack;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  stack = await startStack();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stack.close());

/** An empty database, a raw connection to it (Postgres' default search path), and a cleanup. */
async function emptyDatabase() {
  const database: TestDatabase = await createTestDatabase(inject('testServices'), { migrated: false });
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  cleanups.push(async () => {
    await sql.end();
    await database.drop();
  });
  return { url: database.url, sql };
}

/** An API on that database (codes in the answers, so no worker is needed). */
async function apiOn(url: string, config: Partial<ApiConfig> = {}) {
  const api = await stack.anotherApi({ databaseUrl: url, config: { OTP_DEBUG_RESPONSE: true, ...config } });
  cleanups.push(() => api.close());
  return api;
}

/** Registers a shopper through request-otp and verify-otp; returns the verify answer. */
async function register(app: Awaited<ReturnType<typeof apiOn>>['app'], body: ReturnType<typeof shopper>) {
  const issued = await post(app, 'request-otp/', body);
  expect(issued.statusCode, issued.body).toBe(200);
  return post(app, 'verify-otp/', {
    email: body.email,
    otp: issued.json().debug_otp,
    verification_id: issued.json().verification_id,
  });
}

describe('an install moved out of public', () => {
  it('keeps its accounts, and the API works on them', async () => {
    const { url, sql } = await emptyDatabase();
    await installAsBeforeSchemas(url);
    await sql`
      INSERT INTO public.users (email, username, first_name, last_name, password_hash, email_verified_at)
      VALUES ('old@example.com', 'old_timer', 'Old', 'Timer', 'argon2-hash', now())`;
    const report = await runMigrations(url);
    expect(report.moved?.tables).toContain('users');

    const { app } = await apiOn(url);
    // The moved account is read: its username is taken.
    const taken = await post(app, 'request-otp/', shopper({ username: 'OLD_TIMER' }));
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('USERNAME_TAKEN');

    const body = shopper();
    const verified = await register(app, body);
    expect(verified.statusCode, verified.body).toBe(200);
    const accounts = await sql`SELECT username FROM otp_relay.users ORDER BY created_at`;
    expect(accounts.map((row) => row.username)).toEqual(['old_timer', body.username]);
  });
});

describe("a shop's own users table in public", () => {
  it('is never read or written by our queries', async () => {
    const { url, sql } = await emptyDatabase();
    await sql`
      CREATE TABLE public.users (id serial PRIMARY KEY, username text NOT NULL, email text NOT NULL,
        first_name text, last_name text, password_hash text, email_verified_at timestamptz,
        phone text, phone_verified_at timestamptz, is_verified boolean DEFAULT true,
        created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now())`;
    await sql`
      INSERT INTO public.users (username, email, first_name, password_hash, email_verified_at)
      VALUES ('shop_admin', 'admin@shop.test', 'Shop', 'shop-hash', now())`;
    const before = await sql`SELECT * FROM public.users`;
    await runMigrations(url);

    const { app } = await apiOn(url);
    // Were the shop's row ours, this username would be taken and this address would get a notice.
    const body = shopper({ username: 'shop_admin', email: 'admin@shop.test' });
    const verified = await register(app, body);
    expect(verified.statusCode, verified.body).toBe(200);

    expect(await sql`SELECT * FROM public.users`).toEqual(before);
    const ours = await sql`SELECT username, email FROM otp_relay.users`;
    expect(ours).toEqual([{ username: 'shop_admin', email: 'admin@shop.test' }]);
    // Every table the API wrote is in our schema.
    const [flows] = await sql`SELECT count(*)::int AS n FROM otp_relay.registration_flows`;
    expect(flows?.n).toBe(1);
  });
});

describe('DATABASE_SCHEMA=custom', () => {
  it('puts the tables there and the API uses them', async () => {
    const { url, sql } = await emptyDatabase();
    await runMigrations(url, { schema: 'custom' });
    const { app } = await apiOn(url, { DATABASE_SCHEMA: 'custom' });
    const body = shopper();
    expect((await register(app, body)).statusCode).toBe(200);
    expect(await sql`SELECT username FROM custom.users`).toEqual([{ username: body.username }]);
    const [otherSchema] = await sql`SELECT 1 FROM pg_namespace WHERE nspname = 'otp_relay'`;
    expect(otherSchema).toBeUndefined();
  });

  it('is the only schema our connections search', async () => {
    const { url, sql } = await emptyDatabase();
    await runMigrations(url, { schema: 'custom' });
    await sql`CREATE TABLE public.users (id int)`;
    // Configured for otp_relay, which this database lacks: no table is found anywhere else.
    const handle = createDatabase(url);
    cleanups.push(() => handle.close());
    // 42P01: undefined table.
    await expect(handle.db.select().from(users)).rejects.toMatchObject({ cause: { code: '42P01' } });
  });
});
