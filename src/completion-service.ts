// One completion request from validated parameters to results, without HTTP: checks what the
// schema cannot (model id, server caps, empty prompts, context length counted by the engine's
// tokenizer), detects and routes each prompt's language, takes a place in the queue, runs the
// choices one after another and records per-language metrics.
//
// Routing (src/routing/route-planner.ts): the request's `speculative` override, else the
// experiment arm the request was assigned to, else the routing policy; greedy requests (temperature
// 0, or top_k 1) go by the greedy routes and estimates. Each finished generation goes back to the
// policy (every one, aborted included: its stats are evidence) and to the observers (completed
// ones only: the fairness window and the experiment registry compare speeds, which a generation
// cut short by a client that left would bias).
//
// Choices: for prompts [p0, p1] and n = 2 the choices are p0#0, p0#1, p1#0, p1#1, i.e.
// index = promptIndex * n + j, as in OpenAI's API. With a seed, choice j uses seed + j so the
// n samples differ yet the whole response repeats exactly. Each prompt is routed on its own
// language; a request holds a single queue slot for all of its choices.

import { assertFitsContext } from './engine/context-window.js';
import type { GenerateOptions, GenerateResult, SpeculativeStats } from './engine/types.js';
import { AbortedError, FairspecError } from './errors.js';
import type { Assignment } from './experiments/experiment-store.js';
import type { MetricLabels, MetricsRecorder } from './metrics/metrics-recorder.js';
import type { RequestQueue, Slot } from './request-queue.js';
import { UNKNOWN } from './language.js';
import type { PlannedRoute, RouteRequest } from './routing/route-planner.js';
import type { RouteOverride } from './routing/routing-table.js';
import { samplingRegime } from './routing/sampling-regime.js';
import { summarizeChoice } from './speculative-summary.js';
import type { SpeculativeBody } from './wire/completions.js';

/** What the service needs from the engine (src/engine). */
export interface CompletionEngine {
  /** Verifier context length in tokens (prompt + completion). */
  readonly contextLength: number;
  /** Drafter names in the pack. */
  readonly drafterNames: readonly string[];
  countTokens(text: string): number;
  generate(prompt: string, options: GenerateOptions): Promise<GenerateResult>;
}

/** What the service needs from the experiment registry (src/experiments/experiment-store.ts). */
export interface CompletionExperiments {
  assign(userKey: string): Assignment | null;
}

/** What the service needs from src/routing. */
export interface CompletionRouter {
  detect(text: string): { language: string | null; confidence: number };
  /** Throws FairspecError (FS_UNKNOWN_DRAFTER, FS_INVALID_PARAM) for a bad request override. */
  route(language: string | null, request: RouteRequest): PlannedRoute;
  /**
   * A finished generation in `language` (null: undetected), with what ran and the revision of the
   * drafter model that drafted (absent for plain decoding).
   */
  observe(language: string | null, stats: SpeculativeStats, drafterRevision?: number): void;
}

export interface CompletionParams {
  model: string;
  prompts: string[];
  n: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed?: number;
  stop: string[];
  /** Pins the language instead of detecting it. */
  language?: string;
  speculative?: RouteOverride;
  /**
   * Who sent the request (src/experiments/assignment.ts userKey), for the sticky assignment to an
   * experiment arm. A request that chose its own route (`speculative`) measures that route, not
   * an arm: it joins no experiment.
   */
  userKey?: string;
}

export interface CompletionLimits {
  modelId: string;
  maxTokens: number;
  maxN: number;
}

export interface PlannedChoice {
  index: number;
  prompt: string;
  promptIndex: number;
  language: string;
  /** The detected or pinned language; null when undetected. */
  detected: string | null;
  languageConfidence: number;
  route: PlannedRoute;
  assignment?: Assignment;
  labels: MetricLabels;
  promptTokens: number;
  seed?: number;
}

export interface CompletionPlan {
  params: CompletionParams;
  choices: PlannedChoice[];
  /** Labels of the request as a whole: its first prompt's. */
  labels: MetricLabels;
  promptTokens: number;
}

export interface ChoiceResult {
  index: number;
  text: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
  speculative: SpeculativeBody;
}

export interface RunHooks {
  signal: AbortSignal;
  /** performance.now() when the request arrived, for time-to-first-token. */
  arrivedAt: number;
  onText?: (choiceIndex: number, delta: string) => void;
  onChoiceEnd?: (choice: ChoiceResult) => void;
}

/** Told about every generation that ran to its end (stop or length). */
export type GenerationObserver = (choice: PlannedChoice, result: GenerateResult) => void;

export class CompletionService {
  constructor(
    readonly engine: CompletionEngine,
    readonly router: CompletionRouter,
    readonly experiments: CompletionExperiments,
    readonly queue: RequestQueue,
    readonly metrics: MetricsRecorder,
    readonly limits: CompletionLimits,
    readonly observers: readonly GenerationObserver[] = [],
  ) {}

  /** Synchronous checks and routing; throws FairspecError naming the parameter at fault. */
  plan(params: CompletionParams): CompletionPlan {
    if (params.model !== this.limits.modelId) {
      throw new FairspecError('FS_MODEL_NOT_FOUND', `The model '${params.model}' does not exist.`, 'model');
    }
    if (params.n > this.limits.maxN) {
      throw new FairspecError('FS_INVALID_PARAM', `n must be at most ${this.limits.maxN} on this server, got ${params.n}.`, 'n');
    }
    if (params.maxTokens > this.limits.maxTokens) {
      throw new FairspecError(
        'FS_INVALID_PARAM',
        `max_tokens must be at most ${this.limits.maxTokens} on this server, got ${params.maxTokens}.`,
        'max_tokens',
      );
    }
    if (params.stop.some((s) => !s.isWellFormed())) {
      throw new FairspecError('FS_INVALID_UTF8', 'A stop sequence contains a lone UTF-16 surrogate, which is not valid Unicode.', 'stop');
    }

    const assignment = params.speculative === undefined && params.userKey !== undefined ? this.experiments.assign(params.userKey) : null;
    const choices: PlannedChoice[] = [];
    let promptTokens = 0;
    params.prompts.forEach((prompt, promptIndex) => {
      const param = params.prompts.length > 1 ? `prompt[${promptIndex}]` : 'prompt';
      if (prompt.length === 0) throw new FairspecError('FS_EMPTY_PROMPT', `The ${param} is empty.`, 'prompt');
      // JSON escapes can carry lone surrogates ("\ud800") that no UTF-8 byte sequence encodes.
      if (!prompt.isWellFormed()) {
        throw new FairspecError('FS_INVALID_UTF8', `The ${param} contains a lone UTF-16 surrogate, which is not valid Unicode.`, 'prompt');
      }
      const tokens = this.engine.countTokens(prompt);
      assertFitsContext(tokens, params.maxTokens, this.engine.contextLength, param);
      const detected =
        params.language !== undefined ? { language: params.language, confidence: 1 } : this.router.detect(prompt);
      const arm = assignment?.arm;
      const route = this.router.route(detected.language, {
        regime: samplingRegime(params),
        ...(params.speculative !== undefined && { override: params.speculative }),
        ...(arm !== undefined && { arm }),
      });
      if (route.drafter !== null && !this.engine.drafterNames.includes(route.drafter)) {
        // routing.json names a drafter the pack lacks: a pack error, reported as such.
        throw new Error(`routing chose drafter '${route.drafter}', which the pack does not contain`);
      }
      const language = detected.language ?? UNKNOWN;
      promptTokens += tokens;
      for (let j = 0; j < params.n; j++) {
        choices.push({
          index: promptIndex * params.n + j,
          prompt,
          promptIndex,
          language,
          detected: detected.language,
          languageConfidence: detected.confidence,
          route,
          ...(assignment && { assignment }),
          labels: this.metrics.labels(detected.language, route.drafter, arm?.name),
          promptTokens: tokens,
          seed: params.seed === undefined ? undefined : params.seed + j,
        });
      }
    });
    return { params, choices, labels: choices[0]!.labels, promptTokens };
  }

  /** Takes a queue place or throws FS_QUEUE_FULL / FS_SHUTTING_DOWN (synchronously). */
  admit(plan: CompletionPlan, signal: AbortSignal): Slot {
    const slot = this.queue.reserve(signal);
    if (slot.queued) {
      this.metrics.queued(plan.labels, 1);
      slot.ready.then(
        () => this.metrics.queued(plan.labels, -1),
        () => this.metrics.queued(plan.labels, -1),
      );
    }
    return slot;
  }

  /** Runs every choice in order once the slot is granted; always releases the slot. */
  async run(plan: CompletionPlan, slot: Slot, hooks: RunHooks): Promise<ChoiceResult[]> {
    try {
      await slot.ready;
      this.metrics.running(plan.labels, 1);
      try {
        const results: ChoiceResult[] = [];
        for (const choice of plan.choices) {
          if (hooks.signal.aborted) throw new AbortedError();
          const result = await this.#generate(plan, choice, hooks, results.length === 0);
          results.push(result);
          hooks.onChoiceEnd?.(result);
        }
        return results;
      } finally {
        this.metrics.running(plan.labels, -1);
      }
    } finally {
      slot.release();
    }
  }

  async #generate(plan: CompletionPlan, choice: PlannedChoice, hooks: RunHooks, first: boolean): Promise<ChoiceResult> {
    const p = plan.params;
    const startedAt = performance.now();
    let sawText = false;
    const result = await this.engine.generate(choice.prompt, {
      temperature: p.temperature,
      topP: p.topP,
      topK: p.topK,
      seed: choice.seed,
      maxTokens: p.maxTokens,
      stop: p.stop,
      drafter: choice.route.drafter,
      draftLength: choice.route.draftLength,
      signal: hooks.signal,
      onText: (delta) => {
        sawText = true;
        hooks.onText?.(choice.index, delta);
      },
    });
    this.metrics.observeGeneration(choice.labels, result);
    this.router.observe(choice.detected, result.stats, result.drafterRevision);
    if (result.finishReason !== 'abort') for (const observe of this.observers) observe(choice, result);
    if (first && result.completionTokens > 0) {
      const queued = (startedAt - hooks.arrivedAt) / 1000;
      this.metrics.observeFirstToken(choice.labels, queued + result.firstTokenMs / 1000);
    }
    if (result.finishReason === 'abort') throw new AbortedError();
    // An engine that does not stream still yields the full text for streaming clients.
    if (!sawText && result.text.length > 0) hooks.onText?.(choice.index, result.text);
    return {
      index: choice.index,
      text: result.text,
      finishReason: result.finishReason,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      speculative: summarizeChoice({
        language: choice.language,
        languageConfidence: choice.languageConfidence,
        stats: result.stats,
        ...(choice.assignment && { assignment: { experiment: choice.assignment.experimentId, arm: choice.assignment.arm.name } }),
      }),
    };
  }
}
