import t from 'tap';
import { routingFromEvidence, type Candidate, type SpeedupEvidence } from '../../models/training/routing-from-evidence.js';

const candidates: Candidate[] = [
  { drafter: 'ngram', draftLength: 5 },
  { drafter: 'lookup', draftLength: 8 },
  { drafter: 'scdf', draftLength: 4 },
];
const both = (speedups: Record<string, number>) => {
  const regime = Object.fromEntries(Object.entries(speedups).map(([k, v]) => [k, { speedup: v }]));
  return { sampled: regime, greedy: regime };
};

t.test('fastest per language, plain where nothing pays, default by geometric mean', async (t) => {
  const evidence: SpeedupEvidence = {
    en: both({ 'ngram@5': 2.0, 'lookup@8': 1.1, 'scdf@4': 1.5 }),
    sw: both({ 'ngram@5': 1.2, 'lookup@8': 1.0, 'scdf@4': 1.6 }),
    yo: both({ 'ngram@5': 0.9, 'lookup@8': 1.02, 'scdf@4': 0.95 }),
  };
  const r = routingFromEvidence(evidence, candidates, { minSpeedup: 1.05, tolerance: 0 });
  t.same(r.languages, {
    en: { drafter: 'ngram', draft_length: 5 },
    sw: { drafter: 'scdf', draft_length: 4 },
    yo: { drafter: null, draft_length: 0 },
  });
  t.same(r.default, { drafter: 'scdf', draft_length: 4 }, 'geometric means: scdf 1.32, ngram 1.29, lookup 1.04');
});

t.test('a near-tie goes to the candidate that is fast across languages', async (t) => {
  const evidence: SpeedupEvidence = {
    en: both({ 'ngram@5': 2.0, 'lookup@8': 2.05, 'scdf@4': 1.5 }),
    de: both({ 'ngram@5': 2.1, 'lookup@8': 1.0, 'scdf@4': 1.5 }),
  };
  t.same(routingFromEvidence(evidence, candidates, { minSpeedup: 1.05, tolerance: 0.05 }).languages!.en, { drafter: 'ngram', draft_length: 5 });
  t.same(routingFromEvidence(evidence, candidates, { minSpeedup: 1.05, tolerance: 0 }).languages!.en, { drafter: 'lookup', draft_length: 8 });
});

t.test('an unusable measurement is an error, not a silent route', async (t) => {
  t.throws(() => routingFromEvidence({ en: both({ 'ngram@5': 2, 'lookup@8': 0 }) }, candidates, { minSpeedup: 1.05, tolerance: 0 }), /no speed-up of lookup@8 for en/);
});

t.test('a specialist measured only in its own languages competes there and is never the default', async (t) => {
  const withSpecialist = [...candidates, { drafter: 'cyrillic', draftLength: 4 }];
  const evidence: SpeedupEvidence = {
    en: both({ 'ngram@5': 1.4, 'lookup@8': 1.1, 'scdf@4': 1.5 }),
    ru: both({ 'ngram@5': 1.2, 'lookup@8': 1.0, 'scdf@4': 1.3, 'cyrillic@4': 1.9 }),
    uk: both({ 'ngram@5': 1.2, 'lookup@8': 1.0, 'scdf@4': 1.3, 'cyrillic@4': 1.8 }),
  };
  const r = routingFromEvidence(evidence, withSpecialist, { minSpeedup: 1.05, tolerance: 0.05 });
  t.same(r.languages, {
    en: { drafter: 'scdf', draft_length: 4 },
    ru: { drafter: 'cyrillic', draft_length: 4 },
    uk: { drafter: 'cyrillic', draft_length: 4 },
  });
  t.same(r.default, { drafter: 'scdf', draft_length: 4 }, 'cyrillic has the best geometric mean, over its two languages only');
});
