import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { startTracing } from '@otp-relay/core';

export interface TestTracing {
  /** The spans ended so far, in the order they ended. */
  spans(): ReadableSpan[];
  /** Stops tracing: spans after this are the API's no-ops again. */
  shutdown(): Promise<void>;
}

/** Tracing for the whole process as main.ts starts it, with spans kept in memory for the test to read. */
export async function startTestTracing(serviceName = 'otp-relay-test'): Promise<TestTracing> {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing({ serviceName, exporter });
  if (!tracing) throw new Error('tracing did not start');
  return { spans: () => exporter.getFinishedSpans(), shutdown: () => tracing.shutdown() };
}
