import { describe, expect, it } from 'vitest';
import { loadApiConfig, loadWorkerConfig } from '../src/config.js';
import { parseDeliveryJob } from '../src/delivery-queue.js';
import { activeTraceFields, currentTraceparent } from '../src/trace-context.js';
import { otlpTracesUrl, startTracing, tracingOptionsOf } from '../src/tracing.js';
import { problemsOf } from './support/config-problems.js';

const api = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
  JWT_SECRET: 'j'.repeat(32),
  OTP_PEPPER: 'p'.repeat(32),
};
const DELIVERY_ID = '0b8e7c1e-54a3-4c1f-9a2b-7d7a3c1e2f40';

describe('the OTLP endpoint', () => {
  it('is off unless an endpoint is set', () => {
    expect(otlpTracesUrl({})).toBeUndefined();
    expect(tracingOptionsOf({}, 'otp-relay-api')).toEqual({ serviceName: 'otp-relay-api', url: undefined });
  });

  it('adds /v1/traces to the general endpoint, and takes the traces endpoint as it is (it wins)', () => {
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      otlpTracesUrl({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/custom',
      }),
    ).toBe('https://traces.example/custom');
  });

  it('names the service OTEL_SERVICE_NAME, else the default of the app', () => {
    const config = loadWorkerConfig({
      ...api,
      EMAIL_PROVIDER: 'console',
      NODE_ENV: 'development',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'shop-otp-worker',
    });
    expect(tracingOptionsOf(config, 'otp-relay-worker')).toEqual({
      serviceName: 'shop-otp-worker',
      url: 'http://collector:4318/v1/traces',
    });
  });

  it('refuses an endpoint that is not an http(s) URL, naming it', () => {
    expect(
      problemsOf(() => loadApiConfig({ ...api, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' })),
    ).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT: /)]);
    expect(
      problemsOf(() => loadApiConfig({ ...api, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector' })),
    ).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: /)]);
  });
});

describe('with tracing off', () => {
  it('loads nothing and carries no context', async () => {
    expect(await startTracing({ serviceName: 'otp-relay-api' })).toBeUndefined();
    expect(currentTraceparent()).toBeUndefined();
    expect(activeTraceFields()).toEqual({});
  });
});

describe("a delivery job's traceparent", () => {
  it('is optional: jobs enqueued before tracing, or with it off, are still taken', () => {
    expect(parseDeliveryJob({ deliveryId: DELIVERY_ID })).toEqual({ deliveryId: DELIVERY_ID });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseDeliveryJob({ deliveryId: DELIVERY_ID, traceparent })).toEqual({
      deliveryId: DELIVERY_ID,
      traceparent,
    });
  });

  it('must be a W3C trace context and nothing more', () => {
    for (const traceparent of [
      '',
      'x',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01; code=123456',
    ]) {
      expect(() => parseDeliveryJob({ deliveryId: DELIVERY_ID, traceparent })).toThrow(
        /Malformed delivery job/,
      );
    }
    expect(() => parseDeliveryJob({ deliveryId: DELIVERY_ID, tracestate: 'a=b' })).toThrow(/Malformed/);
  });
});
