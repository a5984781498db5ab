// Live fairness: a sliding window over the last five minutes of completed generations
// (src/fairness/sliding-window.ts), fed by the completion service, exported as the
// fairspec_fairness_* gauges on every scrape.

import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { SlidingWindowFairness } from '../src/fairness/sliding-window.js';
import { registerFairnessGauges } from '../src/metrics/fairness-gauges.js';

declare module 'fastify' {
  interface FastifyInstance {
    fairness: SlidingWindowFairness;
  }
}

async function fairnessPlugin(fastify: FastifyInstance): Promise<void> {
  // The window keeps its own plain-decoding reference, fed from the plain generations it sees.
  const window = new SlidingWindowFairness();
  fastify.decorate('fairness', window);
  registerFairnessGauges(fastify.metrics.registry, () => window.snapshot());
}

export default fp(fairnessPlugin, { name: 'fairspec-fairness', fastify: '5.x', dependencies: ['fairspec-metrics'] });
