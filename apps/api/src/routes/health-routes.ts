import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

export interface HealthRoutesOptions {
  /** Each check throws when its dependency is not usable; any failing one makes readiness 503. */
  readinessChecks: Record<string, () => Promise<unknown>>;
  /** Checks that are reported but keep readiness at 200: a failing one makes the status `degraded`. */
  reportedChecks?: Record<string, () => Promise<unknown>>;
}

const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('unavailable')])),
});

const CHECK_TIMEOUT_MS = 2000;

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, options) => {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getLiveness',
        tags: ['health'],
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up.' }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Readiness: Postgres and Redis answer, and a worker consumes the delivery queue',
        response: {
          200: {
            ...ReadinessSchema,
            description:
              'Postgres and Redis answer and a worker consumes the delivery queue; `degraded` when no ' +
              'worker does and READINESS_REQUIRES_WORKER is false (checks.worker says so).',
          },
          503: {
            ...ReadinessSchema,
            description:
              'Postgres or Redis does not answer, or no worker consumes the delivery queue (see checks).',
          },
        },
      },
    },
    async (_request, reply) => {
      const required = new Set(Object.keys(options.readinessChecks));
      const all = { ...options.readinessChecks, ...options.reportedChecks };
      const entries = await Promise.all(
        Object.entries(all).map(async ([name, check]) => {
          try {
            await Promise.race([
              check(),
              new Promise((_, reject) =>
                setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref(),
              ),
            ]);
            return [name, 'ok'] as const;
          } catch {
            return [name, 'unavailable'] as const;
          }
        }),
      );
      const checks = Object.fromEntries(entries);
      const failing = entries.filter(([, state]) => state !== 'ok').map(([name]) => name);
      const ready = failing.every((name) => !required.has(name));
      const status = !ready ? 'unavailable' : failing.length > 0 ? 'degraded' : 'ok';
      return reply.status(ready ? 200 : 503).send({ status, checks });
    },
  );
};
