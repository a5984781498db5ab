// GET /metrics: Prometheus exposition of the MetricsRecorder (src/metrics/metrics-recorder.ts),
// which holds every metric and the PromQL for the derived rates, and of the scrape-time gauges
// registered on it (src/metrics/*-gauges.ts).

import type { FastifyInstance } from 'fastify';

export default async function metricsPlugin(fastify: FastifyInstance): Promise<void> {
  const recorder = fastify.fairspec.metrics;
  fastify.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description: 'Per-language speculative-decoding counters, latency histograms and process metrics (text exposition format 0.0.4).',
      },
    },
    async (_request, reply) => reply.type(recorder.contentType).send(await recorder.metrics()),
  );
}
