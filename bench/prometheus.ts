/**
 * Reading a service's Prometheus text: the API's `/metrics` and the worker's metrics port both
 * carry prom-client's default process metrics (event-loop lag percentiles, memory, GC).
 */

export type Samples = Map<string, number>;

/** `name{labels}` → value, for every sample line. */
export function parsePrometheus(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) samples.set(line.slice(0, space), value);
  }
  return samples;
}

export async function scrape(url: string): Promise<Samples | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return undefined;
    return parsePrometheus(await response.text());
  } catch {
    return undefined;
  }
}

export const EVENT_LOOP_P99 = 'nodejs_eventloop_lag_p99_seconds';
export const HEAP_USED = 'nodejs_heap_size_used_bytes';
export const RESIDENT = 'process_resident_memory_bytes';
