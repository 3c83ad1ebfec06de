import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueConsumerCheck, NoConsumerError } from '../src/http/queue-consumer-check.js';
import { type Stack, startStack } from './support/stack.js';

// A worker that has exited must not leave the API looking healthy while it accepts codes
// nobody sends: readiness names the missing consumer.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const readiness = async (app: Stack['app']) => {
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  return { statusCode: response.statusCode, body: response.json() };
};

describe('readiness and the delivery queue', () => {
  it('answers 503 naming the worker while none consumes, 200 once one does, 503 again when it stops', async () => {
    expect(await readiness(stack.app)).toEqual({
      statusCode: 503,
      body: { status: 'unavailable', checks: { postgres: 'ok', redis: 'ok', worker: 'unavailable' } },
    });

    await stack.startWorker().worker.waitUntilReady();
    expect(await readiness(stack.app)).toEqual({
      statusCode: 200,
      body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', worker: 'ok' } },
    });

    // A fresh instance has seen no worker yet, so it asks Redis now rather than trusting a cache.
    await stack.stopWorker();
    const other = await stack.anotherApi();
    try {
      expect((await readiness(other.app)).body.checks.worker).toBe('unavailable');
    } finally {
      await other.close();
    }
  });

  it('with READINESS_REQUIRES_WORKER=false stays 200 and says degraded', async () => {
    await stack.stopWorker();
    const other = await stack.anotherApi({ config: { READINESS_REQUIRES_WORKER: false } });
    try {
      expect(await readiness(other.app)).toEqual({
        statusCode: 200,
        body: { status: 'degraded', checks: { postgres: 'ok', redis: 'ok', worker: 'unavailable' } },
      });
    } finally {
      await other.close();
    }
  });

  it('counts only workers on its own queue prefix: a stranger prefix does not make it ready', async () => {
    const other = await stack.anotherApi({ config: { QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-other` } });
    try {
      await stack.startWorker().worker.waitUntilReady();
      expect((await readiness(other.app)).body.checks.worker).toBe('unavailable');
    } finally {
      await other.close();
      await stack.stopWorker();
    }
  });
});

describe('createQueueConsumerCheck', () => {
  const fakeQueue = (counts: number[]) => {
    const asked: number[] = [];
    return {
      asked,
      queue: {
        name: 'deliveries',
        async getWorkersCount() {
          const count = counts.shift() ?? 0;
          asked.push(count);
          return count;
        },
      },
    };
  };

  it('throws with no worker and asks again at every probe', async () => {
    const { queue, asked } = fakeQueue([0, 0]);
    const check = createQueueConsumerCheck(queue, () => 0);
    await expect(check()).rejects.toBeInstanceOf(NoConsumerError);
    await expect(check()).rejects.toThrow(/no worker is consuming deliveries/);
    expect(asked).toEqual([0, 0]);
  });

  it('trusts a seen worker for a few seconds, then asks Redis again', async () => {
    const { queue, asked } = fakeQueue([1, 0]);
    let clock = 0;
    const check = createQueueConsumerCheck(queue, () => clock);
    await check();
    clock = 4999;
    await check();
    expect(asked).toEqual([1]);
    clock = 5000;
    await expect(check()).rejects.toBeInstanceOf(NoConsumerError);
    expect(asked).toEqual([1, 0]);
  });
});
