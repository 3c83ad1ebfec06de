import { createTestDatabase, type TestDatabase } from '@otp-relay/testkit';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeliveryRepository } from '../src/delivery-repository.js';
import * as schema from '../src/schema.js';
import { createWebhookEventRepository } from '../src/webhook-event-repository.js';

/**
 * The worker's relay asks these every few seconds, whatever the load. On a table of millions a
 * sequential scan each time costs a core: one did, unnoticed until the bench's large tables (a
 * million deliveries made Postgres spend ~23 ms of CPU per registration). Each must read an index.
 */

const ROWS = 20_000;
let database: TestDatabase;
let sql: postgres.Sql;
const asked: { query: string; params: unknown[] }[] = [];
let deliveries: ReturnType<typeof createDeliveryRepository>;
let webhookEvents: ReturnType<typeof createWebhookEventRepository>;

beforeAll(async () => {
  database = await createTestDatabase(inject('testServices'));
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  // Sent notices and delivered events, as a long-running deployment holds them.
  await sql`
    INSERT INTO deliveries (id, kind, channel, provider, destination, status, attempts, sent_at,
                            provider_status, provider_status_at, created_at, updated_at)
    SELECT gen_random_uuid(), 'registration-notice', 'email', 'gmail', 'old' || g || '@example.com',
           'sent', 1, now() - g * interval '1 minute', 'delivered', now() - g * interval '1 minute',
           now() - g * interval '1 minute', now() - g * interval '1 minute'
    FROM generate_series(1, ${ROWS}) AS g`;
  await sql`
    INSERT INTO webhook_events (id, type, dedupe_key, payload, status, attempts, delivered_at,
                                created_at, updated_at)
    SELECT gen_random_uuid(), 'user.registered', 'user.registered:' || g, '{}'::jsonb, 'delivered', 1,
           now() - g * interval '1 minute', now() - g * interval '1 minute', now() - g * interval '1 minute'
    FROM generate_series(1, ${ROWS}) AS g`;
  await sql`ANALYZE deliveries, webhook_events`;
  const db = drizzle(sql, {
    schema,
    logger: { logQuery: (query, params) => asked.push({ query, params }) },
  });
  deliveries = createDeliveryRepository(db);
  webhookEvents = createWebhookEventRepository(db);
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The tables a query's plan reads from start to end. */
async function sequentiallyScanned(query: { query: string; params: unknown[] }): Promise<string[]> {
  const [row] = await sql.unsafe(`EXPLAIN (FORMAT JSON) ${query.query}`, query.params as never[]);
  const [explained] = (row?.['QUERY PLAN'] ?? []) as { Plan: PlanNode }[];
  if (!explained) throw new Error(`no plan for ${query.query}`);
  const scanned: string[] = [];
  const visit = (node: PlanNode) => {
    if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) scanned.push(node['Relation Name']);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(explained.Plan);
  return scanned;
}

describe("the relay's periodic queries on large tables", () => {
  it.each([
    ['deliveries still queued (lost enqueues)', () => deliveries.staleQueued(new Date(), 100)],
    ['failures reported after acceptance', () => deliveries.unhandledReportedFailures(new Date(), 100)],
    ['webhook events still pending', () => webhookEvents.stalePending(new Date(), 100)],
  ])('%s: read an index, not the whole table', async (_name, ask) => {
    asked.length = 0;
    await ask();
    expect(asked).toHaveLength(1);
    expect(await sequentiallyScanned(asked[0] as (typeof asked)[number])).toEqual([]);
  });
});
