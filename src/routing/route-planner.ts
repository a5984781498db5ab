// The route (drafter, draft length) of one generation, and what it teaches the policy.
//
// Precedence, first that applies:
//   1. the request's own `speculative` override, over the routing table (routing-table.ts);
//   2. an experiment arm with drafter null: plain decoding;
//   3. an experiment arm with a drafter: that drafter, gamma from the arm's policy mode
//      (AdaptivePolicy.forDrafter);
//   4. the policy of the arm's mode, else of the configured mode (AdaptivePolicy.choose).
// Every step but the plain arm routes by the request's sampling regime (sampling-regime.ts): the
// table's greedy routes and the greedy acceptance estimates for greedy requests.
// Every finished generation is observed by both policies, overridden ones included: an
// estimate is evidence about the drafter whoever picked the route, and a static-mode server
// still reports live estimates in GET /v1/routing.
//
// A drafter that failed (drafterFailed) is routed around by every step, the request's own
// override included, until its cool-down ends (drafter-health.ts): plain decoding, or in adaptive
// mode another drafter that pays.
//
// Estimates are keyed by language. Only the routing table's languages and the metric label
// languages keep their own; any other language pools into 'other' (whose static route is the
// table's default, as it would be for each of them), so requests naming arbitrary languages
// cannot grow the policy's state.

import type { SpeculativeStats } from '../engine/types.js';
import { AdaptivePolicy, type AdaptivePolicyOptions, type ChoiceReason, type PolicySnapshot, type RoutingMode } from './adaptive-policy.js';
import { DrafterHealth } from './drafter-health.js';
import { OTHER } from '../language.js';
import type { Route, RouteOverride, RoutingTable } from './routing-table.js';
import type { SamplingRegime } from './sampling-regime.js';

/** What an experiment arm asks of routing (src/experiments/experiment.ts Arm). */
export interface ArmRoute {
  /** undefined: the policy's drafter; null: plain decoding. */
  drafter?: string | null;
  policy?: RoutingMode;
}

export interface RouteRequest {
  /** How the request samples: which routes and acceptance estimates apply. */
  regime: SamplingRegime;
  override?: RouteOverride;
  arm?: ArmRoute;
}

export type RouteReason = ChoiceReason | 'override' | 'arm';

export interface PlannedRoute extends Route {
  reason: RouteReason;
}

export interface RoutePlannerOptions extends Omit<AdaptivePolicyOptions, 'mode' | 'table' | 'available'> {
  /** The configured mode (FAIRSPEC_ROUTING_MODE), used unless an arm names one. */
  mode: RoutingMode;
  table: RoutingTable;
  /** Languages with estimates of their own besides the table's (the metric label languages). */
  languages?: Iterable<string>;
  /** How long a drafter is routed around after a fault; default 30 s. */
  drafterCoolDownMs?: number;
  /** Clock of the cool-down, in ms; default performance.now. */
  now?: () => number;
}

export class RoutePlanner {
  readonly mode: RoutingMode;
  readonly #table: RoutingTable;
  readonly #policies: Readonly<Record<RoutingMode, AdaptivePolicy>>;
  readonly #own: ReadonlySet<string>;
  /** The current model revision of each drafter replaced since boot (Engine.drafterRevision). */
  readonly #revisions = new Map<string, number>();
  readonly #health: DrafterHealth;

  constructor({ mode, table, languages = [], drafterCoolDownMs, now, ...policy }: RoutePlannerOptions) {
    if (mode !== 'static' && mode !== 'adaptive') throw new RangeError(`routing mode must be 'static' or 'adaptive', got ${JSON.stringify(mode)}`);
    this.mode = mode;
    this.#table = table;
    this.#own = new Set([...table.languages, ...languages]);
    this.#health = new DrafterHealth({ ...(drafterCoolDownMs !== undefined && { coolDownMs: drafterCoolDownMs }), ...(now && { now }) });
    const available = (drafter: string): boolean => !this.#health.failing(drafter);
    this.#policies = {
      static: new AdaptivePolicy({ ...policy, mode: 'static', table, available }),
      adaptive: new AdaptivePolicy({ ...policy, mode: 'adaptive', table, available }),
    };
  }

  /** The policy's key for a detected or pinned language (null: undetected). */
  key(language: string | null): string | null {
    if (language === null) return null;
    return this.#own.has(language) ? language : OTHER;
  }

  /** Throws FairspecError (FS_UNKNOWN_DRAFTER, FS_INVALID_PARAM) for a bad request override. */
  route(language: string | null, request: RouteRequest): PlannedRoute {
    const { regime, override, arm } = request;
    if (override !== undefined) {
      const { drafter, draftLength } = this.#table.resolve(language, regime, override);
      if (drafter !== null && draftLength > 0 && this.#health.failing(drafter)) return { drafter: null, draftLength: 0, reason: 'drafter-failing' };
      return { drafter, draftLength, reason: 'override' };
    }
    if (arm?.drafter === null) return { drafter: null, draftLength: 0, reason: 'arm' };
    const policy = this.#policies[arm?.policy ?? this.mode];
    const key = this.key(language);
    const { drafter, draftLength, reason } = arm?.drafter !== undefined ? policy.forDrafter(key, arm.drafter, regime) : policy.choose(key, regime);
    return { drafter, draftLength, reason };
  }

  /**
   * One finished generation in `language`, with the engine's stats of what actually ran and the
   * revision of the drafter model that drafted (GenerateResult.drafterRevision). A generation
   * drafted by a model that has since been replaced teaches the policies nothing about the
   * drafter, only about the verifier's cost.
   */
  observe(language: string | null, stats: SpeculativeStats, drafterRevision?: number): void {
    const key = this.key(language);
    const current = this.#isCurrent(stats.drafter, drafterRevision);
    for (const policy of Object.values(this.#policies)) policy.observe(key, stats.drafter, stats.draftLength, stats, current);
  }

  /**
   * Drafter `drafter` was replaced by a new model with `revision` (Engine.replaceDrafter): both
   * policies discount what they learnt of the old model (AdaptivePolicy.drafterReplaced), and the
   * old model's faults no longer keep it from being routed to.
   */
  drafterReplaced(drafter: string, revision: number): void {
    const known = this.#revisions.get(drafter);
    if (known !== undefined && revision <= known) return; // already told, or an older swap reported late
    for (const policy of Object.values(this.#policies)) policy.drafterReplaced(drafter);
    this.#health.reset(drafter);
    this.#revisions.set(drafter, revision);
  }

  /**
   * `drafter` threw or gave unusable logits in a generation: it is routed around for the
   * cool-down. True when this fault starts a burst (the drafter was not failing), the one to log.
   * A fault of a model that has since been replaced (`revision`, as in observe) changes nothing.
   */
  drafterFailed(drafter: string, revision?: number): boolean {
    if (!this.#isCurrent(drafter, revision)) return false; // a replaced model's fault
    return this.#health.failed(drafter);
  }

  /** Whether `drafter` is in its cool-down after a fault. */
  drafterFailing(drafter: string): boolean {
    return this.#health.failing(drafter);
  }

  #isCurrent(drafter: string | null, revision: number | undefined): boolean {
    if (drafter === null || revision === undefined) return true;
    const current = this.#revisions.get(drafter);
    return current === undefined || revision >= current;
  }

  /** The configured mode's policy: per language its choice, estimates and costs. */
  snapshot(): PolicySnapshot {
    return this.#policies[this.mode].snapshot();
  }
}
