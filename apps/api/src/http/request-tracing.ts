import { type ServerSpan, startServerSpan } from '@otp-relay/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import fastifyPlugin from 'fastify-plugin';

// Probes every few seconds would bury the traces worth reading.
const UNTRACED = new Set(['/healthz', '/readyz']);

/**
 * A server span per HTTP request, named by method and route, with its status; the route's handler
 * runs inside it, so the spans it starts (the delivery's enqueue) and its log lines join the trace.
 * A caller's W3C `traceparent` header is honoured as the parent. Register before any route.
 * With tracing off no span is started and nothing is kept.
 */
export const requestTracing = fastifyPlugin(
  async (app: FastifyInstance) => {
    const spans = new WeakMap<FastifyRequest, ServerSpan>();

    app.addHook('onRequest', (request, _reply, done) => {
      const route = request.routeOptions.url;
      if (route !== undefined && UNTRACED.has(route)) return done();
      const span = startServerSpan(
        route === undefined ? request.method : `${request.method} ${route}`,
        {
          'http.request.method': request.method,
          ...(route === undefined ? {} : { 'http.route': route }),
          'url.path': request.url.split('?')[0] ?? '',
        },
        request.headers,
      );
      if (span) spans.set(request, span);
      done();
    });

    // The handler is where the work is done; body parsing leaves the hooks' async context behind.
    app.addHook('onRoute', (route) => {
      const handler = route.handler as RouteHandlerMethod;
      route.handler = function traced(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
        const span = spans.get(request);
        return span ? span.run(() => handler.call(this, request, reply)) : handler.call(this, request, reply);
      } as typeof route.handler;
    });

    const finish = (request: FastifyRequest, statusCode: number | undefined) => {
      spans.get(request)?.end(statusCode);
      spans.delete(request);
    };
    app.addHook('onResponse', (request, reply, done) => {
      finish(request, reply.statusCode);
      done();
    });
    app.addHook('onRequestAbort', (request, done) => {
      finish(request, undefined);
      done();
    });
  },
  { name: 'request-tracing' },
);
