import type { DeadLetterQueue, DeliveryQueue } from '@otp-relay/core';
import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PasswordHasher } from '../registration/password-hashing.js';
import type { RegistrationEvents } from '../registration/registration-service.js';
import type { SendBudgetEvents } from '../registration/send-budgets.js';

/**
 * The API's Prometheus metrics: HTTP traffic, what registration did, the queues' state (read
 * from Redis at scrape time) and the hashes waiting for a thread. One registry per app, so tests
 * can build several.
 */
export function createApiMetrics(sources: {
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  passwordHasher: Pick<PasswordHasher, 'waiting'>;
}) {
  const registry = new Registry();
  // Process metrics: memory, CPU, event-loop lag (nodejs_eventloop_lag_p99_seconds), GC.
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'otp_relay_http_requests_total',
    help: 'HTTP requests by route template, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'otp_relay_http_request_duration_seconds',
    help: 'HTTP request latency by route template and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const codesIssued = new Counter({
    name: 'otp_relay_codes_issued_total',
    help: 'One-time codes issued, by channel',
    labelNames: ['channel'] as const,
    registers: [registry],
  });
  const codesVerified = new Counter({
    name: 'otp_relay_codes_verified_total',
    help: 'Codes verified (accounts created)',
    registers: [registry],
  });
  const codesRejected = new Counter({
    name: 'otp_relay_codes_rejected_total',
    help: 'Verifications refused, by reason: invalid, expired, attempts_exceeded, verification_id_required',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'otp_relay_queue_jobs',
    help: 'Jobs in the delivery and dead-letter queues, by state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of [sources.deliveryQueue, sources.deadLetterQueue]) {
        const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed');
        for (const [state, count] of Object.entries(counts)) this.set({ queue: queue.name, state }, count);
      }
    },
  });

  // The hash is registration's one CPU-heavy step: its wait for a thread is the API's capacity signal.
  const passwordHashDuration = new Histogram({
    name: 'otp_relay_password_hash_seconds',
    help: 'Time from asking for a password hash to having it: waiting for a hashing thread, then argon2id',
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'otp_relay_password_hashes_waiting',
    help: 'Password hashes waiting for a free hashing thread',
    registers: [registry],
    collect() {
      this.set(sources.passwordHasher.waiting);
    },
  });

  // The deployment's send budgets (registration/send-budgets.ts): how full each is, as this
  // instance last counted it (take the max over instances), and what was refused.
  const budgetUsedRatio = new Gauge({
    name: 'otp_relay_send_budget_used_ratio',
    help: 'Share of a send budget used in its current window, by channel and budget (hourly, daily, domain-hourly)',
    labelNames: ['channel', 'budget'] as const,
    registers: [registry],
  });
  const budgetWarnings = new Counter({
    name: 'otp_relay_send_budget_warnings_total',
    help: 'Send budgets that crossed SEND_BUDGET_WARN_PERCENT, by channel and budget',
    labelNames: ['channel', 'budget'] as const,
    registers: [registry],
  });
  const budgetRefusals = new Counter({
    name: 'otp_relay_send_budget_refusals_total',
    help: 'Sends refused with SEND_BUDGET_EXHAUSTED, by channel and budget',
    labelNames: ['channel', 'budget'] as const,
    registers: [registry],
  });
  const budgetEvents: SendBudgetEvents = {
    budgetUsed: (channel, budget, used, cap) => budgetUsedRatio.set({ channel, budget }, used / cap),
    budgetWarning: (channel, budget) => budgetWarnings.inc({ channel, budget }),
    budgetRefused: (channel, budget) => budgetRefusals.inc({ channel, budget }),
  };

  const events: RegistrationEvents = {
    codeIssued: (channel) => codesIssued.inc({ channel }),
    codeVerified: () => codesVerified.inc(),
    passwordHashed: (seconds) => passwordHashDuration.observe(seconds),
    codeRejected: (code) =>
      codesRejected.inc({
        reason: {
          OTP_INVALID: 'invalid',
          OTP_EXPIRED: 'expired',
          OTP_ATTEMPTS_EXCEEDED: 'attempts_exceeded',
          VERIFICATION_ID_REQUIRED: 'verification_id_required',
        }[code],
      }),
  };

  /**
   * Counts every answered request of the public app (not encapsulated). The scrape is served on the
   * operators' listener (`serveMetrics`), so scrapes are not counted as shop traffic.
   */
  const plugin = fastifyPlugin(
    async (app: FastifyInstance) => {
      app.addHook('onResponse', async (request, reply) => {
        const route = request.routeOptions.url ?? 'unmatched';
        httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
        httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
      });
    },
    { name: 'otp-relay-metrics' },
  );

  return { registry, events, budgetEvents, plugin };
}

/** `GET /metrics` from the registry the public app records into; for the operators' app only. */
export function serveMetrics(app: FastifyInstance, registry: Registry) {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    try {
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    } catch {
      // Redis away: the queue gauge cannot be read; the rest is still worth scraping.
      return reply
        .type(registry.contentType)
        .send(await registry.getSingleMetricAsString('otp_relay_http_requests_total'));
    }
  });
}
