import { randomUUID } from 'node:crypto';
import { deliveries, registrationFlows, sendCooldowns, users } from '@otp-relay/db';
import { purgeExpired } from '@otp-relay/worker';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, requestCode, type Stack, shopper, startStack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  stack.startWorker();
});
afterAll(() => stack.close());

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

async function oldFlow(expiredDaysAgo: number) {
  const id = randomUUID();
  await stack.db.db.insert(registrationFlows).values({
    id,
    verificationId: `vf_${id}`,
    email: `old-${id}@example.com`,
    emailKey: `old-${id}@example.com`,
    channel: 'email',
    destination: `old-${id}@example.com`,
    codeHash: 'x',
    username: `old_${id.slice(0, 8)}`,
    firstName: 'Old',
    lastName: 'Row',
    passwordHash: 'x',
    expiresAt: daysAgo(expiredDaysAgo),
    createdAt: daysAgo(expiredDaysAgo + 1),
    verifiedAt: daysAgo(expiredDaysAgo + 1),
  });
  await stack.db.db.insert(deliveries).values({
    id: randomUUID(),
    flowId: id,
    codeSequence: 1,
    channel: 'email',
    destination: `old-${id}@example.com`,
    payloadCiphertext: 'v1.x.y.z',
    status: 'sent',
    createdAt: daysAgo(expiredDaysAgo + 1),
  });
  return id;
}

describe('retention', () => {
  it('purges flows (with their deliveries), flowless notices and cooldowns past the retention, and nothing else', async () => {
    const ancient = await Promise.all([oldFlow(45), oldFlow(31)]);
    const recent = await oldFlow(5);
    await stack.db.db
      .insert(sendCooldowns)
      .values([{ destinationKey: 'long-ago@example.com', lastSentAt: daysAgo(31) }]);
    const oldNotice = randomUUID();
    await stack.db.db.insert(deliveries).values({
      id: oldNotice,
      kind: 'registration-notice',
      channel: 'email',
      destination: 'owner@example.com',
      createdAt: daysAgo(40),
    });
    const body = shopper();
    const code = await requestCode(stack, body);
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);

    const purged = await purgeExpired(stack.db.db, daysAgo(30));
    expect(purged).toEqual({ flows: 2, notices: 1, cooldowns: 1 });
    // The cooldown of the shopper who just registered stays.
    expect(await stack.db.db.select().from(sendCooldowns)).toHaveLength(1);

    const left = await stack.db.db
      .select({ id: registrationFlows.id })
      .from(registrationFlows)
      .where(inArray(registrationFlows.id, [...ancient, recent]));
    expect(left).toEqual([{ id: recent }]);
    const orphans = await stack.db.db.select().from(deliveries).where(inArray(deliveries.flowId, ancient));
    expect(orphans).toEqual([]);
    expect(await stack.db.db.select().from(deliveries).where(eq(deliveries.id, oldNotice))).toEqual([]);
    expect(await stack.db.db.select().from(users).where(eq(users.email, body.email))).toHaveLength(1);
  });
});
