// One completion request from validated parameters to results, without HTTP, in the order that
// keeps work before admission bounded (issue 16): plan() checks what the schema cannot
// (completion-params.ts: caps and numeric edges, prompt length in characters) and detects and
// routes each prompt's language, all cheap; admit() takes a place in the queue or refuses at
// once (full, draining); only then tokenize() encodes the prompts on the engine's worker thread
// and checks the context; run() runs the choices one after another and records per-language
// metrics.
//
// Faults: a drafter that fails mid-generation is reported by the engine, which goes on with
// plain decoding; here it is counted (fairspec_drafter_errors_total), routed around for a
// cool-down (RoutePlanner.drafterFailed) and logged once per burst. A verifier fault fails its
// own request (FS_MODEL_FAULT, a 500) and counts towards readiness (verifierFailing). What
// follows a generation (metrics, routing estimates, observers) is bookkeeping: a fault there is
// logged, never turned into a failed request.
//
// Routing (src/routing/route-planner.ts): the request's `speculative` override, else the
// experiment arm the request was assigned to, else the routing policy; greedy requests (temperature
// 0, or top_k 1) go by the greedy routes and estimates. Each finished generation goes back to the
// policy (every one, aborted included: its stats are evidence) and to the observers (completed
// ones only: the fairness window and the experiment registry compare speeds, which a generation
// cut short by a client that left would bias).
//
// Prompts are text, or token ids (lm-eval's default) which skip tokenisation and are detected on
// their decoded text; a chat's prompt is its rendered template, detected on the user's messages.
// `echo` puts the prompt in front of each choice's text, and with `logprobs` the verifier's
// log-probabilities of the prompt's own tokens in front of the completion's (engine.promptLogprobs).
//
// Choices: for prompts [p0, p1] and n = 2 the choices are p0#0, p0#1, p1#0, p1#1, i.e.
// index = promptIndex * n + j, as in OpenAI's API. With a seed, choice j uses seed + j so the
// n samples differ yet the whole response repeats exactly. Each prompt is routed on its own
// language; a request holds a single queue slot for all of its choices, which run at once as
// sequences of one group of the engine's batch (src/engine/scheduler.ts).

import { checkParams, promptParam } from './completion-params.js';
import { assertFitsContext } from './engine/context-window.js';
import { FaultWindow } from './fault-window.js';
import type { GenerateOptions, GenerateResult, LogitsOptions, SpeculativeStats, TokenLogprob } from './engine/types.js';
import { errorCode } from './error-codes.js';
import { AbortedError } from './errors.js';
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
  /** At most how many characters one token stands for (TextTokenizer.maxTokenChars). */
  readonly maxTokenChars: number;
  /** Token ids are in [0, vocabSize). */
  readonly vocabSize: number;
  /** Token ids of `text`, off the event loop; rejects if `signal` fires first. */
  tokenize(text: string, signal?: AbortSignal, addSpecialTokens?: boolean): Promise<number[]>;
  /** Text of token ids, special tokens skipped. */
  decode(ids: readonly number[]): string;
  /** One token's own text, special tokens included. */
  tokenText(id: number): string;
  /** The verifier's log-probability of each prompt token after those before it (the first: null). */
  promptLogprobs(promptIds: readonly number[], top: number): Promise<Array<TokenLogprob | null>>;
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
  /** A drafter fault (of the model with `revision`); true when it starts a burst (log it). */
  drafterFailed(drafter: string, revision?: number): boolean;
}

/** The log lines the service writes (pino's, Fastify's logger, fits). */
export interface ServiceLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A prompt as text, or as token ids. */
export type Prompt = string | readonly number[];

export interface CompletionParams extends LogitsOptions {
  model: string;
  prompts: Prompt[];
  /** Per prompt, the text its language is detected from (a chat: the user's messages); default: the prompt's text. */
  detectTexts?: string[];
  /** The request field of the prompts, for errors; default 'prompt'. */
  promptField?: 'prompt' | 'messages';
  /** Encode text prompts with the tokenizer's added special tokens (default); false for a rendered chat template, which has its own. */
  addSpecialTokens?: boolean;
  n: number;
  maxTokens: number;
  /** max_tokens was not given (a chat): each choice may take what the context leaves after its prompt, up to maxTokens. */
  fitMaxTokens?: boolean;
  temperature: number;
  topP: number;
  topK: number;
  seed?: number;
  stop: string[];
  /** Each choice's text starts with its prompt. */
  echo?: boolean;
  /** Log-probabilities with this many top alternatives per token; absent: none. */
  logprobs?: number;
  /** vLLM's: eos neither ends the output nor is left out of it. */
  ignoreEos?: boolean;
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
  /** prompts × n × max_tokens of one request. */
  maxRequestWork: number;
}

export interface PlannedChoice {
  index: number;
  /** The prompt as text (token ids decoded). */
  prompt: string;
  promptIndex: number;
  language: string;
  /** The detected or pinned language; null when undetected. */
  detected: string | null;
  languageConfidence: number;
  route: PlannedRoute;
  assignment?: Assignment;
  labels: MetricLabels;
  /** Set by tokenize(). */
  promptTokens: number;
  /** The prompt's token ids; set by tokenize(), shared by the prompt's n choices. */
  promptIds?: readonly number[];
  /** Tokens this choice may generate; set by tokenize(). */
  maxTokens: number;
  seed?: number;
}

export interface CompletionPlan {
  params: CompletionParams;
  choices: PlannedChoice[];
  /** Labels of the request as a whole: its first prompt's. */
  labels: MetricLabels;
  /** Tokens of the prompts, each counted once; set by tokenize(). */
  promptTokens: number;
  tokenized: boolean;
}

/** One token's log-probability for the wire: its text, and the top alternatives'. */
export interface LogprobEntry {
  token: string;
  /** null for a prompt's first token, which nothing predicts. */
  logprob: number | null;
  top: Array<{ token: string; logprob: number }> | null;
}

export interface ChoiceResult {
  index: number;
  text: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
  speculative: SpeculativeBody;
  /** With `logprobs`: one per token of the text (the echoed prompt's first). */
  logprobs?: LogprobEntry[];
}

export interface RunHooks {
  signal: AbortSignal;
  /** performance.now() when the request arrived, for time-to-first-token. */
  arrivedAt: number;
  /**
   * A returned promise holds the generation until it settles (a streaming client's backpressure).
   * With `logprobs`, those of the tokens since the last delta; a choice's last ones may come
   * with its end instead (ChoiceResult.logprobs holds them all).
   */
  onText?: (choiceIndex: number, delta: string, logprobs?: LogprobEntry[]) => void | Promise<void>;
  onChoiceEnd?: (choice: ChoiceResult) => void | Promise<void>;
}

/** Told about every generation that ran to its end (stop or length). */
export type GenerationObserver = (choice: PlannedChoice, result: GenerateResult) => void;

export class CompletionService {
  /** Verifier faults of recent requests (readiness). */
  readonly #verifierFaults = new FaultWindow();

  constructor(
    readonly engine: CompletionEngine,
    readonly router: CompletionRouter,
    readonly experiments: CompletionExperiments,
    readonly queue: RequestQueue,
    readonly metrics: MetricsRecorder,
    readonly limits: CompletionLimits,
    readonly observers: readonly GenerationObserver[] = [],
    readonly log: ServiceLog = { warn: () => {}, error: () => {} },
  ) {}

  /** Repeated verifier faults in the last minute (FaultWindow): the server should leave rotation. */
  get verifierFailing(): boolean {
    return this.#verifierFaults.failing;
  }

  /**
   * Synchronous, cheap checks (no tokenisation) and routing; throws FairspecError naming the
   * parameter at fault.
   */
  plan(params: CompletionParams): CompletionPlan {
    checkParams(params, this.limits, this.engine);

    const assignment = params.speculative === undefined && params.userKey !== undefined ? this.experiments.assign(params.userKey) : null;
    const choices: PlannedChoice[] = [];
    params.prompts.forEach((given, promptIndex) => {
      const prompt = typeof given === 'string' ? given : this.engine.decode(given);
      const detected =
        params.language !== undefined ? { language: params.language, confidence: 1 } : this.router.detect(params.detectTexts?.[promptIndex] ?? prompt);
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
          promptTokens: 0,
          maxTokens: params.maxTokens,
          seed: params.seed === undefined ? undefined : params.seed + j,
        });
      }
    });
    return { params, choices, labels: choices[0]!.labels, promptTokens: 0, tokenized: false };
  }

  /**
   * Encodes each prompt on the engine's worker thread and checks that it fits the context with
   * max_tokens (FS_PROMPT_TOO_LONG); call it once admitted, so the queue bounds this work too.
   * Rejects with AbortedError when `signal` fires first.
   */
  async tokenize(plan: CompletionPlan, signal: AbortSignal): Promise<void> {
    const { params } = plan;
    let total = 0;
    for (const [promptIndex, prompt] of params.prompts.entries()) {
      let ids: readonly number[];
      try {
        ids = typeof prompt === 'string' ? await this.engine.tokenize(prompt, signal, params.addSpecialTokens ?? true) : prompt;
      } catch (err) {
        if (signal.aborted) throw new AbortedError('request aborted while its prompt was tokenised');
        throw err;
      }
      const context = this.engine.contextLength;
      assertFitsContext(ids.length, params.fitMaxTokens ? 1 : params.maxTokens, context, promptParam(params, promptIndex));
      total += ids.length;
      for (const choice of plan.choices) {
        if (choice.promptIndex !== promptIndex) continue;
        choice.promptIds = ids;
        choice.promptTokens = ids.length;
        choice.maxTokens = params.fitMaxTokens ? Math.min(params.maxTokens, context - ids.length) : params.maxTokens;
      }
    }
    plan.promptTokens = total;
    plan.tokenized = true;
  }

  /** Takes a queue place or throws FS_QUEUE_FULL / FS_SHUTTING_DOWN (synchronously). */
  admit(plan: CompletionPlan, signal: AbortSignal): Slot {
    const slot = this.queue.reserve(signal);
    const admittedAt = performance.now();
    slot.ready.then(
      () => this.metrics.observeQueueTime((performance.now() - admittedAt) / 1000),
      () => {},
    );
    if (slot.queued) {
      this.metrics.queued(plan.labels, 1);
      slot.ready.then(
        () => this.metrics.queued(plan.labels, -1),
        () => this.metrics.queued(plan.labels, -1),
      );
    }
    return slot;
  }

  /**
   * Runs every choice once the slot is granted (after tokenize()), all at once: each is a sequence
   * of the engine's batch, sharing rows fairly with other requests. The first choice to fail
   * stops the others. Always releases the slot.
   */
  async run(plan: CompletionPlan, slot: Slot, hooks: RunHooks): Promise<ChoiceResult[]> {
    try {
      if (!plan.tokenized) throw new Error('CompletionService.run: the plan was not tokenised');
      await slot.ready;
      this.metrics.running(plan.labels, 1);
      const group = {};
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      if (hooks.signal.aborted) stop.abort();
      try {
        const choiceHooks = { ...hooks, signal: stop.signal };
        const runs = plan.choices.map(async (choice, i) => {
          try {
            if (stop.signal.aborted) throw new AbortedError();
            const result = await this.#generate(plan, choice, choiceHooks, i === 0, group);
            await hooks.onChoiceEnd?.(result);
            return result;
          } catch (err) {
            stop.abort();
            throw err;
          }
        });
        const settled = await Promise.allSettled(runs);
        // The error that stopped the others, not an abort it caused.
        const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
        const cause = failed.find((e) => !(e instanceof AbortedError)) ?? failed[0];
        if (cause !== undefined) throw cause;
        return settled.map((r) => (r as PromiseFulfilledResult<ChoiceResult>).value);
      } finally {
        hooks.signal.removeEventListener('abort', onAbort);
        this.metrics.running(plan.labels, -1);
      }
    } finally {
      slot.release();
    }
  }

  async #generate(plan: CompletionPlan, choice: PlannedChoice, hooks: RunHooks, first: boolean, group: object): Promise<ChoiceResult> {
    const p = plan.params;
    const startedAt = performance.now();
    const echo = p.echo === true ? choice.prompt : '';
    /** Entries of the echoed prompt, then of the completion as streamed (replaced by the result's at the end). */
    let logprobs: LogprobEntry[] | undefined;
    let echoed = 0;
    let sawText = false;
    let result: GenerateResult;
    try {
      if (p.logprobs !== undefined) {
        logprobs = p.echo === true ? await this.#promptLogprobs(choice, p.logprobs) : [];
        echoed = logprobs.length;
      }
      if (echo !== '' || echoed > 0) await hooks.onText?.(choice.index, echo, logprobs?.slice());
      result = await this.engine.generate(choice.prompt, {
        temperature: p.temperature,
        topP: p.topP,
        topK: p.topK,
        seed: choice.seed,
        ...logitsOptions(p),
        maxTokens: choice.maxTokens,
        stop: p.stop,
        drafter: choice.route.drafter,
        draftLength: choice.route.draftLength,
        language: choice.detected,
        group,
        ...(choice.promptIds && { promptIds: choice.promptIds }),
        ...(p.ignoreEos && { ignoreEos: true }),
        ...(p.logprobs !== undefined && { logprobs: p.logprobs }),
        signal: hooks.signal,
        onText: (delta, tokens) => {
          sawText = true;
          const entries = tokens?.map((t) => this.#entry(t));
          logprobs?.push(...(entries ?? []));
          return hooks.onText?.(choice.index, delta, entries);
        },
        onDrafterError: (drafter, error, revision) => this.#drafterFailed(drafter, error, revision),
      });
    } catch (err) {
      if (errorCode(err) === 'FS_MODEL_FAULT') {
        this.#verifierFaults.record();
        this.log.error({ err, verifierFaults: this.#verifierFaults.recent }, 'verifier fault: the request failed');
      }
      throw err;
    }
    this.#bookkeeping(choice, result, first ? startedAt - hooks.arrivedAt : null);
    if (result.finishReason === 'abort') throw new AbortedError();
    // An engine that does not stream still yields the full text for streaming clients.
    if (!sawText && result.text.length > 0) await hooks.onText?.(choice.index, result.text);
    if (logprobs) {
      // Tokens after the last text delta (those of a cut stop string) go out on their own.
      const streamed = logprobs.length;
      logprobs.splice(echoed, Infinity, ...(result.logprobs ?? []).map((t) => this.#entry(t)));
      if (logprobs.length > streamed) await hooks.onText?.(choice.index, '', logprobs.slice(streamed));
    }
    return {
      index: choice.index,
      text: echo + result.text,
      ...(logprobs && { logprobs }),
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

  /** The echoed prompt's own log-probabilities. */
  async #promptLogprobs(choice: PlannedChoice, top: number): Promise<LogprobEntry[]> {
    const ids = choice.promptIds!;
    const scored = await this.engine.promptLogprobs(ids, top);
    return scored.map((t, i) => (t === null ? { token: this.engine.tokenText(ids[i]!), logprob: null, top: null } : this.#entry(t)));
  }

  #entry(t: TokenLogprob): LogprobEntry {
    return {
      token: this.engine.tokenText(t.token),
      logprob: t.logprob,
      top: t.top.map((a) => ({ token: this.engine.tokenText(a.token), logprob: a.logprob })),
    };
  }

  /** Metrics, routing estimates and observers of a generation; `queuedMs` for the request's first. */
  #bookkeeping(choice: PlannedChoice, result: GenerateResult, queuedMs: number | null): void {
    const steps: Array<[string, () => void]> = [
      ['metrics', () => this.metrics.observeGeneration(choice.labels, result)],
      ['routing', () => this.router.observe(choice.detected, result.stats, result.drafterRevision)],
      ...this.observers.map((observe, i): [string, () => void] => [
        `observer ${i}`,
        () => {
          if (result.finishReason !== 'abort') observe(choice, result);
        },
      ]),
      [
        'first token',
        () => {
          if (queuedMs !== null && result.completionTokens > 0) this.metrics.observeFirstToken(choice.labels, (queuedMs + result.firstTokenMs) / 1000);
        },
      ],
    ];
    for (const [what, step] of steps) {
      try {
        step();
      } catch (err) {
        this.log.error({ err, step: what, language: choice.language, drafter: result.stats.drafter }, 'bookkeeping after a generation failed');
      }
    }
  }

  #drafterFailed(drafter: string, error: Error, revision: number): void {
    this.metrics.drafterError(drafter);
    let burst = false;
    try {
      burst = this.router.drafterFailed(drafter, revision);
    } catch (err) {
      this.log.error({ err, drafter }, 'marking a drafter failing failed');
    }
    if (burst) this.log.warn({ drafter, err: error }, 'drafter failed: plain decoding takes over; routed around for a cool-down');
  }
}

/** The logits processors' options of a request, those it set. */
function logitsOptions(p: LogitsOptions): LogitsOptions {
  const out: LogitsOptions = {};
  for (const key of ['presencePenalty', 'frequencyPenalty', 'repetitionPenalty', 'logitBias', 'minTokens', 'minP'] as const) {
    if (p[key] !== undefined) (out as Record<string, unknown>)[key] = p[key];
  }
  return out;
}
