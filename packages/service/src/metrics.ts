import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

/**
 * Serves a service's Prometheus registry on GET /metrics and times every HTTP request into
 * `<prefix>http_request_seconds` (by method, route pattern and status).
 */
export function exposeMetrics(app: FastifyInstance, registry: Registry, prefix: string): void {
  const http = new Histogram({
    name: `${prefix}http_request_seconds`,
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    http.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unknown', status: reply.statusCode },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
