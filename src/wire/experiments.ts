// Schemas of the experiments admin API. The request body is src/experiments/experiment.ts's own
// ExperimentSchema; responses are the registry's experiments and the analysis summary
// (src/experiments/analysis.ts) in snake_case.

import { Type, type TSchema } from '@fastify/type-provider-typebox';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Interval = Type.Object({ low: Type.Number(), high: Type.Number() }, { title: 'Interval' });
const Estimate = Type.Object(
  { estimate: Type.Number(), ci: nullable(Interval) },
  { title: 'Estimate', description: 'A point estimate and its confidence interval (null when the data cannot support one).' },
);

const ArmFields = {
  name: Type.String(),
  drafter: Type.Optional(nullable(Type.String({ description: "null: plain decoding; absent: the routing policy's drafter." }))),
  policy: Type.Optional(Type.Union([Type.Literal('static'), Type.Literal('adaptive')])),
  weight: Type.Number(),
};

export const ExperimentView = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('experiment'),
    salt: Type.String(),
    description: Type.Optional(Type.String()),
    enabled: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    arms: Type.Array(Type.Object(ArmFields), { description: 'The first arm is the control.' }),
  },
  { title: 'Experiment' },
);

export const ExperimentList = Type.Object({ object: Type.Literal('list'), data: Type.Array(ExperimentView) }, { title: 'ExperimentList' });

export const ExperimentDeleted = Type.Object(
  { id: Type.String(), object: Type.Literal('experiment'), deleted: Type.Literal(true) },
  { title: 'ExperimentDeleted' },
);

export const ExperimentId = Type.Object({ id: Type.String({ description: 'Experiment id.' }) });

const Cell = Type.Object(
  {
    language: Type.String(),
    requests: Type.Integer({ description: 'Generations (each of n choices counts).' }),
    generated_tokens: Type.Integer(),
    drafts: Type.Integer(),
    drafted_tokens: Type.Integer(),
    accepted_tokens: Type.Integer(),
    verifier_steps: Type.Integer(),
    acceptance_rate: nullable(
      Type.Object({
        estimate: Type.Number({ description: 'accepted / drafted tokens.' }),
        ci: nullable(Interval),
        ci_clustered: nullable(Interval),
      }, { description: 'ci: Wilson over tokens; ci_clustered: delta method with the request as the unit.' }),
    ),
    mean_alpha: nullable(Type.Number()),
    mean_accepted_length: nullable(
      Type.Object({ estimate: Type.Number({ description: '1 + accepted / drafts.' }), ci: nullable(Interval) }, {
        description: 'Tokens per verifier step that checked a draft; ci: 1 + the delta-method interval of accepted / drafts with the request as the unit.',
      }),
    ),
    tokens_per_step: nullable(Estimate),
    tokens_per_second: nullable(Estimate),
    speed_up: nullable(Type.Object({ estimate: Type.Number(), ci: nullable(Interval) }, {
      description: 'Mean per-request speed-up over plain decoding (completion tokens × plain ms per token / total ms); null without plain traffic in the experiment.',
    })),
    cross_entropy: nullable(Type.Number({ description: 'K_L in nats per drafted token.' })),
    plain_reference: nullable(
      Type.Object({ ms_per_token: Type.Number(), source: Type.Union([Type.Literal('language'), Type.Literal('pooled')]), requests: Type.Integer() }),
    ),
    latency_ms: Type.Object({ samples: Type.Integer(), p50: nullable(Estimate), p95: nullable(Estimate) }, {
      description: 'Generation time quantiles with distribution-free 95% intervals.',
    }),
  },
  { title: 'ExperimentCell' },
);

const LanguageValue = Type.Object({ language: Type.String(), value: Type.Number() });
const Disparity = Type.Object(
  {
    languages: Type.Integer(),
    mean: Type.Number(),
    worst: LanguageValue,
    best: LanguageValue,
    max_min_ratio: nullable(Type.Number()),
    sd: Type.Number(),
    cv: nullable(Type.Number()),
  },
  { title: 'Disparity' },
);

const Test = Type.Object(
  {
    difference: Type.Number({ description: 'Treatment minus control.' }),
    ci: Interval,
    t: nullable(Type.Number({ description: 'null when both samples are constant and differ (t is infinite).' })),
    df: Type.Number(),
    p_value: Type.Number(),
    p_adjusted: Type.Number({ description: 'Holm-adjusted over every language × arm of the family.' }),
    significant: Type.Boolean(),
  },
  { title: 'WelchTest' },
);

const WorstLanguage = Type.Object({ language: Type.String(), speed_up: Type.Number() }, { title: 'WorstLanguage' });
const WorstLanguageComparison = Type.Object(
  {
    arm: Type.String(),
    control: Type.String(),
    languages: Type.Integer({ description: 'Languages both arms measured with at least two requests; both minima run over these.' }),
    control_worst: WorstLanguage,
    arm_worst: WorstLanguage,
    difference: Type.Number({ description: 'arm_worst.speed_up − control_worst.speed_up.' }),
    ci: Interval,
    probability_higher: Type.Number({ description: "Share of bootstrap draws in which the arm's worst language is faster than the control's." }),
    draws: Type.Integer(),
  },
  {
    title: 'WorstLanguageComparison',
    description:
      'Parametric bootstrap: each (arm, language) mean speed-up drawn from its normal approximation, each arm reduced to its minimum; ci is the percentile interval of the drawn differences.',
  },
);

export const ExperimentSummary = Type.Object(
  {
    id: Type.String(),
    salt: Type.String(),
    description: Type.Optional(Type.String()),
    enabled: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    confidence: Type.Number(),
    control: Type.String({ description: 'The control arm: the first.' }),
    languages: Type.Array(Type.String()),
    arms: Type.Array(
      Type.Object({
        ...ArmFields,
        share: Type.Number({ description: 'weight / sum of weights.' }),
        requests: Type.Integer(),
        generated_tokens: Type.Integer(),
        languages: Type.Array(Cell),
        fairness: Type.Object(
          { speed_up: nullable(Disparity), cross_entropy: nullable(Disparity), unfairness: nullable(Type.Number({ description: 'U = Var_L(K_L).' })) },
          { description: 'Spread of the per-language values across languages.' },
        ),
      }),
    ),
    comparisons: Type.Array(
      Type.Object({
        language: Type.String(),
        arm: Type.String(),
        control: Type.String(),
        tokens_per_second: nullable(Test),
        speed_up: nullable(Test),
        acceptance_rate: nullable(Test),
      }),
      { description: "Each treatment arm against the control, per language: Welch's t-test." },
    ),
    worst_language: Type.Array(WorstLanguageComparison, {
      description: "Each treatment arm's worst-language speed-up against the control's (absent for an arm that shares no measured language with it).",
    }),
  },
  { title: 'ExperimentSummary' },
);
