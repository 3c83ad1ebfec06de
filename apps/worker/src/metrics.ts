import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { DeliveryEvents } from './delivery/process-delivery.js';
import type { DryProviderEvents } from './delivery/provider-exhaustion.js';
import type { HealthReport } from './health.js';
import type { WebhookMetricEvents } from './webhooks/process-webhook.js';

/**
 * The worker's Prometheus metrics, served with its health check on a small port of its own
 * (`WORKER_METRICS_PORT`): workers have no HTTP API to hang them on.
 */
export function createWorkerMetrics() {
  const registry = new Registry();
  // Process metrics: memory, CPU, event-loop lag (nodejs_eventloop_lag_p99_seconds), GC.
  collectDefaultMetrics({ register: registry });
  const attempts = new Counter({
    name: 'otp_relay_delivery_attempts_total',
    help: 'Delivery attempts by channel, provider and result (sent, failed)',
    labelNames: ['channel', 'provider', 'result'] as const,
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'otp_relay_deliveries_total',
    help: 'Deliveries finished, by channel, provider and outcome (sent, dead, skipped)',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'otp_relay_delivery_latency_seconds',
    help: "Time from the shopper's request to the provider's acceptance",
    labelNames: ['channel', 'provider'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });

  const exhausted = new Counter({
    name: 'otp_relay_provider_exhausted_total',
    help: 'Times a provider was found run dry (daily quota, or a rate limit past the code expiry) and marked so for all workers',
    labelNames: ['provider'] as const,
    registers: [registry],
  });

  const webhookAttempts = new Counter({
    name: 'otp_relay_webhook_attempts_total',
    help: 'Webhook POSTs to WEBHOOK_URL by event type and result (delivered, failed)',
    labelNames: ['type', 'result'] as const,
    registers: [registry],
  });
  const webhookOutcomes = new Counter({
    name: 'otp_relay_webhook_events_total',
    help: 'Webhook events finished, by type and outcome (delivered, dead)',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const webhookEvents: WebhookMetricEvents = {
    attempted: (type, result) => webhookAttempts.inc({ type, result }),
    finished: (type, outcome) => webhookOutcomes.inc({ type, outcome }),
  };

  const events: DeliveryEvents & DryProviderEvents = {
    attempted: (channel, provider, result) => attempts.inc({ channel, provider, result }),
    finished: (channel, provider, outcome) => outcomes.inc({ channel, provider, outcome }),
    accepted: (channel, provider, seconds) => latency.observe({ channel, provider }, seconds),
    providerExhausted: (provider) => exhausted.inc({ provider }),
  };

  /**
   * Serves `/metrics`, `/healthz` (200 when every check passes, else 503 naming the failed ones)
   * and `/livez` (200 while the process answers); resolves with the server once it listens.
   */
  async function listen(port: number, host: string, health: () => Promise<HealthReport>): Promise<Server> {
    const server = createServer((request, response) => {
      // The process answers: for a liveness probe, which must not restart workers while Redis is away.
      if (request.url === '/livez') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      if (request.url === '/healthz') {
        health().then(
          (report) =>
            response
              .writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
              .end(JSON.stringify(report)),
          () =>
            response.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"unavailable"}'),
        );
        return;
      }
      if (request.url === '/metrics') {
        registry.metrics().then(
          (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
          () => response.writeHead(500).end(),
        );
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return server;
  }

  return { registry, events, webhookEvents, listen };
}

export const portOf = (server: Server) => (server.address() as AddressInfo).port;
