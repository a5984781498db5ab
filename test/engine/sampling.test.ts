import t from 'tap';
import { createRandom, randomSeed } from '../../src/engine/random.js';
import {
  LogitsProcessorList,
  TemperatureProcessor,
  TokenSampler,
  TopKProcessor,
  TopPProcessor,
  argmax,
  logSoftmax,
  sampleIndex,
  softmax,
} from '../../src/engine/sampling.js';
import { chiSquare } from '../fixtures/statistics.js';

const row = (...xs: number[]) => Float64Array.from(xs);
const kept = (logits: Float64Array) => Array.from(logits, (x, i) => (x === -Infinity ? -1 : i)).filter((i) => i >= 0);

t.test('temperature divides the logits, measured from the top one', async (t) => {
  const l = row(1, 2, -4);
  new TemperatureProcessor(0.5).process(l);
  t.same(Array.from(l), [-2, 0, -12], 'the same softmax as [2, 4, -8]');
  t.throws(() => new TemperatureProcessor(0));
});

t.test('issue 16: the smallest positive temperature samples the argmax instead of NaN', async (t) => {
  // 2 / 5e-324 is Infinity: divided first and shifted after, softmax met Infinity - Infinity.
  for (const temperature of [5e-324, 1e-310, 1e-300]) {
    const sampler = new TokenSampler({ temperature, topP: 0.5, topK: 3, seed: 1 }, createRandom(1));
    const probs = sampler.distribution(Float32Array.from([1, 2, -4, 1.5]));
    t.same(Array.from(probs), [0, 1, 0, 0], `T = ${temperature}`);
    t.equal(sampler.sample(probs), 1);
  }
});

t.test('top-k keeps the k largest logits, ties included', async (t) => {
  const l = row(0.1, 3, 2, 2, -1);
  new TopKProcessor(2).process(l);
  t.same(kept(l), [1, 2, 3], 'the tie with the 2nd is kept');
  const all = row(1, 2);
  new TopKProcessor(5).process(all);
  t.same(kept(all), [0, 1]);
  t.throws(() => new TopKProcessor(0));
});

t.test('top-p keeps the smallest most-likely set reaching p', async (t) => {
  const logits = () => row(...[0.5, 0.3, 0.15, 0.05].map(Math.log));
  const apply = (p: number) => {
    const l = logits();
    new TopPProcessor(p).process(l);
    return kept(l);
  };
  t.same(apply(0.7), [0, 1]);
  t.same(apply(0.5), [0]);
  t.same(apply(0.01), [0], 'always at least one token');
  t.same(apply(0.9), [0, 1, 2]);
  t.same(apply(1), [0, 1, 2, 3]);
  t.throws(() => new TopPProcessor(0));
});

t.test('processors chain in order', async (t) => {
  // Temperature first flattens the distribution, so top-p then keeps more tokens.
  const l = row(...[0.5, 0.3, 0.15, 0.05].map(Math.log));
  new LogitsProcessorList([new TemperatureProcessor(10), new TopPProcessor(0.7)]).process(l);
  t.ok(kept(l).length > 2);
});

t.test('softmax, log-softmax and argmax in float64', async (t) => {
  const p = softmax([1000, 1000, -Infinity]);
  t.ok(Math.abs(p[0]! - 0.5) < 1e-15 && Math.abs(p[1]! - 0.5) < 1e-15 && p[2] === 0, 'no overflow; -Infinity gets 0');
  t.ok(Math.abs(logSoftmax([0, Math.log(3)])[1]! - Math.log(0.75)) < 1e-15);
  t.equal(argmax([1, 5, 5, 2]), 1, 'first of equal maxima');
});

t.test('sampleIndex inverts the CDF and skips zero-probability tokens', async (t) => {
  const p = [0, 0.25, 0, 0.75, 0];
  t.equal(sampleIndex(p, 0), 1);
  t.equal(sampleIndex(p, 0.2499), 1);
  t.equal(sampleIndex(p, 0.25), 3);
  t.equal(sampleIndex(p, 0.999999999), 3);
  t.equal(sampleIndex([2, 6], 0.5), 1, 'unnormalised weights');
  t.throws(() => sampleIndex([0, 0], 0.5));
});

t.test('seeded random streams repeat exactly', async (t) => {
  const draw = (seed: number) => {
    const r = createRandom(seed);
    return Array.from({ length: 5 }, () => r.next());
  };
  t.same(draw(42), draw(42));
  t.not(draw(42)[0], draw(43)[0]);
  t.not(draw(7)[0], draw(7 + 2 ** 32)[0], 'the high bits of the seed matter');
  t.ok(draw(1).every((x) => x >= 0 && x < 1));
  // Regression: consecutive seeds must not start with correlated numbers.
  const bins = new Array<number>(20).fill(0);
  for (let seed = 0; seed < 20000; seed++) bins[Math.floor(createRandom(seed).next() * 20)]!++;
  const c = chiSquare(bins, new Array<number>(20).fill(1));
  t.ok(c.statistic < c.critical, `first draws of seeds 0..19999 are uniform: chi2 ${c.statistic.toFixed(1)} < ${c.critical.toFixed(1)}`);
  t.ok(Number.isSafeInteger(randomSeed()));
  t.throws(() => createRandom(0.5));
});

t.test('TokenSampler', async (t) => {
  const logits = Float32Array.from([1, 3, 2, 0]);
  const greedy = new TokenSampler({ temperature: 0, topK: 0, topP: 1 }, createRandom(1));
  t.ok(greedy.greedy);
  t.same(Array.from(greedy.distribution(logits)), [0, 1, 0, 0]);
  t.equal(greedy.sample(greedy.distribution(logits)), 1);

  const s = new TokenSampler({ temperature: 1, topK: 2, topP: 1 }, createRandom(1));
  const d = s.distribution(logits);
  t.same(Array.from(d, (x) => x > 0), [false, true, true, false]);
  t.ok(Math.abs(d.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const a = new TokenSampler({ temperature: 1, topK: 0, topP: 1, seed: 3 }, createRandom(3));
  const b = new TokenSampler({ temperature: 1, topK: 0, topP: 1, seed: 3 }, createRandom(3));
  const draws = (x: TokenSampler) => Array.from({ length: 20 }, () => x.sample(x.distribution(logits)));
  t.same(draws(a), draws(b));
});
