import t from 'tap';
import { assignArm, assignmentPoint, userKey } from '../../src/experiments/assignment.js';
import { parseExperiment, type Experiment } from '../../src/experiments/experiment.js';

const experiment = (weights: number[], salt = 'scdf-2024'): Experiment =>
  parseExperiment({ id: 'e', salt, arms: weights.map((weight, i) => ({ name: `arm${i}`, weight })) });

t.test('stable across processes: points and arms computed once (python hashlib.sha256 agrees)', async (t) => {
  // int.from_bytes(sha256(f'{salt}:{key}'.encode()).digest()[:6], 'big') / 2**48
  const expected: [string, number, string][] = [
    ['alice', 0.9959545771852909, 'arm2'],
    ['bob', 0.6968261809027894, 'arm2'],
    ['carol', 0.47918590311923026, 'arm1'],
    ['dave', 0.463540021348809, 'arm1'],
    ['erin', 0.15354522399939796, 'arm0'],
    ['user-42', 0.7163653136406047, 'arm2'],
    ['日本語ユーザー', 0.7794097818765309, 'arm2'],
  ];
  const e = experiment([1, 1, 1]);
  for (const [key, point, arm] of expected) {
    t.equal(assignmentPoint('scdf-2024', key), point, `point of ${key}`);
    t.equal(assignArm(e, key).name, arm, `arm of ${key}`);
  }
});

t.test('split proportions over 20k keys follow the weights', async (t) => {
  const e = experiment([1, 3, 0, 6]);
  const counts = new Map<string, number>();
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const arm = assignArm(e, `user-${i}`).name;
    counts.set(arm, (counts.get(arm) ?? 0) + 1);
  }
  t.equal(counts.get('arm2'), undefined, 'weight 0 gets nobody');
  for (const [arm, share] of [['arm0', 0.1], ['arm1', 0.3], ['arm3', 0.6]] as const) {
    const observed = (counts.get(arm) ?? 0) / n;
    const sd = Math.sqrt((share * (1 - share)) / n);
    t.ok(Math.abs(observed - share) < 4 * sd, `${arm}: ${observed} vs ${share} (4 sd = ${(4 * sd).toFixed(4)})`);
  }
});

t.test('different salts decorrelate', async (t) => {
  const a = experiment([1, 1], 'salt-a');
  const b = experiment([1, 1], 'salt-b');
  const n = 20_000;
  let same = 0;
  for (let i = 0; i < n; i++) if (assignArm(a, `u${i}`).name === assignArm(b, `u${i}`).name) same++;
  // Independent 50/50 splits agree half the time; sd = sqrt(n/4) = 71.
  t.ok(Math.abs(same - n / 2) < 4 * Math.sqrt(n / 4), `agreement ${same}/${n}`);
});

t.test('changing weights only moves users across the shifted boundary', async (t) => {
  const before = experiment([1, 1]);
  const after = experiment([3, 1]); // boundary 0.5 -> 0.75
  for (let i = 0; i < 2000; i++) {
    const key = `u${i}`;
    if (assignArm(before, key).name === 'arm0') t.equal(assignArm(after, key).name, 'arm0');
  }
});

t.test('user key: body user, else the header, else the request id', async (t) => {
  t.same(userKey({ user: 'alice', header: 'h', requestId: 'r1' }), { key: 'alice', source: 'user' });
  t.same(userKey({ user: '  ', header: ' bob ', requestId: 'r1' }), { key: 'bob', source: 'header' });
  t.same(userKey({ user: null, header: ['carol', 'x'], requestId: 'r1' }), { key: 'carol', source: 'header' });
  t.same(userKey({ requestId: 'r1' }), { key: 'r1', source: 'request' });
});

t.test('no arm with traffic is a programming error', async (t) => {
  t.throws(() => assignArm({ salt: 's', arms: [{ name: 'a', weight: 0 }] }, 'u'), RangeError);
});
