import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { DeadLetterQueue, DeliveryQueue, WebhookQueue } from '@otp-relay/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorResponse } from './error-contract.js';

export const ADMIN_BOARD_PATH = '/admin/queues';

export interface AdminBoardOptions {
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  /** The shop's webhook events (read-only here too), when WEBHOOK_URL is set. */
  webhookQueue?: WebhookQueue | undefined;
  /** Where @bull-board/ui is installed (its page is what the board's CSP was made for). */
  uiBasePath: string;
  /** The login check, run before anything else of the board (admin-login.ts). */
  requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/**
 * The only changes the board may make: retrying dead-letter jobs, one (a failed or completed job)
 * or every failed one. Route templates of @bull-board/api 9.10.1 (dist/routes.js), under the prefix.
 */
const RETRY_ONE_JOB = `${ADMIN_BOARD_PATH}/api/queues/:queueName/:jobId/retry`;
const RETRY_ALL_JOBS = `${ADMIN_BOARD_PATH}/api/queues/:queueName/retry/:queueStatus`;

/**
 * Bull Board for the delivery and dead-letter queues, behind `requireAdmin`, and read-only: the
 * server refuses every change (403) but retrying a dead letter, whatever a client sends. The
 * delivery queue is read-only in the UI too; the dead-letter queue's page still shows the other
 * buttons (Bull Board cannot offer Retry alone), which get that 403. Retrying a dead-letter job
 * replays its delivery (see the worker's dead-letter-worker.ts).
 */
export async function adminBoard(app: FastifyInstance, options: AdminBoardOptions) {
  const deadLetters = options.deadLetterQueue.name;
  const isDeadLetterRetry = (request: FastifyRequest) => {
    const params = request.params as { queueName?: string; queueStatus?: string };
    const route = request.routeOptions.url;
    return (
      request.method === 'PUT' &&
      params.queueName === deadLetters &&
      (route === RETRY_ONE_JOB || (route === RETRY_ALL_JOBS && params.queueStatus === 'failed'))
    );
  };

  app.addHook('onRequest', options.requireAdmin);
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || isDeadLetterRetry(request)) return;
    const body: ErrorResponse = {
      success: false,
      code: 'FORBIDDEN',
      message: 'The board is read-only: only dead-letter jobs can be retried.',
    };
    return reply.status(403).send(body);
  });

  // Typed on BaseAdapter only in 9.10.1, hence not written inline: no Retry on a completed copy.
  const deadLetterOptions = {
    allowRetries: true,
    allowCompletedRetries: false,
    description:
      'Deliveries and webhook events that failed for good. Retry replays one (as pnpm dlq:replay does).',
  };
  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: [
      new BullMQAdapter(options.deliveryQueue, { readOnlyMode: true }),
      new BullMQAdapter(options.deadLetterQueue, deadLetterOptions),
      ...(options.webhookQueue ? [new BullMQAdapter(options.webhookQueue, { readOnlyMode: true })] : []),
    ],
    serverAdapter,
    options: { uiBasePath: options.uiBasePath, uiConfig: { boardTitle: 'otp-relay' } },
  });
  serverAdapter.setBasePath(ADMIN_BOARD_PATH);
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_BOARD_PATH });
}
