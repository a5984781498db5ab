import t from 'tap';
import type { SpeculativeStats } from '../../src/engine/types.js';
import { createRandom } from '../../src/engine/random.js';
import { AdaptivePolicy, type AdaptivePolicyOptions, type RoutingChoice } from '../../src/routing/adaptive-policy.js';
import { RoutingTable } from '../../src/routing/routing-table.js';
import { bestDraftLength } from '../../src/routing/speedup.js';

const drafters = ['d-base', 'd-scdf'];
const table = new RoutingTable(
  {
    default: { drafter: 'd-scdf', draft_length: 4 },
    languages: { en: { drafter: 'd-scdf', draft_length: 5 }, am: { drafter: 'd-base', draft_length: 3 }, yo: { drafter: null, draft_length: 0 } },
  },
  { drafters },
);
const NEVER = { next: () => 0.999 }; // never explores
const policy = (options: Partial<AdaptivePolicyOptions> = {}) =>
  new AdaptivePolicy({ mode: 'adaptive', table, drafters, minDraftedTokens: 500, random: NEVER, ...options });

const T0 = 10; // plain verifier ms per step
/**
 * A request with `tokens` drafted positions at exact alpha `alpha`, argmax agreement `agreement`
 * (default: alpha) and drafter cost ratio `c`.
 */
function spec(drafter: string, gamma: number, alpha: number, c: number, tokens = 100, v = 1, agreement = alpha): SpeculativeStats {
  const steps = Math.ceil(tokens / gamma);
  return {
    drafter, draftLength: gamma, drafts: steps, draftedTokens: tokens, requestedTokens: tokens, acceptedTokens: Math.round(alpha * tokens),
    acceptedPerPosition: [], alphaSum: alpha * tokens, greedyMatches: Math.round(agreement * tokens), crossEntropySum: 0,
    verifierSteps: steps, draftMs: c * T0 * tokens, verifyMs: v * T0 * steps,
  };
}
function plain(steps = 100): SpeculativeStats {
  return { ...spec('x', 1, 0, 0, 0), drafter: null, draftLength: 0, drafts: 0, requestedTokens: 0, verifierSteps: steps, verifyMs: T0 * steps, draftMs: 0 };
}
const feed = (p: AdaptivePolicy, lang: string, drafter: string, gamma: number, alpha: number, c: number, requests: number) => {
  for (let i = 0; i < requests; i++) p.observe(lang, drafter, gamma, spec(drafter, gamma, alpha, c));
};

t.test('static mode is exactly the routing table, whatever it observes', async (t) => {
  const p = policy({ mode: 'static', explorationRate: 0.5, random: { next: () => 0 } });
  const before = ['en', 'am', 'yo', 'fr', null].map((l) => p.choose(l, 'sampled'));
  t.same(before[0], { drafter: 'd-scdf', draftLength: 5, reason: 'static' });
  t.same(before[2], { drafter: null, draftLength: 0, reason: 'static' });
  feed(p, 'am', 'd-base', 3, 0.05, 0.5, 50);
  feed(p, 'yo', 'd-scdf', 2, 0.95, 0.01, 50);
  t.same(['en', 'am', 'yo', 'fr', null].map((l) => p.choose(l, 'sampled')), before);
  t.ok(Math.abs(p.snapshot().languages.am!.drafters['d-base']!.alpha.mean - 0.05) < 0.01, 'still estimates, for the snapshot');
});

t.test('the static route until its drafter has minDraftedTokens, then the estimate', async (t) => {
  const p = policy();
  feed(p, 'am', 'd-base', 3, 0.8, 0.05, 4);
  t.same(p.choose('am', 'sampled'), { drafter: 'd-base', draftLength: 3, reason: 'static' }, '400 < 500 drafted tokens');
  feed(p, 'am', 'd-base', 3, 0.8, 0.05, 1);
  const expected = bestDraftLength(p.snapshot().languages.am!.drafters['d-base']!.alpha.mean, 0.05, 8).draftLength;
  t.same(p.choose('am', 'sampled'), { drafter: 'd-base', draftLength: expected, reason: 'estimate' });
  t.not(expected, 3);
  t.same(p.choose('en', 'sampled'), { drafter: 'd-scdf', draftLength: 5, reason: 'static' }, 'other languages untouched');
});

t.test('alpha below c ends at gamma 0; a drafter that improves brings speculation back via exploration', async (t) => {
  const p = policy({ halfLifeTokens: 1000, explorationRate: 0.05, random: createRandom(42) });
  let alpha = 0.2; // d-base on 'am' with c = 0.3: S(gamma) < 1 for every gamma
  const serve = (): RoutingChoice => {
    const choice = p.choose('am', 'sampled');
    if (choice.drafter === null) p.observe('am', null, 0, plain());
    else p.observe('am', choice.drafter, choice.draftLength, spec(choice.drafter, choice.draftLength, choice.drafter === 'd-base' ? alpha : 0.1, 0.3, 50));
    return choice;
  };
  const reasons = new Set<string>();
  for (let i = 0; i < 300; i++) reasons.add(serve().reason);
  t.same(p.snapshot().languages.am!.choice, { drafter: null, draftLength: 0, reason: 'no-speedup' });
  t.ok(reasons.has('explore') && reasons.has('no-speedup'));
  t.notOk(reasons.has('estimate'));

  alpha = 0.9; // the drafter is retrained; only exploration can notice
  let back = -1;
  for (let i = 0; i < 5000 && back < 0; i++) if (serve().reason === 'estimate') back = i;
  t.ok(back > 0, `speculating again after ${back} requests`);
  for (let i = 0; i < 300; i++) serve();
  // alpha 0.9, c 0.3: S(4) = 4.0951 / 2.2 = 1.8614, S(5) = 4.68559 / 2.5 = 1.8742, S(6) = 5.217031 / 2.8 = 1.8632
  t.same(p.snapshot().languages.am!.choice, { drafter: 'd-base', draftLength: 5, reason: 'estimate' });
});

t.test('estimates converge to the fed alpha and c', async (t) => {
  const p = policy();
  for (let i = 0; i < 20; i++) p.observe('en', null, 0, plain());
  feed(p, 'en', 'd-scdf', 5, 0.72, 0.08, 200);
  feed(p, 'en', 'd-base', 2, 0.55, 0.03, 200);
  const snap = p.snapshot();
  const scdf = snap.languages.en!.drafters['d-scdf']!;
  t.ok(Math.abs(scdf.alpha.mean - 0.72) < 0.005, `alpha ${scdf.alpha.mean}`);
  t.ok(scdf.alpha.lower < 0.72 && scdf.alpha.upper > 0.72);
  t.ok(Math.abs(scdf.costRatio! - 0.08) < 1e-9);
  t.ok(Math.abs(snap.costs.drafters['d-base']!.costRatio! - 0.03) < 1e-9);
  t.equal(snap.costs.verifierMsPerStep, T0);
  t.same([scdf.observedTokens, scdf.requests, snap.languages.en!.plainRequests], [20000, 200, 20]);
  t.equal(snap.languages.am!.drafters['d-scdf']!.observedTokens, 0, 'per language');
});

t.test('a drafter that fills few of the positions asked (prompt lookup) is judged on the positions asked', async (t) => {
  const p = policy();
  for (let i = 0; i < 20; i++) p.observe('en', null, 0, plain());
  // 100 positions asked a request, 20 drafted, all accepted: 0.2 of what was asked.
  for (let i = 0; i < 50; i++) p.observe('en', 'd-base', 5, { ...spec('d-base', 5, 1, 0.001, 20), requestedTokens: 100, verifierSteps: 20, verifyMs: 20 * T0 });
  // A request where nothing matched at all still counts: 100 positions, none accepted.
  p.observe('en', 'd-base', 5, { ...spec('d-base', 5, 0, 0.001, 0), requestedTokens: 100, verifierSteps: 20, verifyMs: 20 * T0 });
  const base = p.snapshot().languages.en!.drafters['d-base']!;
  t.ok(Math.abs(base.alpha.mean - 1000 / 5100) < 0.01, `alpha ${base.alpha.mean}: accepted over asked`);
  t.equal(base.observedTokens, 5100);
});

t.test('picks the drafter with the higher expected speed-up, at its gamma*', async (t) => {
  const p = policy();
  feed(p, 'en', 'd-scdf', 5, 0.6, 0.05, 20);
  feed(p, 'en', 'd-base', 2, 0.85, 0.05, 20);
  const d = p.snapshot().languages.en!.drafters;
  t.ok(d['d-base']!.speedup > d['d-scdf']!.speedup);
  t.same(p.choose('en', 'sampled'), { drafter: 'd-base', draftLength: d['d-base']!.draftLength, reason: 'estimate' });
});

t.test('the margin: a speed-up within noise of 1 stays plain', async (t) => {
  const p = policy();
  feed(p, 'am', 'd-base', 1, 0.31, 0.3, 50); // S(1) = 1.31 / 1.3 = 1.008 > 1, but not > 1.02
  t.ok(p.snapshot().languages.am!.drafters['d-base']!.speedup > 1);
  t.same(p.choose('am', 'sampled'), { drafter: null, draftLength: 0, reason: 'no-speedup' });
  t.equal(policy({ margin: 0 }).choose('am', 'sampled').reason, 'static');
});

t.test('gamma chosen increases with alpha', async (t) => {
  const gammas = [0.4, 0.6, 0.8, 0.95].map((alpha) => {
    const p = policy({ maxDraftLength: 16 });
    feed(p, 'en', 'd-scdf', 4, alpha, 0.05, 10);
    return p.choose('en', 'sampled').draftLength;
  });
  t.same(gammas, [...gammas].sort((a, b) => a - b), `gammas ${gammas}`);
  t.ok(gammas[0]! < gammas.at(-1)!);
});

t.test('measured verification cost shortens the draft', async (t) => {
  const flat = policy();
  const steep = policy();
  for (const p of [flat, steep]) for (let i = 0; i < 10; i++) p.observe(null, null, 0, plain());
  for (let g = 1; g <= 8; g++) {
    flat.observe(null, 'd-scdf', g, spec('d-scdf', g, 0.8, 0.05));
    steep.observe(null, 'd-scdf', g, spec('d-scdf', g, 0.8, 0.05, 100, 1 + 0.1 * g));
  }
  t.ok(steep.choose(null, 'sampled').draftLength < flat.choose(null, 'sampled').draftLength);
  t.ok(steep.snapshot().languages.unknown, 'undetected requests are kept under unknown');
});

t.test('exploration: rate within bounds, never the current choice, repeatable with a seed', async (t) => {
  const run = (seed: number, n: number) => {
    const p = policy({ explorationRate: 0.03, random: createRandom(seed) });
    feed(p, 'en', 'd-scdf', 5, 0.8, 0.05, 10);
    return Array.from({ length: n }, () => p.choose('en', 'sampled'));
  };
  const choices = run(7, 20000);
  const explored = choices.filter((c) => c.reason === 'explore');
  const rate = explored.length / choices.length;
  t.ok(rate > 0.025 && rate < 0.035, `rate ${rate}`); // binomial sd 0.0012
  t.ok(explored.every((c) => c.drafter === 'd-base' && c.draftLength === 2));
  t.same(run(7, 500), choices.slice(0, 500), 'same seed, same choices');
  const plainLang = policy({ explorationRate: 0.05, random: createRandom(3) });
  const drafted = new Set(Array.from({ length: 2000 }, () => plainLang.choose('yo', 'sampled')).flatMap((c) => (c.reason === 'explore' ? [c.drafter] : [])));
  t.same([...drafted].sort(), drafters, 'a plain language explores every drafter');
  t.notOk(Array.from({ length: 1000 }, () => policy({ explorationRate: 0 }).choose('en', 'sampled')).some((c) => c.reason === 'explore'));
});

t.test('checks its options at construction, naming the field', async (t) => {
  const bad: [Partial<AdaptivePolicyOptions>, string][] = [
    [{ mode: 'fast' as never }, 'mode'],
    [{ maxDraftLength: 0 }, 'maxDraftLength'],
    [{ maxDraftLength: 4, explorationDraftLength: 5 }, 'explorationDraftLength'],
    [{ explorationRate: 1 }, 'explorationRate'],
    [{ minDraftedTokens: -1 }, 'minDraftedTokens'],
    [{ margin: Number.NaN }, 'margin'],
    [{ halfLifeTokens: 0 }, 'halfLifeTokens'],
    [{ offlineCost: { 'd-huge': 0.1 } }, 'offlineCost.d-huge'],
    [{ offlineAlpha: { am: { 'd-base': 1.2 } } }, 'offlineAlpha.am.d-base'],
  ];
  for (const [options, field] of bad) {
    t.throws(() => policy(options), { name: 'RoutingTableError', code: 'FS_INVALID_ROUTING', field }, field);
  }
  t.throws(() => policy().observe('en', 'd-huge', 2, spec('d-huge', 2, 0.5, 0.1)), RangeError);
});

t.test('offline alpha and c seed the estimates', async (t) => {
  const p = policy({ offlineAlpha: { am: { 'd-base': 0.42 } }, offlineCost: { 'd-base': 0.07 } });
  const d = p.snapshot().languages.am!.drafters['d-base']!;
  t.ok(Math.abs(d.alpha.mean - 0.42) < 1e-12);
  t.equal(d.costRatio, 0.07);
  t.notOk(d.ready, 'not used before minDraftedTokens');
  t.equal(p.choose('am', 'sampled').reason, 'static');
});

t.test('forDrafter: the table gamma until the fixed drafter is ready, then its gamma*, or plain when it does not pay', async (t) => {
  const p = policy();
  t.same(p.forDrafter('en', 'd-base', 'sampled'), { drafter: 'd-base', draftLength: 5, reason: 'static' }, "en's table gamma, with the arm's drafter");
  t.same(p.forDrafter('yo', 'd-base', 'sampled'), { drafter: 'd-base', draftLength: 4, reason: 'static' }, "yo is plain in the table: the default route's gamma");
  t.same(p.forDrafter(null, 'd-scdf', 'sampled'), { drafter: 'd-scdf', draftLength: 4, reason: 'static' });
  const plainTable = new RoutingTable({ default: { drafter: null, draft_length: 0 } }, { drafters });
  t.same(
    new AdaptivePolicy({ mode: 'adaptive', table: plainTable, drafters, explorationDraftLength: 3 }).forDrafter('en', 'd-base', 'sampled'),
    { drafter: 'd-base', draftLength: 3, reason: 'static' },
    'no gamma anywhere in the table: the exploration length',
  );

  feed(p, 'am', 'd-scdf', 3, 0.85, 0.05, 10);
  const gamma = p.snapshot().languages.am!.drafters['d-scdf']!.draftLength;
  t.same(p.forDrafter('am', 'd-scdf', 'sampled'), { drafter: 'd-scdf', draftLength: gamma, reason: 'estimate' }, 'the fixed drafter, not the table one');
  feed(p, 'en', 'd-base', 3, 0.1, 0.5, 10);
  t.same(p.forDrafter('en', 'd-base', 'sampled'), { drafter: null, draftLength: 0, reason: 'no-speedup' });
  t.same(policy({ mode: 'static' }).forDrafter('en', 'd-base', 'sampled'), { drafter: 'd-base', draftLength: 5, reason: 'static' });
  t.throws(() => p.forDrafter('en', 'd-huge', 'sampled'), RangeError);
  const explorer = policy({ explorationRate: 0.5, random: { next: () => 0 } });
  t.equal(explorer.forDrafter('en', 'd-base', 'sampled').reason, 'static', 'a fixed drafter never explores');
});

t.test("the snapshot's expected speed-up of the choice", async (t) => {
  const p = policy();
  t.equal(p.snapshot().languages.en!.expectedSpeedup, null, 'c unknown before the drafter is timed');
  t.equal(p.snapshot().languages.yo!.expectedSpeedup, 1, 'plain decoding');
  for (let i = 0; i < 10; i++) p.observe('en', null, 0, plain());
  feed(p, 'en', 'd-scdf', 5, 0.7, 0.1, 2); // 200 tokens: still the static route (gamma 5)
  const en = p.snapshot().languages.en!;
  t.equal(en.choice.reason, 'static');
  const alpha = en.drafters['d-scdf']!.alpha.mean;
  t.ok(Math.abs(en.expectedSpeedup! - (1 - alpha ** 6) / (1 - alpha) / (5 * 0.1 + 1)) < 1e-9, 'S(alpha, 5, c) with v = 1');
});

// The old default pack's Tamil: alpha 0.94 offline, yet greedy acceptance 0.009. Greedy requests
// must be decided on the argmax agreement, sampled ones on alpha, from the same traffic.
t.test('greedy requests go plain where argmax agreement is low, sampled ones still speculate; greedy comes back when it rises', async (t) => {
  const p = policy({ halfLifeTokens: 1000 });
  let agreement = 0.05;
  const serve = (regime: 'sampled' | 'greedy'): RoutingChoice => {
    const choice = p.choose('am', regime);
    if (choice.drafter === null) p.observe('am', null, 0, plain());
    else p.observe('am', choice.drafter, choice.draftLength, spec(choice.drafter, choice.draftLength, 0.9, 0.2, 100, 1, agreement));
    return choice;
  };
  for (let i = 0; i < 10; i++) serve('sampled');
  const sampled = p.choose('am', 'sampled');
  t.equal(sampled.drafter, 'd-base', 'alpha 0.9 at c 0.2 pays for sampled requests');
  t.equal(sampled.reason, 'estimate');
  t.ok(sampled.draftLength >= 3, `sampled gamma ${sampled.draftLength}`);
  t.same(p.choose('am', 'greedy'), { drafter: null, draftLength: 0, reason: 'no-speedup' }, 'agreement 0.05 does not pay for greedy requests');

  const am = p.snapshot().languages.am!;
  t.ok(Math.abs(am.drafters['d-base']!.alpha.mean - 0.9) < 0.01, `sampled estimate ${am.drafters['d-base']!.alpha.mean}`);
  t.ok(Math.abs(am.greedy.drafters['d-base']!.alpha.mean - 0.05) < 0.01, `greedy estimate ${am.greedy.drafters['d-base']!.alpha.mean}`);
  t.equal(am.greedy.drafters['d-base']!.observedTokens, am.drafters['d-base']!.observedTokens, 'every speculative request feeds both');
  t.same(am.greedy.choice, { drafter: null, draftLength: 0, reason: 'no-speedup' });
  t.equal(am.greedy.expectedSpeedup, 1);
  t.equal(am.choice.reason, 'estimate', 'the top level is still the sampled regime');
  t.ok(am.expectedSpeedup! > 1.5, `sampled S ${am.expectedSpeedup}`);

  // Greedy traffic alone runs plain and teaches nothing; the sampled traffic keeps measuring the
  // agreement, so a retrained drafter brings greedy requests back without exploration.
  agreement = 0.85;
  let back = -1;
  for (let i = 0; i < 100 && back < 0; i++) {
    if (serve('greedy').drafter !== null) back = i;
    serve('sampled');
  }
  t.ok(back > 0, `greedy speculates again after ${back} rounds`);
  t.same(p.choose('am', 'greedy'), { drafter: 'd-base', draftLength: p.snapshot().languages.am!.greedy.drafters['d-base']!.draftLength, reason: 'estimate' });
});

t.test('forDrafter decides with the regime estimate too', async (t) => {
  const p = policy();
  for (let i = 0; i < 10; i++) p.observe('en', 'd-base', 4, spec('d-base', 4, 0.9, 0.05, 100, 1, 0.05));
  t.equal(p.forDrafter('en', 'd-base', 'sampled').reason, 'estimate');
  t.same(p.forDrafter('en', 'd-base', 'greedy'), { drafter: null, draftLength: 0, reason: 'no-speedup' });
});

t.test('offline greedy agreement is the greedy prior; alpha stays the sampled one', async (t) => {
  const p = policy({ offlineAlpha: { am: { 'd-base': 0.94 } }, offlineGreedyAgreement: { am: { 'd-base': 0.009 } }, offlineCost: { 'd-base': 0.05 } });
  const am = p.snapshot().languages.am!;
  t.ok(Math.abs(am.drafters['d-base']!.alpha.mean - 0.94) < 1e-12);
  t.ok(Math.abs(am.greedy.drafters['d-base']!.alpha.mean - 0.009) < 1e-12);
  t.ok(am.drafters['d-base']!.speedup > 2 && am.greedy.drafters['d-base']!.draftLength === 0, 'the priors alone would route the regimes apart');
  const weak = policy({ offlineAlpha: { am: { 'd-base': 0.94 } } }).snapshot().languages.am!.greedy.drafters['d-base']!;
  t.equal(weak.alpha.mean, 0.5, 'no greedy prior: Beta(1, 1), not alpha');
  t.throws(() => policy({ offlineGreedyAgreement: { ta: { 'd-base': 1.5 } } }), { name: 'RoutingTableError', field: 'offlineGreedyAgreement.ta.d-base' });
  t.throws(() => policy({ offlineGreedyAgreement: { ta: { 'd-huge': 0.5 } } }), { name: 'RoutingTableError', field: 'offlineGreedyAgreement.ta.d-huge' });
});

t.test("each regime starts from its own table route", async (t) => {
  const split = new RoutingTable(
    {
      default: { drafter: 'd-scdf', draft_length: 4 },
      languages: { ta: { drafter: 'd-scdf', draft_length: 8 } },
      greedy: { default: { drafter: 'd-base', draft_length: 2 }, languages: { ta: { drafter: null, draft_length: 0 } } },
    },
    { drafters },
  );
  for (const mode of ['static', 'adaptive'] as const) {
    const p = policy({ mode, table: split });
    t.same(p.choose('ta', 'sampled'), { drafter: 'd-scdf', draftLength: 8, reason: 'static' }, mode);
    t.same(p.choose('ta', 'greedy'), { drafter: null, draftLength: 0, reason: 'static' }, mode);
    t.same(p.choose('fr', 'greedy'), { drafter: 'd-base', draftLength: 2, reason: 'static' }, mode);
    t.same(p.forDrafter('ta', 'd-base', 'greedy'), { drafter: 'd-base', draftLength: 2, reason: 'static' }, `${mode}: a plain greedy route borrows the greedy default's gamma`);
    const ta = p.snapshot().languages.ta!;
    t.same([ta.static, ta.greedy.static], [{ drafter: 'd-scdf', draftLength: 8 }, { drafter: null, draftLength: 0 }]);
  }
  // adaptive: the greedy route's drafter (none: any drafter) must be ready before the estimate decides
  const p = policy({ table: split });
  for (let i = 0; i < 10; i++) p.observe('ta', 'd-scdf', 8, spec('d-scdf', 8, 0.94, 0.05, 100, 1, 0.01));
  t.equal(p.choose('ta', 'sampled').reason, 'estimate');
  t.same(p.choose('ta', 'greedy'), { drafter: null, draftLength: 0, reason: 'no-speedup' });
});

t.test("a replaced drafter: no reset, its alpha evidence weighs as a prior, its cost is re-timed; a plain language comes back", async (t) => {
  const p = policy({ explorationRate: 0.05, random: createRandom(7), priorStrength: 64 });
  for (let i = 0; i < 5; i++) p.observe('am', null, 0, plain());
  // d-base on 'am': alpha 0.9 but c = 2, so plain decoding; d-scdf: alpha 0.05 at c = 0.2, never pays
  feed(p, 'am', 'd-base', 3, 0.9, 2, 30);
  feed(p, 'am', 'd-scdf', 3, 0.05, 0.2, 30);
  feed(p, 'en', 'd-base', 3, 0.6, 2, 10);
  t.same(p.choose('am', 'sampled'), { drafter: null, draftLength: 0, reason: 'no-speedup' });
  const before = p.snapshot();

  p.drafterReplaced('d-base');
  const after = p.snapshot();
  const [b, a] = [before.languages.am!.drafters['d-base']!, after.languages.am!.drafters['d-base']!];
  // the observations' mean is kept; the Beta(1, 1) prior now weighs 2 of 66 tokens instead of 2 of 3002
  t.ok(Math.abs(a.alpha.mean - (1 + 0.9 * 64) / 66) < 1e-9, `alpha mean kept: ${b.alpha.mean} -> ${a.alpha.mean}`);
  t.ok(a.alpha.sd > 3 * b.alpha.sd, 'with the weight of a prior');
  t.same([a.ready, a.observedTokens, a.requests], [b.ready, b.observedTokens, b.requests], 'still ready: no warm-up again');
  t.same(after.languages.am!.choice, before.languages.am!.choice, 'no route changes at the swap');
  t.same(after.languages.am!.greedy.choice, before.languages.am!.greedy.choice);
  t.ok(Math.abs(after.costs.drafters['d-base']!.costRatio! - 2) < 1e-9);
  t.equal(after.costs.drafters['d-base']!.source, 'previous');
  t.same(after.languages.am!.drafters['d-scdf'], before.languages.am!.drafters['d-scdf'], 'other drafters untouched');
  t.ok(after.languages.en!.drafters['d-base']!.alpha.sd > 2 * before.languages.en!.drafters['d-base']!.alpha.sd, 'in every language');

  p.observe('am', 'd-base', 2, spec('d-base', 2, 0.9, 2), false);
  t.equal(p.snapshot().costs.drafters['d-base']!.source, 'previous', 'an observation of the replaced model teaches nothing of the drafter');
  t.equal(p.snapshot().languages.am!.drafters['d-base']!.requests, b.requests);

  // The new model: the same alpha, c = 0.1. Only exploration tries it.
  let back = -1;
  for (let i = 0; i < 500 && back < 0; i++) {
    const choice = p.choose('am', 'sampled');
    if (choice.reason === 'estimate') back = i;
    else if (choice.drafter === null) p.observe('am', null, 0, plain());
    else p.observe('am', choice.drafter, choice.draftLength, spec(choice.drafter, choice.draftLength, choice.drafter === 'd-base' ? 0.9 : 0.05, choice.drafter === 'd-base' ? 0.1 : 0.2, 50));
  }
  t.ok(back > 0 && back < 200, `speculating again after ${back} requests`);
  t.match(p.choose('am', 'sampled'), { drafter: 'd-base', reason: 'estimate' });
  t.ok(Math.abs(p.snapshot().costs.drafters['d-base']!.costRatio! - 0.1) < 1e-9, "the new model's c alone");
  t.throws(() => p.drafterReplaced('nope'), RangeError);
});
