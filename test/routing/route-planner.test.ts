import t from 'tap';
import type { SpeculativeStats } from '../../src/engine/types.js';
import { RoutePlanner, type RoutePlannerOptions } from '../../src/routing/route-planner.js';
import { RoutingTable } from '../../src/routing/routing-table.js';

const drafters = ['d-base', 'd-scdf'];
const table = new RoutingTable(
  {
    default: { drafter: 'd-scdf', draft_length: 4 },
    languages: { en: { drafter: 'd-scdf', draft_length: 5 }, am: { drafter: 'd-base', draft_length: 3 }, yo: { drafter: null, draft_length: 0 } },
  },
  { drafters },
);
const planner = (options: Partial<RoutePlannerOptions> = {}) =>
  new RoutePlanner({ mode: 'adaptive', table, drafters, languages: ['ja'], minDraftedTokens: 500, explorationRate: 0, ...options });

/** A request with 100 drafted tokens at alpha, argmax agreement and drafter cost c (verifier 10 ms per step). */
function spec(drafter: string, gamma: number, alpha: number, c: number, agreement = alpha): SpeculativeStats {
  const steps = Math.ceil(100 / gamma);
  return {
    drafter, draftLength: gamma, drafts: steps, draftedTokens: 100, requestedTokens: 100, acceptedTokens: Math.round(alpha * 100),
    acceptedPerPosition: [], alphaSum: alpha * 100, greedyMatches: Math.round(agreement * 100), crossEntropySum: 0, verifierSteps: steps, draftMs: c * 10 * 100, verifyMs: 10 * steps,
  };
}
const plain: SpeculativeStats = { ...spec('x', 1, 0, 0), drafter: null, draftLength: 0, drafts: 0, draftedTokens: 0, requestedTokens: 0, alphaSum: 0, greedyMatches: 0, acceptedTokens: 0, draftMs: 0 };
const S = { regime: 'sampled' } as const;
const G = { regime: 'greedy' } as const;

t.test('precedence: the request override, a plain arm, an arm drafter, the policy', async (t) => {
  const p = planner();
  t.same(p.route('en', S), { drafter: 'd-scdf', draftLength: 5, reason: 'static' }, 'the policy (not warmed up: the table)');
  t.same(p.route('en', { ...S, override: { draftLength: 2 } }), { drafter: 'd-scdf', draftLength: 2, reason: 'override' });
  t.same(p.route('yo', { ...S, override: { draftLength: 2 } }), { drafter: null, draftLength: 0, reason: 'override' }, 'over the table, as before');
  t.same(p.route('en', { ...S, arm: { drafter: null } }), { drafter: null, draftLength: 0, reason: 'arm' });
  t.same(p.route('en', { ...S, arm: { drafter: 'd-base' } }), { drafter: 'd-base', draftLength: 5, reason: 'static' });
  t.same(p.route('en', { ...S, override: { drafter: null }, arm: { drafter: 'd-base' } }).reason, 'override', 'an override wins over an arm');
  t.throws(() => p.route('en', { ...S, override: { drafter: 'nope' } }), { code: 'FS_UNKNOWN_DRAFTER' });
});

t.test("an arm's policy mode wins over the configured mode", async (t) => {
  for (const mode of ['static', 'adaptive'] as const) {
    const p = planner({ mode });
    for (let i = 0; i < 10; i++) p.observe('am', plain);
    for (let i = 0; i < 10; i++) p.observe('am', spec('d-base', 3, 0.1, 0.5)); // d-base does not pay on am
    t.same(p.route('am', { ...S, arm: { policy: 'adaptive' } }), { drafter: null, draftLength: 0, reason: 'no-speedup' }, `${mode} server, adaptive arm`);
    t.same(p.route('am', { ...S, arm: { policy: 'static' } }), { drafter: 'd-base', draftLength: 3, reason: 'static' }, `${mode} server, static arm`);
    t.same(p.route('am', { ...S, arm: { drafter: 'd-base', policy: 'adaptive' } }).reason, 'no-speedup');
    t.equal(p.route('am', S).reason, mode === 'static' ? 'static' : 'no-speedup', 'no arm: the configured mode');
    t.equal(p.snapshot().mode, mode);
    t.equal(p.snapshot().languages.am!.drafters['d-base']!.observedTokens, 1000, 'both modes learn from every request');
  }
});

t.test('languages outside the table and the label set pool under other', async (t) => {
  const p = planner();
  t.same(['en', 'yo', 'ja', 'pt', 'xx', null].map((l) => p.key(l)), ['en', 'yo', 'ja', 'other', 'other', null]);
  for (const language of ['pt', 'xx', 'sw', 'ko']) p.observe(language, spec('d-scdf', 4, 0.6, 0.1));
  p.observe('ja', spec('d-scdf', 4, 0.6, 0.1));
  p.observe(null, spec('d-scdf', 4, 0.6, 0.1));
  const languages = Object.keys(p.snapshot().languages);
  t.same(languages, ['am', 'en', 'ja', 'other', 'unknown', 'yo'], 'four languages, one pooled entry');
  t.equal(p.snapshot().languages.other!.drafters['d-scdf']!.requests, 4);
  t.same(p.route('pt', S), { drafter: 'd-scdf', draftLength: 4, reason: 'static' }, "'other' routes by the table's default");
});

t.test('greedy requests: the greedy routes and estimates, through the policy, arms and overrides', async (t) => {
  const split = new RoutingTable(
    {
      default: { drafter: 'd-scdf', draft_length: 4 },
      languages: { ta: { drafter: 'd-scdf', draft_length: 6 } },
      greedy: { default: { drafter: 'd-scdf', draft_length: 2 }, languages: { ta: { drafter: null, draft_length: 0 } } },
    },
    { drafters },
  );
  const p = planner({ table: split });
  t.same(p.route('ta', G), { drafter: null, draftLength: 0, reason: 'static' }, "ta's greedy route, before warm-up");
  t.same(p.route('ta', S), { drafter: 'd-scdf', draftLength: 6, reason: 'static' });
  t.same(p.route('ta', { ...G, override: { drafter: 'd-base' } }), { drafter: null, draftLength: 0, reason: 'override' }, 'over the greedy route: plain has no gamma to keep');
  t.same(p.route('ta', { ...G, override: { drafter: 'd-base', draftLength: 3 } }), { drafter: 'd-base', draftLength: 3, reason: 'override' });
  t.same(p.route('ta', { ...G, arm: { drafter: 'd-base', policy: 'static' } }), { drafter: 'd-base', draftLength: 2, reason: 'static' }, "an arm's drafter at the greedy default's gamma");

  for (let i = 0; i < 10; i++) p.observe('en', plain);
  for (let i = 0; i < 10; i++) p.observe('en', spec('d-scdf', 4, 0.9, 0.05, 0.02));
  t.same(p.route('en', S).reason, 'estimate');
  t.same(p.route('en', G), { drafter: null, draftLength: 0, reason: 'no-speedup' }, 'agreement 0.02: plain for greedy requests');
  t.same(p.route('en', { ...G, arm: { drafter: 'd-scdf' } }), { drafter: null, draftLength: 0, reason: 'no-speedup' }, 'adaptive arms route by regime too');
  t.equal(p.route('en', { ...G, arm: { drafter: 'd-scdf', policy: 'static' } }).drafter, 'd-scdf', 'a static arm keeps the table');
});

t.test('a bad mode is refused', async (t) => {
  t.throws(() => planner({ mode: 'fast' as never }), RangeError);
});

t.test("a drafter's replacement reaches both policies; observations of the replaced model only time the verifier", async (t) => {
  const p = planner();
  for (let i = 0; i < 6; i++) p.observe('am', spec('d-base', 3, 0.8, 0.05), 1);
  p.observe('am', plain);
  const alpha = () => p.snapshot().languages.am!.drafters['d-base']!;
  const before = alpha();
  t.equal(before.requests, 6, 'no revision known yet: every observation counts');
  p.drafterReplaced('d-base', 3);
  t.equal(p.snapshot().costs.drafters['d-base']!.source, 'previous');
  p.observe('am', spec('d-base', 3, 0.1, 3), 1);
  p.observe('am', spec('d-base', 3, 0.1, 3), 2);
  t.equal(alpha().requests, 6, 'revisions 1 and 2 drafted with models that are gone');
  t.equal(p.snapshot().costs.drafters['d-base']!.source, 'previous');
  p.drafterReplaced('d-base', 2);
  t.equal(p.snapshot().costs.drafters['d-base']!.source, 'previous', 'a late report of an older swap changes nothing');
  p.observe('am', spec('d-base', 3, 0.8, 0.05), 3);
  t.equal(alpha().requests, 7);
  t.equal(p.snapshot().costs.drafters['d-base']!.source, 'measured');
  p.observe('am', spec('d-scdf', 3, 0.8, 0.05), 1);
  t.equal(p.snapshot().languages.am!.drafters['d-scdf']!.requests, 1, 'other drafters keep their revisions');
});

t.test('issue 16: a failing drafter is routed around by every step until its cool-down ends', async (t) => {
  let now = 0;
  for (const mode of ['static', 'adaptive'] as const) {
    const p = planner({ mode, drafterCoolDownMs: 1000, now: () => now });
    t.equal(p.drafterFailed('d-scdf'), true, 'the first fault starts a burst');
    t.equal(p.drafterFailed('d-scdf'), false, 'the next is part of it');
    const failing = { drafter: null, draftLength: 0, reason: 'drafter-failing' };
    t.same(p.route('en', S), failing, `${mode}: the table's drafter is failing`);
    t.same(p.route('en', { ...S, override: { drafter: 'd-scdf', draftLength: 3 } }), failing, 'an override too');
    t.same(p.route('en', { ...S, arm: { drafter: 'd-scdf' } }), failing, 'an arm naming it too');
    t.same(p.route('am', S), { drafter: 'd-base', draftLength: 3, reason: 'static' }, 'the other drafter serves');
    t.same(p.route('yo', { ...S, override: { draftLength: 0 } }).reason, 'override', 'plain stays plain');
    t.equal(p.snapshot().languages.en!.choice.reason, 'drafter-failing', 'GET /v1/routing says so');
    now += 1000;
    t.same(p.route('en', S), { drafter: 'd-scdf', draftLength: 5, reason: 'static' }, `${mode}: back after the cool-down`);
    p.drafterFailed('d-scdf');
    p.drafterReplaced('d-scdf', 2);
    t.equal(p.drafterFailing('d-scdf'), false, 'a new model is not failing');
    t.equal(p.drafterFailed('d-scdf', 1), false, "a replaced model's fault changes nothing");
    t.equal(p.drafterFailing('d-scdf'), false);
    now += 1000;
  }
});

t.test('issue 16: adaptive routing takes the best drafter that is not failing', async (t) => {
  let now = 0;
  const p = planner({ drafterCoolDownMs: 1000, now: () => now });
  for (let i = 0; i < 6; i++) {
    p.observe('en', spec('d-scdf', 4, 0.9, 0.05));
    p.observe('en', spec('d-base', 4, 0.7, 0.05));
    p.observe('en', plain);
  }
  t.match(p.route('en', S), { drafter: 'd-scdf', reason: 'estimate' }, 'the better one');
  p.drafterFailed('d-scdf');
  t.match(p.route('en', S), { drafter: 'd-base', reason: 'estimate' }, 'the next best while it fails');
  p.drafterFailed('d-base');
  t.same(p.route('en', S), { drafter: null, draftLength: 0, reason: 'drafter-failing' }, 'plain when both fail');
  const explorer = planner({ explorationRate: 0.99, drafterCoolDownMs: 1000, now: () => now });
  explorer.drafterFailed('d-base');
  for (let i = 0; i < 50; i++) t.not(explorer.route('en', S).drafter, 'd-base', 'exploration skips it');
});

t.test('issue 16: statistics no estimate can take are dropped, not thrown', async (t) => {
  const p = planner();
  const before = JSON.stringify(p.snapshot().languages);
  for (const bad of [{ alphaSum: Number.NaN }, { greedyMatches: Number.NaN }, { alphaSum: 1e9 }, { alphaSum: -5 }, { draftedTokens: Number.POSITIVE_INFINITY }]) {
    t.doesNotThrow(() => p.observe('en', { ...spec('d-scdf', 4, 0.8, 0.1), ...bad }), JSON.stringify(bad));
  }
  t.equal(JSON.stringify(p.snapshot().languages), before, 'no estimate moved');
  p.observe('en', spec('d-scdf', 4, 0.8, 0.1));
  t.ok(p.snapshot().languages.en!.drafters['d-scdf']!.observedTokens === 100, 'a good one still counts');
});
