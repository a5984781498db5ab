// The routing capability: the policy over the pack's routing table (src/routing/route-planner.ts),
// seeded with the offline estimates of the pack's eval.json when it has one (alpha for sampled
// requests, greedy agreement for greedy ones), in the mode
// FAIRSPEC_ROUTING_MODE names; GET /v1/routing shows its state and the fairspec_routing_* gauges
// export it on every scrape.

import fp from 'fastify-plugin';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CompletionRouter } from '../src/completion-service.js';
import { FairspecError } from '../src/errors.js';
import { UNDETERMINED, type AdaptivePolicyOptions, type PolicySnapshot, type RegimeSnapshot } from '../src/routing/adaptive-policy.js';
import { detectLanguage } from '../src/routing/language-detector.js';
import { UNKNOWN } from '../src/routing/language-labels.js';
import { loadOfflineEstimates, type OfflineEstimates } from '../src/routing/offline-estimates.js';
import { RoutePlanner } from '../src/routing/route-planner.js';
import { registerRoutingGauges } from '../src/metrics/routing-gauges.js';
import { errorResponses } from './error-schema.js';
import { RoutingResponse, type RoutingResponseBody } from './routing-schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Detection and routing for completions; null when no pack is loaded. */
    router: CompletionRouter | null;
    routePlanner: RoutePlanner | null;
  }
}

/** Policy settings for embedding and tests (exploration, warm-up, margin...); the mode comes from config. */
export type RoutingPolicyOptions = Partial<Omit<AdaptivePolicyOptions, 'mode' | 'table' | 'drafters'>>;

export interface RoutingPluginOptions {
  policy?: RoutingPolicyOptions;
}

const routingPlugin: FastifyPluginAsyncTypebox<RoutingPluginOptions> = async (fastify, options) => {
  const { config, engine, routingTable: table } = fastify;
  let planner: RoutePlanner | null = null;
  if (engine !== null && table !== null) {
    let offline: OfflineEstimates | null = null;
    try {
      offline = await loadOfflineEstimates(config.packDir, engine.drafterNames);
    } catch (err) {
      fastify.log.warn({ err }, 'eval.json ignored: routing starts without offline priors');
    }
    if (offline && offline.skipped.length > 0) fastify.log.warn({ skipped: offline.skipped }, 'eval.json: entries left out of the routing priors');
    planner = new RoutePlanner({
      mode: config.routingMode,
      table,
      drafters: engine.drafterNames,
      languages: config.metricLanguages,
      ...(offline && { offlineAlpha: offline.alpha, offlineGreedyAgreement: offline.greedyAgreement, offlineCost: offline.cost }),
      source: 'routing policy',
      ...options.policy,
    });
    fastify.log.info({ mode: planner.mode, offlinePriors: offline !== null }, 'routing policy ready');
    // A drafter swapped for a new model (PUT /v1/drafters/{name}): discount what was learnt of the old one.
    const policy = planner;
    engine.onDrafterReplaced((drafter, revision) => policy.drafterReplaced(drafter, revision));
  }
  const p = planner;
  fastify.decorate('routePlanner', p);
  fastify.decorate(
    'router',
    p && {
      detect: detectLanguage,
      route: (language, request) => p.route(language, request),
      observe: (language, stats, drafterRevision) => p.observe(language, stats, drafterRevision),
    },
  );
  registerRoutingGauges(fastify.metrics.registry, () => p?.snapshot() ?? null, fastify.languageLabel);

  fastify.get(
    '/v1/routing',
    {
      schema: {
        tags: ['routing'],
        summary: 'Routing policy state',
        description:
          'Per language: the drafter and draft length the router picks now and why, each drafter\'s online alpha estimate with its ' +
          '95% interval, the cost ratio c and the expected speed-up S, for sampled requests; `greedy` holds the same for greedy ' +
          '(temperature 0 or top_k 1) requests, whose alpha is the argmax agreement. In static mode the choice is routing.json; ' +
          'the estimates still learn.',
        response: { 200: RoutingResponse, 503: errorResponses[503] },
      },
    },
    async () => {
      if (p === null) throw new FairspecError('FS_NOT_READY', 'The model is not loaded yet.');
      return toResponse(p.snapshot());
    },
  );
};

function toResponse(s: PolicySnapshot): RoutingResponseBody {
  return {
    mode: s.mode,
    costs: {
      verifier_ms_per_step: s.costs.verifierMsPerStep,
      verify_cost: Object.entries(s.costs.verifyCost).map(([gamma, cost]) => ({ draft_length: Number(gamma), cost })),
      drafters: Object.entries(s.costs.drafters).map(([drafter, d]) => ({
        drafter,
        ms_per_token: d.msPerToken,
        cost_ratio: d.costRatio,
        source: d.source,
      })),
    },
    languages: Object.entries(s.languages).map(([key, l]) => ({
      language: key === UNDETERMINED ? UNKNOWN : key,
      ...regime(l),
      plain_requests: l.plainRequests,
      greedy: regime(l.greedy),
    })),
  };
}

function regime(r: RegimeSnapshot) {
  return {
    choice: { drafter: r.choice.drafter, draft_length: r.choice.draftLength, reason: r.choice.reason, expected_speedup: r.expectedSpeedup },
    static: { drafter: r.static.drafter, draft_length: r.static.draftLength },
    drafters: Object.entries(r.drafters).map(([drafter, d]) => ({
      drafter,
      alpha: d.alpha,
      observed_tokens: d.observedTokens,
      requests: d.requests,
      ready: d.ready,
      cost_ratio: d.costRatio,
      draft_length: d.draftLength,
      expected_speedup: d.speedup,
      expected_speedup_lower: d.speedupLower,
    })),
  };
}

export default fp(routingPlugin, {
  name: 'fairspec-routing',
  fastify: '5.x',
  dependencies: ['fairspec-errors', 'fairspec-engine', 'fairspec-metrics'],
});
