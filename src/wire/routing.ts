// Schema of GET /v1/routing: the routing policy's state per language (src/routing/adaptive-policy.ts).
import { Type, type Static } from 'typebox';
import { nullable } from './nullable.js';

const Reason = Type.Union(
  [Type.Literal('static'), Type.Literal('estimate'), Type.Literal('explore'), Type.Literal('no-speedup'), Type.Literal('drafter-failing')],
  {
    description:
      'static: routing.json (static mode, or too few observations yet); estimate: the best expected speed-up; no-speedup: no drafter pays, ' +
      'plain decoding; drafter-failing: the drafter it would take failed (threw or gave non-finite logits) and is routed around for a cool-down.',
  },
);

const DrafterEstimate = Type.Object(
  {
    drafter: Type.String(),
    alpha: Type.Object(
      {
        mean: Type.Number(),
        sd: Type.Number(),
        lower: Type.Number({ description: 'Lower end of the 95% credible interval.' }),
        upper: Type.Number(),
      },
      {
        description:
          "Posterior of the acceptance rate on this language in the regime: alpha = sum_x min(p, q) for sampled requests, the argmax " +
          "agreement for greedy ones (Beta, exponential forgetting; the prior is eval.json's alpha or greedy_agreement when the pack has one).",
      },
    ),
    observed_tokens: Type.Number({ description: 'Drafted tokens observed since boot.' }),
    requests: Type.Integer(),
    ready: Type.Boolean({ description: 'Enough observations, and a known c, for the estimate to be used.' }),
    cost_ratio: nullable(Type.Number({ description: 'c: drafter ms per drafted token / plain verifier ms per step.' })),
    draft_length: Type.Integer({ description: 'gamma* at the posterior mean alpha.' }),
    expected_speedup: Type.Number({ description: 'S(gamma*) at the posterior mean alpha.' }),
    expected_speedup_lower: Type.Number({ description: 'S(gamma*) at the lower alpha bound.' }),
  },
  { title: 'DrafterEstimate' },
);

const regimeFields = {
  choice: Type.Object({
    drafter: nullable(Type.String()),
    draft_length: Type.Integer(),
    reason: Reason,
    expected_speedup: nullable(Type.Number({ description: 'S of this choice at the posterior mean alpha; 1 for plain decoding; null while c is unknown.' })),
  }),
  static: Type.Object({ drafter: nullable(Type.String()), draft_length: Type.Integer() }, { description: 'The routing table route (routing.json and config overrides).' }),
  drafters: Type.Array(DrafterEstimate),
};

const GreedyRouting = Type.Object(regimeFields, {
  title: 'GreedyRouting',
  description:
    "The same for greedy requests (temperature 0 or top_k 1): a draft is accepted only where it is the verifier's argmax, so alpha is " +
    "the argmax agreement and the static route is routing.json's `greedy` section (else the ordinary route).",
});

const LanguageRouting = Type.Object(
  {
    language: Type.String({ description: "Language code; 'other' pools languages without their own entry; 'unknown': not detected." }),
    choice: regimeFields.choice,
    static: regimeFields.static,
    plain_requests: Type.Integer({ description: 'Plain-decoding generations observed.' }),
    drafters: regimeFields.drafters,
    greedy: GreedyRouting,
  },
  { title: 'LanguageRouting', description: 'choice, static and drafters are for sampled requests; `greedy` for greedy ones.' },
);

export const RoutingResponse = Type.Object(
  {
    mode: Type.Union([Type.Literal('static'), Type.Literal('adaptive')], { description: 'FAIRSPEC_ROUTING_MODE.' }),
    costs: Type.Object({
      verifier_ms_per_step: nullable(Type.Number({ description: 't0: plain verifier ms per step; null before a plain generation.' })),
      verify_cost: Type.Array(Type.Object({ draft_length: Type.Integer(), cost: Type.Number({ description: 'v(gamma): verifier step time at this draft length / t0.' }) })),
      drafters: Type.Array(
        Type.Object({
          drafter: Type.String(),
          ms_per_token: nullable(Type.Number()),
          cost_ratio: nullable(Type.Number()),
          source: nullable(
            Type.Union([Type.Literal('measured'), Type.Literal('previous'), Type.Literal('offline')], {
              description:
                "measured: timed here; previous: timed on the drafter's model before a hot swap (PUT /v1/drafters/{name}), used until " +
                "the new model is timed; offline: eval.json's c.",
            }),
          ),
        }),
      ),
    }),
    languages: Type.Array(LanguageRouting),
  },
  {
    title: 'Routing',
    description: 'The routing policy now: per language and sampling regime its choice, alpha estimates with intervals, c, and expected speed-ups.',
  },
);
export type RoutingResponseBody = Static<typeof RoutingResponse>;
