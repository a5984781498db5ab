// Schemas of the experiments admin API (plugins/experiments.ts). The request body is
// src/experiments/experiment.ts's own ExperimentSchema; responses are the registry's experiments
// and the analysis summary (src/experiments/analysis.ts) in snake_case, mapped field by field in
// experiment-summary.ts.

import { Type, type Static } from 'typebox';
import { nullable } from './nullable.js';

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

export const ReadoutQuery = Type.Object(
  {
    scope: Type.Optional(
      Type.Union([Type.Literal('replica'), Type.Literal('cluster')], {
        description:
          "replica (default): this server's own observations; cluster: every replica's and restart's, from their counters in " +
          'Prometheus (FAIRSPEC_PROMETHEUS_URL).',
      }),
    ),
  },
  { additionalProperties: false },
);

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
    tokens_per_second: nullable(Type.Object({ estimate: Type.Number(), ci: nullable(Interval) }, {
      description: 'Σ completion tokens / Σ generation seconds over the requests; ci: delta method with the request as the unit.',
    })),
    speed_up: nullable(Type.Object({ estimate: Type.Number(), ci: nullable(Interval) }, {
      description:
        "Speed-up over plain decoding: tokens per second over the plain reference's (each a ratio of sums), so plain decoding reads 1. " +
        "ci: delta method over both, the reference's noise included. null without a plain reference.",
    })),
    cross_entropy: nullable(Type.Number({ description: 'K_L in nats per drafted token.' })),
    plain_reference: nullable(
      Type.Object(
        {
          ms_per_token: Type.Number({ description: 'Σ ms / Σ tokens of its plain requests.' }),
          source: Type.Union([Type.Literal('language'), Type.Literal('pooled')], {
            description: "language: this language's plain requests; pooled: all languages' (below 10 of the language's own).",
          }),
          requests: Type.Integer(),
          scope: Type.Union([Type.Literal('experiment'), Type.Literal('server')], {
            description: "experiment: the experiment's plain arms (drafter null); server: the server's plain requests since the experiment was created.",
          }),
        },
        { description: 'What speed_up divides by.' },
      ),
    ),
    latency_ms: Type.Object(
      {
        method: Type.Union([Type.Literal('sample'), Type.Literal('histogram')], {
          description:
            "sample: order statistics of a uniform sample of this replica's requests (scope replica); histogram: the cell's " +
            "fixed buckets summed over replicas (scope cluster), p50/p95 as Prometheus' histogram_quantile, intervals widened to bucket edges.",
        }),
        samples: Type.Integer({ description: 'Requests the quantiles come from.' }),
        p50: nullable(Estimate),
        p95: nullable(Estimate),
      },
      { description: 'Generation time quantiles with distribution-free 95% intervals. Quantiles do not add across replicas, so the cluster read-out takes them from histograms.' },
    ),
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
  {
    title: 'DifferenceTest',
    description: 'tokens_per_second and speed_up: difference of ratios of sums, delta-method t-test; acceptance_rate: Welch on per-request rates.',
  },
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
      'Parametric bootstrap: each (arm, language) speed-up drawn from N(estimate, se²) of its delta-method interval, each arm reduced to its minimum; ci is the percentile interval of the drawn differences.',
  },
);

export const ExperimentSummary = Type.Object(
  {
    id: Type.String(),
    salt: Type.String(),
    description: Type.Optional(Type.String()),
    enabled: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    scope: Type.Union([Type.Literal('replica'), Type.Literal('cluster')], {
      description: "replica: this server's observations since it started; cluster: every replica's and restart's, summed in Prometheus.",
    }),
    processes: Type.Integer({ description: 'Server processes whose observations the read-out sums (1 for scope replica).' }),
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
      { description: 'Each treatment arm against the control, per language; speed_up over the same plain reference.' },
    ),
    worst_language: Type.Array(WorstLanguageComparison, {
      description: "Each treatment arm's worst-language speed-up against the control's (absent for an arm that shares no measured language with it).",
    }),
  },
  { title: 'ExperimentSummary' },
);

/** The read-out as it goes on the wire. */
export type ExperimentSummaryBody = Static<typeof ExperimentSummary>;
