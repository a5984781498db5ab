// Per-language routing that learns from the requests it serves: which drafter and draft length
// gamma in 0..maxDraftLength maximise the expected speed-up S (see speedup.ts), given online
// estimates of each drafter's acceptance rate alpha on the language (acceptance-estimate.ts) and
// of the cost terms c and v(gamma) (cost-estimate.ts).
//
// The acceptance rate depends on the sampling regime (sampling-regime.ts): a sampled request
// accepts with alpha = sum_x min(p, q), a greedy one only where the argmaxes agree. Each
// (language, drafter) keeps one estimate per regime, and every speculative request feeds both
// (the engine measures both at every drafted position); a request is decided with its regime's
// estimate and its regime's routing table route. The cost terms do not depend on the regime.
//
// Decision for one language, in order:
//   - mode 'static', or the route's drafter (any drafter, if the route is plain) has fewer than
//     minDraftedTokens observed: the routing table's route ('static');
//   - else, among drafters with enough observations, the one with the highest expected S at its
//     gamma* (posterior mean alpha) whose S at the lower 95% bound of alpha still exceeds
//     1 + margin ('estimate'). Requiring the lower bound and a margin keeps noise, and the error of
//     the cost model, from flipping a language between speculation and plain decoding;
//   - else plain decoding ('no-speedup').
// Exploration: with probability explorationRate, choose() instead speculates with another drafter
// at the short explorationDraftLength ('explore'), so a language sent to plain decoding keeps
// measuring its drafters and comes back when one improves. Speculative decoding is lossless: this
// costs some speed on those requests, never a different output.
// A fixed drafter (an experiment arm that names one): forDrafter() picks only gamma, by the same
// rules restricted to that drafter, and never explores, so the arm measures what it names.
// A drafter replaced by another model (a hot swap, drafterReplaced()) is not reset: its
// acceptance estimates keep their means and their readiness, so no language's route changes at
// the moment of the swap, but their evidence is cut to priorStrength drafted tokens (the weight
// of an offline prior), so the new model's own observations outweigh the old model's within a
// request or two instead of over a half-life (8192 tokens, which a language at plain decoding
// only gathers through exploration). Its cost c is the old model's until the new model is first
// timed, then the new model's alone (cost-estimate.ts). A language that had gone plain with the
// old model thus comes back through exploration, as it would if the drafter had improved in place.
// A failing drafter (drafter-health.ts, through `available`) is routed around in both modes until
// its cool-down ends: the best other drafter that pays, else plain decoding ('drafter-failing').
// Statistics that no estimate can take (NaN, out of range) are dropped, never thrown: bookkeeping
// after a generation must not fail the request it describes (issue 16).
import type { SpeculativeStats } from '../engine/types.js';
import type { RandomSource } from '../engine/random.js';
import { UNKNOWN } from '../language.js';
import { AcceptanceEstimate, type AcceptanceInterval } from './acceptance-estimate.js';
import { CostEstimate, type CostSnapshot } from './cost-estimate.js';
import { MAX_DRAFT_LENGTH, RoutingTableError, type Route, type RoutingTable } from './routing-table.js';
import type { SamplingRegime } from './sampling-regime.js';
import { bestDraftLength, speedup } from './speedup.js';

export type RoutingMode = 'static' | 'adaptive';
export type ChoiceReason = 'static' | 'estimate' | 'explore' | 'no-speedup' | 'drafter-failing';

export interface RoutingChoice extends Route {
  reason: ChoiceReason;
}

export interface AdaptivePolicyOptions {
  mode: RoutingMode;
  table: Pick<RoutingTable, 'resolve' | 'languages'>;
  /** Drafter names in the pack. */
  drafters: readonly string[];
  /** Largest gamma the policy picks; default 8. */
  maxDraftLength?: number;
  /** Drafted tokens seen for a (language, drafter) before its estimate is used; default 512. */
  minDraftedTokens?: number;
  /** Forgetting of alpha evidence, in drafted tokens; default 8192. */
  halfLifeTokens?: number;
  /** Forgetting of step timings, in steps; default 2048. */
  costHalfLifeSteps?: number;
  /** Offline alpha by language, then drafter (the pack's evaluation): the sampled regime's prior mean. */
  offlineAlpha?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Offline greedy agreement by language, then drafter: the greedy regime's prior mean. */
  offlineGreedyAgreement?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Weight of an offline prior, in drafted tokens; default 64. Without one the prior is Beta(1, 1). */
  priorStrength?: number;
  /** Offline c by drafter, used until the drafter is timed here. */
  offlineCost?: Readonly<Record<string, number>>;
  /** Share of choose() calls that explore; default 0.03. */
  explorationRate?: number;
  /** gamma used when exploring; default 2. */
  explorationDraftLength?: number;
  /** S at the lower alpha bound must exceed 1 + margin to speculate; default 0.02. */
  margin?: number;
  /** Uniform [0, 1) source for exploration; default Math.random. */
  random?: RandomSource;
  /**
   * Whether a drafter may be routed to now; default: every drafter. A failing one
   * (drafter-health.ts) is routed around: another drafter that pays, else plain decoding
   * ('drafter-failing'); exploration skips it.
   */
  available?: (drafter: string) => boolean;
  /** Where the options came from, for error messages. */
  source?: string;
}

export interface DrafterSnapshot {
  /** The regime's acceptance rate: alpha (sampled) or argmax agreement (greedy). */
  alpha: AcceptanceInterval;
  observedTokens: number;
  requests: number;
  /** Enough observations, and a known cost, for the estimate to be used. */
  ready: boolean;
  costRatio: number | null;
  /** gamma* at the posterior mean alpha, and S there (expected, and at the lower alpha bound). */
  draftLength: number;
  speedup: number;
  speedupLower: number;
}

/** One sampling regime of one language. */
export interface RegimeSnapshot {
  /** What choose() returns for the regime when it does not explore. */
  choice: RoutingChoice;
  /** S of `choice` at the posterior mean alpha: 1 for plain decoding, null while its drafter's c is unknown. */
  expectedSpeedup: number | null;
  static: Route;
  drafters: Record<string, DrafterSnapshot>;
}

/** The sampled regime's fields at the top level (what they always meant), the greedy one beside. */
export interface LanguageSnapshot extends RegimeSnapshot {
  plainRequests: number;
  greedy: RegimeSnapshot;
}

export interface PolicySnapshot {
  mode: RoutingMode;
  costs: CostSnapshot;
  languages: Record<string, LanguageSnapshot>;
}

const WEAK_PRIOR = { prior: 0.5, priorStrength: 2 };
/** Plain decoding because the drafter the route would take is failing. */
const FAILING: RoutingChoice = Object.freeze({ drafter: null, draftLength: 0, reason: 'drafter-failing' });

export class AdaptivePolicy {
  readonly mode: RoutingMode;
  readonly #table: AdaptivePolicyOptions['table'];
  readonly #drafters: readonly string[];
  readonly #settings: Required<Omit<AdaptivePolicyOptions, 'mode' | 'table' | 'drafters' | 'offlineCost' | 'random' | 'source' | 'available'>>;
  readonly #random: RandomSource;
  readonly #available: (drafter: string) => boolean;
  readonly #costs: CostEstimate;
  /** Acceptance estimates by regime, language key, then drafter. */
  readonly #estimates: Record<SamplingRegime, Map<string, Map<string, AcceptanceEstimate>>> = { sampled: new Map(), greedy: new Map() };
  readonly #plainRequests = new Map<string, number>();

  constructor(options: AdaptivePolicyOptions) {
    checkOptions(options);
    this.mode = options.mode;
    this.#table = options.table;
    this.#drafters = [...options.drafters];
    this.#settings = {
      maxDraftLength: options.maxDraftLength ?? 8,
      minDraftedTokens: options.minDraftedTokens ?? 512,
      halfLifeTokens: options.halfLifeTokens ?? 8192,
      costHalfLifeSteps: options.costHalfLifeSteps ?? 2048,
      offlineAlpha: options.offlineAlpha ?? {},
      offlineGreedyAgreement: options.offlineGreedyAgreement ?? {},
      priorStrength: options.priorStrength ?? 64,
      explorationRate: options.explorationRate ?? 0.03,
      explorationDraftLength: options.explorationDraftLength ?? 2,
      margin: options.margin ?? 0.02,
    };
    this.#random = options.random ?? { next: Math.random };
    this.#available = options.available ?? (() => true);
    this.#costs = new CostEstimate({ halfLifeSteps: this.#settings.costHalfLifeSteps, offline: options.offlineCost ?? {} });
  }

  /** The route for a request in `language` (null: undetected) sampled in `regime`. */
  choose(language: string | null, regime: SamplingRegime): RoutingChoice {
    const choice = this.#decide(language, regime);
    const rate = this.#settings.explorationRate;
    if (this.mode === 'static' || rate === 0 || this.#random.next() >= rate) return choice;
    const others = this.#drafters.filter((d) => d !== choice.drafter && this.#available(d));
    if (others.length === 0) return choice;
    const drafter = others[Math.min(others.length - 1, Math.floor(this.#random.next() * others.length))]!;
    return { drafter, draftLength: this.#settings.explorationDraftLength, reason: 'explore' };
  }

  /**
   * The route when the drafter is fixed: the routing table's gamma for the language (the default
   * route's when the language's own route is plain, else explorationDraftLength) until the
   * drafter's estimate is ready; then its gamma* when S at the lower alpha bound exceeds
   * 1 + margin, else plain decoding ('no-speedup'). Static mode always gives the table's gamma.
   */
  forDrafter(language: string | null, drafter: string, regime: SamplingRegime): RoutingChoice {
    if (!this.#drafters.includes(drafter)) throw new RangeError(`unknown drafter '${drafter}' (the pack has: ${this.#drafters.join(', ')})`);
    if (!this.#available(drafter)) return FAILING;
    const fixed: RoutingChoice = { drafter, draftLength: this.#staticDraftLength(language, regime), reason: 'static' };
    if (this.mode === 'static') return fixed;
    const s = this.#score(language ?? UNKNOWN, drafter, regime);
    if (!s.ready) return fixed;
    if (s.draftLength > 0 && s.speedupLower > 1 + this.#settings.margin) return { drafter, draftLength: s.draftLength, reason: 'estimate' };
    return { drafter: null, draftLength: 0, reason: 'no-speedup' };
  }

  /**
   * A finished request routed to (`drafter`, `draftLength`); plain when either is null / 0. Feeds
   * both regimes' estimates, whatever the request's own regime was. `currentModel` false: the
   * drafter's model was replaced while the request ran, so only the verifier's timing is kept.
   */
  observe(language: string | null, drafter: string | null, draftLength: number, stats: SpeculativeStats, currentModel = true): void {
    const key = language ?? UNKNOWN;
    if (drafter === null || draftLength === 0) {
      this.#costs.observePlain(stats.verifyMs, stats.verifierSteps);
      this.#plainRequests.set(key, (this.#plainRequests.get(key) ?? 0) + 1);
      return;
    }
    if (!this.#drafters.includes(drafter)) throw new RangeError(`unknown drafter '${drafter}' (the pack has: ${this.#drafters.join(', ')})`);
    // A drafter is judged on the positions asked of it, not only those it filled: S(γ) assumes γ
    // drafts every step, so a position prompt lookup left empty counts as one that accepted nothing.
    const positions = Math.max(stats.draftedTokens, Number.isFinite(stats.requestedTokens) ? stats.requestedTokens : 0);
    if (positions === 0 || !usableStats(stats, positions)) return;
    if (!currentModel) {
      this.#costs.observeVerify(draftLength, stats.verifyMs, stats.verifierSteps);
      return;
    }
    this.#estimate(key, drafter, 'sampled').observe(stats.alphaSum, positions);
    this.#estimate(key, drafter, 'greedy').observe(stats.greedyMatches, positions);
    this.#costs.observeSpeculative(drafter, draftLength, stats.draftMs, positions, stats.verifyMs, stats.verifierSteps);
  }

  /**
   * `drafter` now runs a new model (hot swap): every language's acceptance estimates for it keep
   * their mean but at most priorStrength tokens of evidence, and its cost is re-timed (see the
   * comment at the top).
   */
  drafterReplaced(drafter: string): void {
    if (!this.#drafters.includes(drafter)) throw new RangeError(`unknown drafter '${drafter}' (the pack has: ${this.#drafters.join(', ')})`);
    for (const byKey of Object.values(this.#estimates)) {
      for (const perDrafter of byKey.values()) perDrafter.get(drafter)?.discount(this.#settings.priorStrength);
    }
    this.#costs.replaceDrafter(drafter);
  }

  snapshot(): PolicySnapshot {
    const keys = new Set([...this.#table.languages, ...this.#estimates.sampled.keys(), ...this.#plainRequests.keys()]);
    const languages: Record<string, LanguageSnapshot> = {};
    for (const key of [...keys].sort()) {
      languages[key] = {
        ...this.#regimeSnapshot(key, 'sampled'),
        plainRequests: this.#plainRequests.get(key) ?? 0,
        greedy: this.#regimeSnapshot(key, 'greedy'),
      };
    }
    return { mode: this.mode, costs: this.#costs.snapshot(), languages };
  }

  #regimeSnapshot(key: string, regime: SamplingRegime): RegimeSnapshot {
    const language = key === UNKNOWN ? null : key;
    const { drafter, draftLength } = this.#table.resolve(language, regime);
    const choice = this.#decide(language, regime);
    return {
      choice,
      expectedSpeedup: this.#expectedSpeedup(key, choice, regime),
      static: { drafter, draftLength },
      drafters: Object.fromEntries(this.#drafters.map((d) => [d, this.#score(key, d, regime)])),
    };
  }

  #decide(language: string | null, regime: SamplingRegime): RoutingChoice {
    const { drafter, draftLength } = this.#table.resolve(language, regime);
    const fixed: RoutingChoice = drafter === null || this.#available(drafter) ? { drafter, draftLength, reason: 'static' } : FAILING;
    if (this.mode === 'static') return fixed;
    const key = language ?? UNKNOWN;
    const ready = this.#drafters.map((d) => [d, this.#score(key, d, regime)] as const).filter(([, s]) => s.ready);
    const warmedUp = drafter === null ? ready.length > 0 : ready.some(([d]) => d === drafter);
    if (!warmedUp) return fixed;
    const pick = (candidates: typeof ready): (typeof ready)[number] | undefined => {
      let best: (typeof ready)[number] | undefined;
      for (const entry of candidates) {
        const [, s] = entry;
        if (s.draftLength > 0 && s.speedupLower > 1 + this.#settings.margin && (!best || s.speedup > best[1].speedup)) best = entry;
      }
      return best;
    };
    const best = pick(ready);
    if (!best) return { drafter: null, draftLength: 0, reason: 'no-speedup' };
    // The best drafter is failing: the best of the others, else plain decoding.
    const chosen = this.#available(best[0]) ? best : pick(ready.filter(([d]) => this.#available(d)));
    if (!chosen) return FAILING;
    return { drafter: chosen[0], draftLength: chosen[1].draftLength, reason: 'estimate' };
  }

  #expectedSpeedup(key: string, route: Route, regime: SamplingRegime): number | null {
    if (route.drafter === null || route.draftLength === 0) return 1;
    const c = this.#costs.costRatio(route.drafter);
    if (c === undefined) return null;
    const alpha = this.#peek(key, route.drafter, regime).mean;
    return speedup(alpha, route.draftLength, c, this.#costs.verifyCost(route.draftLength));
  }

  /** The table's gamma for a fixed drafter: the language's, else the default route's, else the exploration length. */
  #staticDraftLength(language: string | null, regime: SamplingRegime): number {
    const own = this.#table.resolve(language, regime).draftLength;
    if (own > 0) return own;
    const fallback = this.#table.resolve(null, regime).draftLength;
    return fallback > 0 ? fallback : this.#settings.explorationDraftLength;
  }

  #score(key: string, drafter: string, regime: SamplingRegime): DrafterSnapshot {
    const estimate = this.#peek(key, drafter, regime);
    const alpha = estimate.interval();
    const counts = { alpha, observedTokens: estimate.observedTokens, requests: estimate.requests };
    const c = this.#costs.costRatio(drafter);
    if (c === undefined) return { ...counts, ready: false, costRatio: null, draftLength: 0, speedup: 1, speedupLower: 1 };
    const v = (gamma: number) => this.#costs.verifyCost(gamma);
    const best = bestDraftLength(alpha.mean, c, this.#settings.maxDraftLength, v);
    return {
      ...counts,
      ready: estimate.observedTokens >= this.#settings.minDraftedTokens,
      costRatio: c,
      draftLength: best.draftLength,
      speedup: best.speedup,
      speedupLower: speedup(alpha.lower, best.draftLength, c, v(best.draftLength)),
    };
  }

  /** The estimate, created (and kept) on first use. */
  #estimate(key: string, drafter: string, regime: SamplingRegime): AcceptanceEstimate {
    const byKey = this.#estimates[regime];
    let perDrafter = byKey.get(key);
    if (!perDrafter) byKey.set(key, (perDrafter = new Map()));
    let estimate = perDrafter.get(drafter);
    if (!estimate) perDrafter.set(drafter, (estimate = this.#newEstimate(key, drafter, regime)));
    return estimate;
  }

  /** The estimate, or its prior when nothing was observed yet (not kept: reads must not grow the state). */
  #peek(key: string, drafter: string, regime: SamplingRegime): AcceptanceEstimate {
    return this.#estimates[regime].get(key)?.get(drafter) ?? this.#newEstimate(key, drafter, regime);
  }

  #newEstimate(key: string, drafter: string, regime: SamplingRegime): AcceptanceEstimate {
    const priors = regime === 'greedy' ? this.#settings.offlineGreedyAgreement : this.#settings.offlineAlpha;
    const offline = priors[key]?.[drafter];
    const prior = offline === undefined ? WEAK_PRIOR : { prior: offline, priorStrength: this.#settings.priorStrength };
    return new AcceptanceEstimate({ halfLifeTokens: this.#settings.halfLifeTokens, ...prior });
  }
}

/** Counts an acceptance estimate can take: finite, alphaSum and greedyMatches within [0, draftedTokens <= positions]. */
function usableStats(s: SpeculativeStats, positions: number): boolean {
  const within = (x: number) => Number.isFinite(x) && x >= 0 && x <= s.draftedTokens * (1 + 1e-9) + 1e-6;
  return Number.isFinite(s.draftedTokens) && Number.isFinite(positions) && positions > 0 && within(s.alphaSum) && within(s.greedyMatches);
}

function checkOptions(o: AdaptivePolicyOptions): void {
  const source = o.source ?? 'adaptive routing options';
  const fail = (field: string, value: unknown, reason: string): never => {
    throw new RoutingTableError(field, value, reason, source);
  };
  const known = new Set(o.drafters);
  const isInt = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
  const positive = (x: number) => Number.isFinite(x) && x > 0;
  if (o.mode !== 'static' && o.mode !== 'adaptive') fail('mode', o.mode, "must be 'static' or 'adaptive'");
  const maxDraftLength = o.maxDraftLength ?? 8;
  if (!isInt(maxDraftLength, 1, MAX_DRAFT_LENGTH)) fail('maxDraftLength', maxDraftLength, `must be an integer in [1, ${MAX_DRAFT_LENGTH}]`);
  const explore = o.explorationDraftLength ?? 2;
  if (!isInt(explore, 1, maxDraftLength)) fail('explorationDraftLength', explore, `must be an integer in [1, maxDraftLength = ${maxDraftLength}]`);
  const rate = o.explorationRate ?? 0;
  if (!(rate >= 0 && rate < 1)) fail('explorationRate', rate, 'must be in [0, 1)');
  const min = o.minDraftedTokens ?? 0;
  if (!(Number.isFinite(min) && min >= 0)) fail('minDraftedTokens', min, 'must be a finite number >= 0');
  const margin = o.margin ?? 0;
  if (!(Number.isFinite(margin) && margin >= 0)) fail('margin', margin, 'must be a finite number >= 0');
  for (const field of ['halfLifeTokens', 'costHalfLifeSteps', 'priorStrength'] as const) {
    const value = o[field];
    if (value !== undefined && !positive(value)) fail(field, value, 'must be a finite number > 0');
  }
  for (const [drafter, c] of Object.entries(o.offlineCost ?? {})) {
    if (!known.has(drafter)) fail(`offlineCost.${drafter}`, drafter, 'unknown drafter');
    if (!(Number.isFinite(c) && c >= 0)) fail(`offlineCost.${drafter}`, c, 'must be a finite number >= 0');
  }
  for (const field of ['offlineAlpha', 'offlineGreedyAgreement'] as const) {
    for (const [language, byDrafter] of Object.entries(o[field] ?? {})) {
      for (const [drafter, rate] of Object.entries(byDrafter)) {
        if (!known.has(drafter)) fail(`${field}.${language}.${drafter}`, drafter, 'unknown drafter');
        if (!(rate >= 0 && rate <= 1)) fail(`${field}.${language}.${drafter}`, rate, 'must be in [0, 1]');
      }
    }
  }
}
