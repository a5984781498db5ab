// Schema of GET /v1/routing: the routing policy's state per language (src/routing/adaptive-policy.ts).
import { Type, type Static, type TSchema } from '@fastify/type-provider-typebox';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Reason = Type.Union([Type.Literal('static'), Type.Literal('estimate'), Type.Literal('explore'), Type.Literal('no-speedup')], {
  description: "static: routing.json (static mode, or too few observations yet); estimate: the best expected speed-up; no-speedup: no drafter pays, plain decoding.",
});

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
      { description: 'Posterior of the acceptance rate alpha on this language (Beta, exponential forgetting; the prior is the offline alpha from eval.json when the pack has one).' },
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

const LanguageRouting = Type.Object(
  {
    language: Type.String({ description: "Language code; 'other' pools languages without their own entry; 'unknown': not detected." }),
    choice: Type.Object({
      drafter: nullable(Type.String()),
      draft_length: Type.Integer(),
      reason: Reason,
      expected_speedup: nullable(Type.Number({ description: 'S of this choice at the posterior mean alpha; 1 for plain decoding; null while c is unknown.' })),
    }),
    static: Type.Object({ drafter: nullable(Type.String()), draft_length: Type.Integer() }, { description: 'The routing table route (routing.json and config overrides).' }),
    plain_requests: Type.Integer({ description: 'Plain-decoding generations observed.' }),
    drafters: Type.Array(DrafterEstimate),
  },
  { title: 'LanguageRouting' },
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
          source: nullable(Type.Union([Type.Literal('measured'), Type.Literal('offline')])),
        }),
      ),
    }),
    languages: Type.Array(LanguageRouting),
  },
  { title: 'Routing', description: 'The routing policy now: per language its choice, alpha estimates with intervals, c, and expected speed-ups.' },
);
export type RoutingResponseBody = Static<typeof RoutingResponse>;
