import { PassThrough } from 'node:stream';
import { createDeliveryQueue, createRedisClient, startTracing } from '@otp-relay/core';
import { deliveries, registrationFlows } from '@otp-relay/db';
import { startTestTracing, type TestTracing } from '@otp-relay/testkit';
import { Job } from 'bullmq';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, shopper, startStack } from './support/stack.js';

/**
 * One trace from the shop's request through the delivery job to the provider's call: the API's
 * server span, the enqueue (producer), the worker's run of the job (consumer, parented by the
 * traceparent the job carries) and the Gmail send (client). Off by default: then no job carries a
 * traceparent and no log line a trace id.
 */

const SPAN_KIND = { SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;

const logs = new PassThrough();
let logLines: Record<string, unknown>[] = [];
logs.on('data', (chunk: Buffer) => {
  for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
});

let stack: Stack;
let tracing: TestTracing | undefined;
beforeAll(async () => {
  stack = await startStack({ logStream: logs });
  stack.startWorker();
});
afterAll(async () => {
  await tracing?.shutdown();
  await stack.close();
});

/** Registers a shopper and waits until their delivery's job has finished; its id and the job. */
async function registerAndSettle(headers: Record<string, string> = {}) {
  const body = shopper();
  const response = await stack.app.inject({
    method: 'POST',
    url: '/api/accounts/request-otp/',
    payload: body,
    headers,
  });
  expect(response.statusCode).toBe(200);
  const [row] = await stack.db.db
    .select({ id: deliveries.id })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, body.email));
  if (!row) throw new Error('no delivery row');
  await stack.settled(row.id);
  const redis = createRedisClient(stack.redisUrl, 'api');
  const queue = createDeliveryQueue(redis, stack.config.QUEUE_PREFIX);
  try {
    const job = await Job.fromId(queue, row.id);
    if (!job) throw new Error('no job');
    expect(job.finishedOn).toBeDefined();
    expect(job.failedReason).toBeUndefined();
    return { deliveryId: row.id, job };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

describe('with tracing off (no OTLP endpoint)', () => {
  it('starts nothing', async () => {
    expect(await startTracing({ serviceName: 'otp-relay-api', url: undefined })).toBeUndefined();
  });

  it('enqueues jobs with no traceparent and logs no trace ids', async () => {
    logLines = [];
    const { job } = await registerAndSettle();
    expect(job.data).toEqual({ deliveryId: job.id });
    expect(logLines.some((line) => line.msg === 'delivery sent')).toBe(true);
    expect(logLines.filter((line) => 'trace_id' in line || 'span_id' in line)).toEqual([]);
  });
});

describe('with tracing on', () => {
  beforeAll(async () => {
    tracing = await startTestTracing();
  });

  it('reads one trace from the HTTP request through the job to the provider call', async () => {
    logLines = [];
    const { deliveryId, job } = await registerAndSettle();
    const spans = tracing?.spans() ?? [];
    const server = spans.find((span) => span.kind === SPAN_KIND.SERVER);
    const publish = spans.find((span) => span.kind === SPAN_KIND.PRODUCER);
    const run = spans.find((span) => span.kind === SPAN_KIND.CONSUMER);
    const send = spans.find((span) => span.kind === SPAN_KIND.CLIENT);
    if (!server || !publish || !run || !send) {
      throw new Error(`missing spans: ${spans.map((span) => span.name).join(', ')}`);
    }
    const traceId = server.spanContext().traceId;

    expect(server.name).toBe('POST /api/accounts/request-otp/');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/accounts/request-otp/',
      'http.response.status_code': 200,
    });
    expect(server.parentSpanContext).toBeUndefined();

    expect(publish.name).toBe('otp-delivery publish');
    expect(publish.attributes['messaging.message.id']).toBe(deliveryId);
    expect(publish.parentSpanContext?.spanId).toBe(server.spanContext().spanId);

    // The job carries the enqueue's context, and nothing else besides its delivery id.
    expect(job.data).toEqual({
      deliveryId,
      traceparent: `00-${traceId}-${publish.spanContext().spanId}-01`,
    });
    expect(run.name).toBe('otp-delivery process');
    expect(run.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);

    expect(send.name).toBe('gmail send');
    expect(send.attributes).toMatchObject({ 'otp_relay.provider': 'gmail', 'otp_relay.channel': 'email' });
    expect(send.parentSpanContext?.spanId).toBe(run.spanContext().spanId);

    for (const span of [publish, run, send]) expect(span.spanContext().traceId).toBe(traceId);
    // No span records a shopper's address.
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('@example.com');

    // The worker's log line of the send leads to the trace.
    const sent = logLines.find((line) => line.msg === 'delivery sent');
    expect(sent).toMatchObject({ trace_id: traceId, span_id: run.spanContext().spanId });
  });

  it("continues a caller's trace (a W3C traceparent header)", async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = tracing?.spans().length ?? 0;
    const { job } = await registerAndSettle({ traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` });
    const server = tracing
      ?.spans()
      .slice(before)
      .find((span) => span.kind === SPAN_KIND.SERVER);
    expect(server?.spanContext().traceId).toBe(callerTrace);
    expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(job.data.traceparent).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));
  });

  it('ignores a malformed traceparent header: a trace of its own, and the request is served', async () => {
    const before = tracing?.spans().length ?? 0;
    const { job } = await registerAndSettle({ traceparent: '00-not-a-trace-context-01; drop table' });
    const server = tracing
      ?.spans()
      .slice(before)
      .find((span) => span.kind === SPAN_KIND.SERVER);
    expect(server?.parentSpanContext).toBeUndefined();
    expect(job.data.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
