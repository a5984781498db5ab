// Per-language Prometheus metrics for speculative decoding, on a registry of its own.
//
// Counter names follow vLLM's spec-decode metrics (vllm/v1/spec_decode/metrics.py) with a
// `fairspec_` prefix. Every series carries `language`, `drafter` and `arm`; all are bounded:
// languages go through the configured label set (anything else is 'other', no detection is
// 'unknown'), drafters are the pack's drafter names plus 'none', and arms are experiment arm
// names, 'none' outside experiments, the first `maxArms` names seen kept and later ones folded
// into 'other' (experiments come and go through the admin API; series never leave prom-client).
//
// Ratios are left to Prometheus (rate of a ratio is wrong, ratio of rates is right):
//   acceptance rate        = rate(fairspec_spec_decode_num_accepted_tokens_total[5m])
//                          / rate(fairspec_spec_decode_num_draft_tokens_total[5m])
//   mean acceptance length = 1 + rate(fairspec_spec_decode_num_accepted_tokens_total[5m])
//                              / rate(fairspec_spec_decode_num_drafts_total[5m])
//   acceptance at pos i    = rate(fairspec_spec_decode_num_accepted_tokens_per_pos_total{position="i"}[5m])
//                          / rate(fairspec_spec_decode_num_drafts_total[5m])
//   mean alpha (exact)     = rate(fairspec_spec_decode_alpha_sum_total[5m])
//                          / rate(fairspec_spec_decode_num_draft_tokens_total[5m])
//   mean K = -sum p log q  = rate(fairspec_spec_decode_cross_entropy_sum_total[5m])
//                          / rate(fairspec_spec_decode_num_draft_tokens_total[5m])
//   unfairness U = Var_L(K_L): stdvar(mean K by language), e.g.
//     stdvar(sum by (language) (rate(fairspec_spec_decode_cross_entropy_sum_total[1h]))
//          / sum by (language) (rate(fairspec_spec_decode_num_draft_tokens_total[1h])))
//   output tokens / s      = sum by (language) (rate(fairspec_generation_tokens_total[1m]))
//   speed-up over plain    = tokens / s of completed generations over plain decoding's, each a
//                            ratio of sums (src/experiments/statistics/speed-up.ts):
//     (sum by (language) (rate(fairspec_completed_generation_tokens_total[5m]))
//        / sum by (language) (rate(fairspec_completed_generation_seconds_total[5m])))
//     / (the same with {drafter="none"})     (grafana/prometheus/rules/recording.yml)
//   p95 TTFT by language   = histogram_quantile(0.95, sum by (le, language)
//                              (rate(fairspec_time_to_first_token_seconds_bucket[5m])))
//
// Beside them, the request series of vLLM's /metrics under fairspec_ names, with vLLM's labels
// (model_name, and finished_reason on the success counter), so dashboards and alerts written for
// vLLM's serving metrics carry over: fairspec_num_requests_{running,waiting},
// fairspec_e2e_request_latency_seconds, fairspec_request_{queue,prefill}_time_seconds and
// fairspec_request_success_total. Every series of the registry, these and all others, carries
// `model_name`: the model id clients send (FAIRSPEC_MODEL_ID).

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GenerateResult } from '../engine/types.js';
import { tokensPerMs } from '../fairness/request-outcome.js';

export interface MetricLabels {
  language: string;
  drafter: string;
  arm: string;
}

export interface MetricsRecorderOptions {
  /** Maps any detected/pinned language to a bounded label value. */
  languageLabel: (language: string | null | undefined) => string;
  /** Drafter names in the pack; anything else is refused as a label. */
  drafters: readonly string[];
  /** Distinct arm names kept as label values since boot; default 32. */
  maxArms?: number;
  /** Also export prom-client's default process metrics (off in unit tests of the class). */
  defaultMetrics?: boolean;
  /** The `model_name` label of every series in the registry (FAIRSPEC_MODEL_ID); none when absent. */
  modelName?: string;
}

export const NO_DRAFTER = 'none';
/** The arm label outside experiments. */
export const NO_ARM = 'none';
/** The arm label of arms past the cap. */
export const OTHER_ARM = 'other';

type L = 'language' | 'drafter' | 'arm';

/** Counters labelled (language, drafter, arm): the key this file uses, the metric and its help. */
const COUNTERS = {
  drafts: { name: 'fairspec_spec_decode_num_drafts_total', help: 'Verifier steps that checked at least one drafted token.' },
  draftTokens: { name: 'fairspec_spec_decode_num_draft_tokens_total', help: 'Drafted tokens proposed to the verifier.' },
  acceptedTokens: { name: 'fairspec_spec_decode_num_accepted_tokens_total', help: 'Drafted tokens accepted by the verifier.' },
  alphaSum: { name: 'fairspec_spec_decode_alpha_sum_total', help: 'Sum over drafted positions of exact alpha(s) = sum_x min(p(x|s), q(x|s)).' },
  crossEntropySum: { name: 'fairspec_spec_decode_cross_entropy_sum_total', help: 'Sum over drafted positions of -sum_x p(x|s) log q(x|s), in nats.' },
  generationTokens: { name: 'fairspec_generation_tokens_total', help: 'Completion tokens generated.' },
  // The two sums a speed-up is the ratio of, over the generations the server's own figures count.
  completedTokens: { name: 'fairspec_completed_generation_tokens_total', help: 'Completion tokens of generations that ran to their end and produced tokens (the speed-up numerator).' },
  completedSeconds: { name: 'fairspec_completed_generation_seconds_total', help: 'Total generation time of the same generations (the speed-up denominator).' },
  promptTokens: { name: 'fairspec_prompt_tokens_total', help: 'Prompt tokens processed (once per generated choice).' },
} as const;
type CounterKey = keyof typeof COUNTERS;

export class MetricsRecorder {
  readonly registry = new Registry();
  readonly #languageLabel: MetricsRecorderOptions['languageLabel'];
  readonly #drafters: Set<string>;
  readonly #arms = new Set<string>();
  readonly #maxArms: number;

  /** The plain per-(language, drafter, arm) counters of COUNTERS. */
  readonly #counters: Record<CounterKey, Counter<L>>;
  readonly #acceptedPerPos: Counter<L | 'position'>;
  readonly #requests: Counter<L | 'status'>;
  readonly #requestDuration: Histogram<L>;
  readonly #ttft: Histogram<L>;
  readonly #tpot: Histogram<L>;
  readonly #queueLength: Gauge<L>;
  readonly #running: Gauge<L>;
  readonly #drafterErrors: Counter<'drafter'>;
  readonly #numRunning: Gauge;
  readonly #numWaiting: Gauge;
  readonly #e2eLatency: Histogram;
  readonly #queueTime: Histogram;
  readonly #prefillTime: Histogram;
  readonly #success: Counter<'finished_reason'>;

  constructor(options: MetricsRecorderOptions) {
    this.#languageLabel = options.languageLabel;
    this.#drafters = new Set(options.drafters);
    this.#maxArms = options.maxArms ?? 32;
    const registers = [this.registry];
    const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
      new Counter<T>({ name, help, labelNames, registers });
    const labels = ['language', 'drafter', 'arm'] as const;
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames: labels, buckets, registers });

    const entries = (Object.keys(COUNTERS) as CounterKey[]).map((key) => [key, counter(COUNTERS[key].name, COUNTERS[key].help, labels)] as const);
    this.#counters = Object.fromEntries(entries) as Record<CounterKey, Counter<L>>;

    this.#acceptedPerPos = counter(
      'fairspec_spec_decode_num_accepted_tokens_per_pos_total',
      'Drafts whose token at draft position `position` (0-based) was accepted.',
      ['language', 'drafter', 'arm', 'position'] as const,
    );
    this.#requests = counter('fairspec_requests_total', 'Completion requests by HTTP status (499: client went away).', [
      'language',
      'drafter',
      'arm',
      'status',
    ] as const);
    this.#requestDuration = histogram(
      'fairspec_request_duration_seconds',
      'Completion request duration from arrival to the last byte, queueing included.',
      [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160],
    );
    this.#ttft = histogram(
      'fairspec_time_to_first_token_seconds',
      'Time from arrival (queueing included) to the first generated token of the response.',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40],
    );
    this.#tpot = histogram(
      'fairspec_time_per_output_token_seconds',
      'Mean time per output token after the first, per choice.',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    );
    this.#queueLength = new Gauge({
      name: 'fairspec_queue_length',
      help: 'Requests waiting for a generation slot.',
      labelNames: labels,
      registers,
    });
    this.#running = new Gauge({
      name: 'fairspec_requests_running',
      help: 'Requests holding a generation slot.',
      labelNames: labels,
      registers,
    });
    // Faults, not traffic: the drafter label alone. A burst is logged once; this counts every fault.
    this.#drafterErrors = counter(
      'fairspec_drafter_errors_total',
      'Drafter forward passes that threw or gave non-finite logits; each one\'s generation went on with plain decoding.',
      ['drafter'] as const,
    );
    for (const drafter of this.#drafters) this.#drafterErrors.inc({ drafter }, 0); // a series to rate() from the start

    this.#numRunning = new Gauge({ name: 'fairspec_num_requests_running', help: 'Requests holding a generation slot (vLLM: num_requests_running).', registers });
    this.#numWaiting = new Gauge({ name: 'fairspec_num_requests_waiting', help: 'Requests waiting for a generation slot (vLLM: num_requests_waiting).', registers });
    this.#e2eLatency = new Histogram({
      name: 'fairspec_e2e_request_latency_seconds',
      help: 'Arrival to the last byte of completion requests answered 200 (vLLM: e2e_request_latency_seconds).',
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320],
      registers,
    });
    this.#queueTime = new Histogram({
      name: 'fairspec_request_queue_time_seconds',
      help: 'Admission to the grant of a generation slot, 0 for a request that did not wait (vLLM: request_queue_time_seconds).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80],
      registers,
    });
    this.#prefillTime = new Histogram({
      name: 'fairspec_request_prefill_time_seconds',
      help: "Start of a generation to its first token: the prompt's forward pass, with a draft when speculative (vLLM: request_prefill_time_seconds).",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#success = counter('fairspec_request_success_total', 'Generations (one per choice) that finished, by finish reason: stop, length or abort (vLLM: request_success_total).', [
      'finished_reason',
    ] as const);
    for (const reason of ['stop', 'length', 'abort']) this.#success.inc({ finished_reason: reason }, 0);
    if (options.modelName !== undefined) this.registry.setDefaultLabels({ model_name: options.modelName });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Bounded label values for a (language, drafter, experiment arm) triple. */
  labels(language: string | null | undefined, drafter: string | null | undefined, arm?: string | null): MetricLabels {
    const d = drafter ?? NO_DRAFTER;
    return { language: this.#languageLabel(language), drafter: this.#drafters.has(d) ? d : NO_DRAFTER, arm: this.#arm(arm) };
  }

  #arm(arm: string | null | undefined): string {
    if (arm === null || arm === undefined || arm === NO_ARM) return NO_ARM;
    if (this.#arms.has(arm)) return arm;
    if (this.#arms.size >= this.#maxArms) return OTHER_ARM;
    this.#arms.add(arm);
    return arm;
  }

  /** One finished (or aborted) generation: token counts, spec-decode counters, time per token. */
  observeGeneration(labels: MetricLabels, result: GenerateResult): void {
    const s = result.stats;
    this.#counters.promptTokens.inc(labels, result.promptTokens);
    this.#counters.generationTokens.inc(labels, result.completionTokens);
    this.#counters.drafts.inc(labels, s.drafts);
    this.#counters.draftTokens.inc(labels, s.draftedTokens);
    this.#counters.acceptedTokens.inc(labels, s.acceptedTokens);
    this.#counters.alphaSum.inc(labels, s.alphaSum);
    this.#counters.crossEntropySum.inc(labels, s.crossEntropySum);
    s.acceptedPerPosition.forEach((count, position) => {
      this.#acceptedPerPos.inc({ ...labels, position: String(position) }, count);
    });
    if (result.finishReason !== 'abort' && tokensPerMs(result) !== null) {
      this.#counters.completedTokens.inc(labels, result.completionTokens);
      this.#counters.completedSeconds.inc(labels, result.totalMs / 1000);
    }
    if (result.completionTokens > 1) {
      this.#tpot.observe(labels, (result.totalMs - result.firstTokenMs) / 1000 / (result.completionTokens - 1));
    }
    if (result.completionTokens > 0) this.#prefillTime.observe(result.firstTokenMs / 1000);
    this.#success.inc({ finished_reason: result.finishReason });
  }

  /** Admission to the grant of a generation slot. */
  observeQueueTime(seconds: number): void {
    this.#queueTime.observe(seconds);
  }

  /** Arrival (queueing included) to the first generated token of a request's first choice. */
  observeFirstToken(labels: MetricLabels, seconds: number): void {
    this.#ttft.observe(labels, seconds);
  }

  observeRequest(labels: MetricLabels, status: number, durationSeconds: number): void {
    this.#requests.inc({ ...labels, status: String(status) });
    this.#requestDuration.observe(labels, durationSeconds);
    if (status === 200) this.#e2eLatency.observe(durationSeconds);
  }

  queued(labels: MetricLabels, delta: 1 | -1): void {
    this.#queueLength.inc(labels, delta);
    this.#numWaiting.inc(delta);
  }

  running(labels: MetricLabels, delta: 1 | -1): void {
    this.#running.inc(labels, delta);
    this.#numRunning.inc(delta);
  }

  /** A drafter fault (a pack drafter's name; anything else counts as 'none'). */
  drafterError(drafter: string): void {
    this.#drafterErrors.inc({ drafter: this.#drafters.has(drafter) ? drafter : NO_DRAFTER });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
