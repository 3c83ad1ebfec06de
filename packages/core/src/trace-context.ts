import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/**
 * Spans through the OpenTelemetry API only. With tracing off (startTracing not called) every call
 * here meets the API's no-op tracer and propagator: no span is recorded, no traceparent written.
 */

const TRACER_NAME = 'otp-relay';

export const tracer = () => trace.getTracer(TRACER_NAME);

/** W3C trace context as a job carries it: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export const TRACEPARENT_PATTERN = '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$';

/** The active span's context as a W3C `traceparent`; undefined when tracing is off or no span is active. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a job's `traceparent` names, to parent the span that works on it. */
export function contextOfTraceparent(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/**
 * Runs `work` inside a new active span (a child of `parent`, or of the active span), ending it
 * after; a thrown error marks the span failed (with its type, not its message) and is rethrown.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer().startActiveSpan(name, options, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      // The error's class only: a provider's message may quote a shopper's address or number.
      const type = error instanceof Error ? error.name : typeof error;
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** For log lines (the logger's mixin): the active span's ids, or nothing. */
export function activeTraceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return isSpanContextValid(span.spanContext()) ? { trace_id: traceId, span_id: spanId } : {};
}

// For the apps, which take the OpenTelemetry API through this file only (one copy of it in the tree).
export { type Attributes, SpanKind, type SpanOptions } from '@opentelemetry/api';

/** An HTTP request's server span: the request's work runs inside it. */
export interface ServerSpan {
  run<T>(work: () => T): T;
  /** Ends it with the response's status (none: the client went away), failed from 500 up. */
  end(statusCode: number | undefined): void;
}

/**
 * Starts a request's server span, the child of the caller's W3C `traceparent` header if it sends
 * one; undefined when tracing is off (nothing to carry, nothing to end).
 */
export function startServerSpan(
  name: string,
  attributes: Attributes,
  headers: Record<string, string | string[] | undefined>,
): ServerSpan | undefined {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  if (!isSpanContextValid(span.spanContext())) return undefined;
  const active = trace.setSpan(parent, span);
  return {
    run: (work) => context.with(active, work),
    end(statusCode) {
      if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
      if (statusCode === undefined || statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
