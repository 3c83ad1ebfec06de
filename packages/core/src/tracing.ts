import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';

/** The standard OpenTelemetry variables this service reads (config.ts validates them). */
export interface TracingSettings {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

/**
 * Where OTLP/HTTP traces go, as the OpenTelemetry specification reads the variables: the
 * traces endpoint as it is, else `/v1/traces` under the general endpoint. Undefined: tracing off.
 */
export function otlpTracesUrl(settings: TracingSettings): string | undefined {
  if (settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!settings.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return `${settings.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP traces URL; spans are batched to it. */
  url?: string | undefined;
  /** Spans go here instead, one by one as they end (tests give an InMemorySpanExporter). */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Exports what is pending and unregisters the tracer: spans after this are no-ops again. */
  shutdown(): Promise<void>;
}

/** The options an entry point starts tracing with. */
export function tracingOptionsOf(settings: TracingSettings, defaultServiceName: string): TracingOptions {
  return { serviceName: settings.OTEL_SERVICE_NAME ?? defaultServiceName, url: otlpTracesUrl(settings) };
}

/**
 * Starts tracing when there is somewhere to send spans, else does nothing and answers undefined.
 * The SDK is imported here, on demand: with tracing off it is never loaded, and every span in
 * the code meets the API's no-op tracer.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing | undefined> {
  if (!options.exporter && !options.url) return undefined;
  const [{ BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor }, { resourceFromAttributes }] =
    await Promise.all([import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/resources')]);
  const spanProcessor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(
        new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url: options.url }),
      );
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [spanProcessor],
  });
  // The AsyncLocalStorage context manager and the W3C trace-context propagator, process-wide.
  provider.register();
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
