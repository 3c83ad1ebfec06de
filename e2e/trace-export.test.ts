import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  migrate,
  ready,
  registration,
  SERVICE_SCRIPTS,
  serviceEnv,
  sharedRedis,
  startProcess,
  useE2eContext,
} from './support/processes.js';

/**
 * The built API and worker export their spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set: a collector stand-in receives one trace with the request, the job and the Gmail call.
 */

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

const e2e = useE2eContext({ migrated: false });
const received: { service: string; span: OtlpSpan }[] = [];
const paths: string[] = [];
let arrived: () => void = () => {};
const collector = createServer(async (request: IncomingMessage, response) => {
  let body = '';
  for await (const chunk of request) body += chunk;
  paths.push(request.url ?? '');
  const exported = JSON.parse(body) as OtlpExport;
  for (const resourceSpans of exported.resourceSpans) {
    const service =
      resourceSpans.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value
        .stringValue ?? '';
    for (const scope of resourceSpans.scopeSpans) {
      for (const span of scope.spans) received.push({ service, span });
    }
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  arrived();
});
beforeAll(async () => {
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
});
afterAll(() => collector.close());

/** Resolves once the collector holds a span that `match` accepts. */
async function spanArrives(match: (entry: { service: string; span: OtlpSpan }) => boolean) {
  for (;;) {
    const found = received.find(match);
    if (found) return found;
    await new Promise<void>((resolve) => {
      arrived = resolve;
    });
  }
}

describe('tracing in the built services', () => {
  it('exports one trace from the API request to the provider call', async () => {
    const port = await freePort();
    const env = {
      ...serviceEnv({
        databaseUrl: e2e.database.url,
        ...sharedRedis(e2e.services),
        google: e2e.google,
        port,
      }),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    };
    await migrate(env);
    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const worker = startProcess(SERVICE_SCRIPTS.worker, env);
    await Promise.all([ready.api(api), ready.worker(worker)]);

    const email = `trace-${port}@example.com`;
    expect((await apiClient(port)('request-otp/', registration(email))).status).toBe(200);
    await e2e.google.waitForEmails(1, { to: email });

    // SIGTERM flushes what the batch processors hold.
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);

    const server = await spanArrives(({ span }) => span.name === 'POST /api/accounts/request-otp/');
    const send = await spanArrives(({ span }) => span.name === 'gmail send');
    const run = await spanArrives(({ span }) => span.name === 'otp-delivery process');
    expect(server.service).toBe('otp-relay-api');
    expect(send.service).toBe('otp-relay-worker');
    expect(send.span.traceId).toBe(server.span.traceId);
    expect(send.span.parentSpanId).toBe(run.span.spanId);
    expect(new Set(paths)).toEqual(new Set(['/v1/traces']));
  });
});
