import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { DeadLetterQueue, DeliveryQueue } from '@otp-relay/core';
import type { FastifyInstance } from 'fastify';

export const ADMIN_BOARD_PATH = '/admin/queues';

export interface AdminBoardOptions {
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  user: string;
  password: string;
}

/** Constant-time whatever the lengths: the digests compared always have the same size. */
function same(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Bull Board for the delivery and dead-letter queues, behind HTTP Basic auth. Retrying a
 * dead-letter job there replays its delivery (see the worker's dead-letter-worker.ts).
 */
export async function adminBoard(app: FastifyInstance, options: AdminBoardOptions) {
  app.addHook('onRequest', async (request, reply) => {
    const [scheme, encoded] = (request.headers.authorization ?? '').split(' ');
    const [user, ...rest] = Buffer.from(encoded ?? '', 'base64')
      .toString()
      .split(':');
    const authorised =
      scheme === 'Basic' && same(user ?? '', options.user) && same(rest.join(':'), options.password);
    if (!authorised) {
      reply.header('www-authenticate', 'Basic realm="otp-relay admin", charset="UTF-8"');
      return reply
        .status(401)
        .send({ success: false, code: 'UNAUTHORIZED', message: 'Admin credentials required.' });
    }
  });

  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: [new BullMQAdapter(options.deliveryQueue), new BullMQAdapter(options.deadLetterQueue)],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'otp-relay' } },
  });
  serverAdapter.setBasePath(ADMIN_BOARD_PATH);
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_BOARD_PATH });
}
