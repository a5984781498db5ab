import { writeFileSync } from 'node:fs';
import t from 'tap';
import { loadOfflineEstimates, offlineEstimates } from '../../src/routing/offline-estimates.js';

// The shape models/training/fairspec_train/report.py writes, trimmed.
const report = {
  cost: { c: 0.0625, verifier_ms: { 1: 4 } },
  sets: {
    udhr: {
      drafters: {
        'drafter-baseline': {
          mean_alpha: 0.6,
          languages: { en: { alpha: 0.71, greedy_agreement: 0.4, best_gamma: 4 }, am: { alpha: 0.33 }, ta: { alpha: 0.94, greedy_agreement: 0.009 } },
        },
        scdf: { languages: { en: { alpha: 0.74, greedy_agreement: 0.52 }, am: { alpha: 1.7, greedy_agreement: 0.2 }, ta: { alpha: 0.9, greedy_agreement: '0.1' } } },
        'drafter-balanced': { languages: { en: { alpha: 0.7 } } },
      },
    },
    in_distribution: { drafters: { scdf: { languages: { en: { alpha: 0.99 } } } } },
  },
};

t.test('alpha per language and drafter from the UDHR set, c for every drafter the report evaluated', async (t) => {
  const e = offlineEstimates(report, ['baseline', 'scdf', 'ngram']);
  t.same(e.alpha, { en: { baseline: 0.71, scdf: 0.74 }, am: { baseline: 0.33 }, ta: { baseline: 0.94, scdf: 0.9 } }, "folder names ('drafter-baseline') map to engine names");
  t.same(e.cost, { baseline: 0.0625, scdf: 0.0625 }, 'none for a drafter the report does not know (a zero-cost one): it is timed live');
  t.same(e.skipped, [
    'sets.udhr.drafters.scdf.languages.am.alpha = 1.7: not in [0, 1]',
    'sets.udhr.drafters.scdf.languages.ta.greedy_agreement = "0.1": not in [0, 1]',
    'sets.udhr.drafters.drafter-balanced: not a drafter of the pack',
  ]);
});

t.test('greedy agreement per language and drafter: the greedy prior; absent in older packs', async (t) => {
  const e = offlineEstimates(report, ['baseline', 'scdf']);
  t.same(e.greedyAgreement, { en: { baseline: 0.4, scdf: 0.52 }, am: { scdf: 0.2 }, ta: { baseline: 0.009 } }, 'kept even where alpha is out of range');
  t.notOk(e.skipped.some((s) => s.includes('languages.am.greedy_agreement') || s.includes('baseline.languages.am')), 'a missing value is no problem');
  const old = offlineEstimates({ sets: { udhr: { drafters: { scdf: { languages: { en: { alpha: 0.7 } } } } } } }, ['scdf']);
  t.same([old.alpha, old.greedyAgreement, old.skipped], [{ en: { scdf: 0.7 } }, {}, []]);
});

t.test("the sampled prior comes from udhr_served, the verifier's own samples, where it has a value", async (t) => {
  const served = {
    drafters: {
      'drafter-baseline': { languages: { en: { alpha: 0.66, greedy_agreement: 0.9 }, ta: { alpha: 2 } } },
      'drafter-balanced': { languages: { en: { alpha: 0.7 } } },
    },
  };
  const e = offlineEstimates({ ...report, sets: { ...report.sets, udhr_served: served } }, ['baseline', 'scdf']);
  t.same(e.alpha, { en: { baseline: 0.66, scdf: 0.74 }, am: { baseline: 0.33 }, ta: { baseline: 0.94, scdf: 0.9 } }, 'served en replaces teacher-forced en; an out-of-range served value keeps the teacher-forced one');
  t.same(e.greedyAgreement.en, { baseline: 0.4, scdf: 0.52 }, 'greedy agreement stays the teacher-forced set\'s');
  t.same(e.skipped.slice(3), [
    'sets.udhr_served.drafters.drafter-baseline.languages.ta.alpha = 2: not in [0, 1]',
    'sets.udhr_served.drafters.drafter-balanced: not a drafter of the pack',
  ]);
});

t.test('a partial or odd report gives what it can', async (t) => {
  t.same(offlineEstimates({}, ['a']), { alpha: {}, greedyAgreement: {}, cost: {}, skipped: [] });
  t.same(offlineEstimates({ cost: { c: -1 } }, ['a']).skipped, ['cost.c = -1: not a finite number >= 0']);
  t.same(offlineEstimates([], ['a']).skipped, ['eval.json is not an object']);
});

t.test('the file is optional; one that is not JSON is an error for the caller to report', async (t) => {
  const dir = t.testdir({});
  t.equal(await loadOfflineEstimates(dir, ['scdf']), null);
  writeFileSync(`${dir}/eval.json`, JSON.stringify(report));
  const loaded = await loadOfflineEstimates(dir, ['scdf']);
  t.same([loaded?.alpha, loaded?.greedyAgreement], [{ en: { scdf: 0.74 }, ta: { scdf: 0.9 } }, { en: { scdf: 0.52 }, am: { scdf: 0.2 } }]);
  writeFileSync(`${dir}/eval.json`, '{"sets": ');
  await t.rejects(loadOfflineEstimates(dir, ['scdf']), /eval\.json is not JSON/);
});
