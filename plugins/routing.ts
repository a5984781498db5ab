// GET /v1/routing: the routing policy's state (src/routing/route-planner.ts, built by
// src/fairspec.ts) in the wire shape of src/wire/routing.ts. The fairspec_routing_* gauges export
// the same state on every scrape (src/metrics/routing-gauges.ts).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FairspecError } from '../src/errors.js';
import type { PolicySnapshot, RegimeSnapshot } from '../src/routing/adaptive-policy.js';
import { errorResponses } from '../src/wire/error.js';
import { RoutingResponse, type RoutingResponseBody } from '../src/wire/routing.js';

const routingPlugin: FastifyPluginAsyncTypebox = async (fastify) => {
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
      const planner = fastify.fairspec.loaded?.routePlanner;
      if (!planner) throw new FairspecError('FS_NOT_READY', 'The model is not loaded yet.');
      return toResponse(planner.snapshot());
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
      language: key,
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

export default routingPlugin;
