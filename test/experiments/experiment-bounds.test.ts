// Bounds of an experiment definition (issue 16): weights finite, at most MAX_WEIGHT and at most
// MAX_WEIGHT_RATIO apart; an error lists at most MAX_LISTED_ISSUES problems and quotes values cut short.
import t from 'tap';
import { isExperimentError, type ExperimentError } from '../../src/experiments/errors.js';
import { MAX_LISTED_ISSUES, MAX_WEIGHT, MAX_WEIGHT_RATIO, parseExperiment } from '../../src/experiments/experiment.js';

function rejection(input: unknown): ExperimentError {
  try {
    parseExperiment(input);
  } catch (err) {
    if (isExperimentError(err, 'FS_INVALID_EXPERIMENT')) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}
const weights = (...ws: number[]) => ({ id: 'w', arms: ws.map((weight, i) => ({ name: `a${i}`, weight })) });

t.test('weights', async (t) => {
  t.equal(rejection(weights(1, MAX_WEIGHT * 2)).param, 'arms[1].weight', 'above MAX_WEIGHT');
  t.equal(rejection(weights(1e308, 1e308)).param, 'arms[0].weight', 'a sum that would overflow');
  for (const w of [Infinity, -Infinity, NaN]) t.match(rejection(weights(1, w)).message, new RegExp(`arms\\[1\\]\\.weight: .*\\(got ${w}\\)`));
  const ratio = rejection(weights(2, 1, 2 * MAX_WEIGHT_RATIO + 1));
  t.equal(ratio.param, 'arms');
  t.match(ratio.message, /at most 10000 times the smallest non-zero one/);
  t.ok(parseExperiment(weights(0, 1, MAX_WEIGHT_RATIO)), 'zero weights do not count; the bound itself passes');
  t.ok(parseExperiment(weights(MAX_WEIGHT, MAX_WEIGHT / MAX_WEIGHT_RATIO)));
});

t.test('errors list at most MAX_LISTED_ISSUES problems, each value cut short', async (t) => {
  const err = rejection({ id: 'x'.repeat(10_000), arms: Array.from({ length: 40 }, () => ({ name: 'y'.repeat(10_000), weight: -1 })) });
  t.equal(err.issues.length, MAX_LISTED_ISSUES);
  t.match(err.message, /; and more$/);
  t.ok(err.message.length < 3000, `${err.message.length} characters`);
  t.equal(rejection({ id: 'x', arms: [{ name: 'a', weight: -1 }, { name: 'b', weight: -1 }] }).message.includes('and more'), false, 'all of a few');
});

t.test('a drafter name has a length limit', async (t) => {
  t.equal(rejection({ id: 'd', arms: [{ name: 'a', weight: 1 }, { name: 'b', drafter: 'd'.repeat(129), weight: 1 }] }).param, 'arms[1].drafter');
});
