// GET /metrics: Prometheus exposition of the MetricsRecorder (src/metrics-recorder.ts), which
// holds every metric and the PromQL for the derived rates. This plugin only builds it from the
// loaded pack (drafter names) and the configured language labels, and serves it.

import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { MetricsRecorder } from '../src/metrics/metrics-recorder.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: MetricsRecorder;
  }
}

async function metricsPlugin(fastify: FastifyInstance): Promise<void> {
  const recorder = new MetricsRecorder({
    languageLabel: fastify.languageLabel,
    drafters: fastify.engine?.drafterNames ?? [],
  });
  fastify.decorate('metrics', recorder);

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

export default fp(metricsPlugin, { name: 'fairspec-metrics', fastify: '5.x', dependencies: ['fairspec-engine'] });
