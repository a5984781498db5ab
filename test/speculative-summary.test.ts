import t from 'tap';
import type { SpeculativeStats } from '../src/engine/types.js';
import { summarizeChoice, summarizeRequest } from '../src/speculative-summary.js';

const stats = (over: Partial<SpeculativeStats> = {}): SpeculativeStats => ({
  drafter: 'scdf',
  draftLength: 4,
  drafts: 5,
  draftedTokens: 20,
  requestedTokens: 20,
  acceptedTokens: 15,
  acceptedPerPosition: [5, 4, 3, 3],
  alphaSum: 14.2,
  greedyMatches: 16,
  crossEntropySum: 9.1,
  verifierSteps: 6,
  draftMs: 1.23456,
  verifyMs: 7.5,
  ...over,
});

t.test('one choice: rates from its counts', async (t) => {
  t.same(summarizeChoice({ language: 'am', languageConfidence: 0.812345, stats: stats() }), {
    language: 'am',
    language_confidence: 0.8123,
    drafter: 'scdf',
    draft_length: 4,
    drafts: 5,
    drafted: 20,
    accepted: 15,
    acceptance_rate: 0.75,
    mean_accepted_length: 4,
    verifier_steps: 6,
    draft_ms: 1.235,
    verify_ms: 7.5,
  });
});

t.test('no drafting: rates are null, not 0 or NaN', async (t) => {
  const s = summarizeChoice({
    language: 'en',
    languageConfidence: 1,
    stats: stats({ drafter: null, draftLength: 0, drafts: 0, draftedTokens: 0, acceptedTokens: 0, acceptedPerPosition: [] }),
  });
  t.equal(s.acceptance_rate, null);
  t.equal(s.mean_accepted_length, null);
});

t.test('aggregate: counts summed, rates from the sums, shared fields or mixed', async (t) => {
  const a = summarizeChoice({ language: 'en', languageConfidence: 0.9, stats: stats() });
  const b = summarizeChoice({
    language: 'fr',
    languageConfidence: 0.6,
    stats: stats({ drafter: 'baseline', draftLength: 2, drafts: 5, draftedTokens: 10, acceptedTokens: 5 }),
  });
  const sum = summarizeRequest([a, b]);
  t.match(sum, { language: 'mixed', language_confidence: 0.6, drafter: 'mixed', draft_length: null, drafts: 10, drafted: 30, accepted: 20 });
  t.equal(sum.acceptance_rate, 0.6667);
  t.equal(sum.mean_accepted_length, 3);
  t.same(summarizeRequest([a, a]).language, 'en');
  t.equal(summarizeRequest([a]), a);
  t.throws(() => summarizeRequest([]), RangeError);
});
