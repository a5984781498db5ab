import t from 'tap';
import { isExperimentError, type ExperimentError } from '../../src/experiments/errors.js';
import { parseExperiment } from '../../src/experiments/experiment.js';

const valid = {
  id: 'scdf-2024',
  arms: [
    { name: 'control', weight: 1 },
    { name: 'scdf', drafter: 'drafter-scdf', policy: 'adaptive', weight: 1 },
  ],
};

/** The FS_INVALID_EXPERIMENT error parseExperiment throws for `input`. */
function rejection(input: unknown, options = {}): ExperimentError {
  try {
    parseExperiment(input, options);
  } catch (err) {
    if (isExperimentError(err, 'FS_INVALID_EXPERIMENT')) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

t.test('defaults: salt = id, enabled, absent drafter and policy stay absent', async (t) => {
  t.same(parseExperiment(valid), {
    id: 'scdf-2024',
    salt: 'scdf-2024',
    arms: [
      { name: 'control', weight: 1 },
      { name: 'scdf', drafter: 'drafter-scdf', policy: 'adaptive', weight: 1 },
    ],
    enabled: true,
  });
  const e = parseExperiment({ ...valid, salt: 'v2', enabled: false, description: 'x' });
  t.equal(e.salt, 'v2');
  t.equal(e.enabled, false);
  t.equal(e.description, 'x');
  t.equal(parseExperiment({ ...valid, arms: [{ name: 'plain', drafter: null, weight: 0 }, valid.arms[1]] }).arms[0]!.drafter, null);
});

t.test('each bad field is named with its value', async (t) => {
  const cases: [unknown, string, unknown, RegExp][] = [
    [{ ...valid, id: 'has space' }, 'id', 'has space', /letters, digits/],
    [{ ...valid, id: 7 }, 'id', 7, /string/],
    [{ ...valid, arms: [valid.arms[0]] }, 'arms', [valid.arms[0]], /length/],
    [{ ...valid, arms: [valid.arms[0], { ...valid.arms[1], weight: -1 }] }, 'arms[1].weight', -1, />= 0|greater or equal/],
    [{ ...valid, arms: [valid.arms[0], { ...valid.arms[1], weight: '1' }] }, 'arms[1].weight', '1', /number/],
    [{ ...valid, arms: [valid.arms[0], { ...valid.arms[1], policy: 'greedy' }] }, 'arms[1].policy', 'greedy', /"static" or "adaptive"/],
    [{ ...valid, arms: [valid.arms[0], { ...valid.arms[1], drafter: 3 }] }, 'arms[1].drafter', 3, /a non-empty string or null/],
    [{ ...valid, arms: [valid.arms[0], { ...valid.arms[1], gamma: 4 }] }, 'arms[1].gamma', 4, /not a known field/],
    [{ ...valid, traffic: 1 }, 'traffic', 1, /not a known field/],
    [{ ...valid, salt: '' }, 'salt', '', /length/],
    [{ ...valid, arms: [valid.arms[0], { ...valid.arms[1], name: 'control' }] }, 'arms[1].name', 'control', /earlier arm/],
    [{ ...valid, arms: [{ name: 'a', weight: 0 }, { name: 'b', weight: 0 }] }, 'arms', [0, 0], /sum to more than 0/],
    [{ ...valid, arms: [valid.arms[0], { name: 'p', drafter: null, policy: 'static', weight: 1 }] }, 'arms[1].policy', 'static', /plain decoding/],
    [null, '', null, /object/],
  ];
  for (const [input, field, value, reason] of cases) {
    const err = rejection(input);
    t.equal(err.code, 'FS_INVALID_EXPERIMENT');
    t.equal(err.param, field, `param of ${JSON.stringify(input)}`);
    const issue = err.issues.find((i) => i.field === field);
    t.ok(issue, `issue for ${field}`);
    t.same(issue?.value, value, `value of ${field}`);
    t.match(issue?.reason, reason, `reason for ${field}: ${issue?.reason}`);
    t.match(err.message, field === '' ? /\(value\)/ : field, 'message names the field');
  }
  t.match(rejection({ ...valid, arms: [valid.arms[0], { ...valid.arms[1], weight: -1 }] }).message, /^invalid experiment "scdf-2024": arms\[1\]\.weight: .* \(got -1\)$/);
});

t.test('weights must be finite (a JavaScript config can hold Infinity)', async (t) => {
  const err = rejection({ ...valid, arms: [valid.arms[0], { ...valid.arms[1], weight: Infinity }] });
  t.equal(err.param, 'arms[1].weight');
});

t.test('every problem is reported, not just the first', async (t) => {
  const err = rejection({ id: '-', arms: [{ name: 'a', weight: -1 }, { name: 'a', weight: 1, x: 1 }] });
  t.same(
    err.issues.map((i) => i.field),
    ['id', 'arms[0].weight', 'arms[1].x'],
  );
});

t.test('drafters are checked against the pack when it is known', async (t) => {
  const err = rejection(valid, { knownDrafters: ['drafter-small'] });
  t.equal(err.param, 'arms[1].drafter');
  t.match(err.message, /"drafter-scdf"/);
  t.match(err.message, /drafter-small/);
  t.ok(parseExperiment(valid, { knownDrafters: ['drafter-scdf'] }));
  t.equal(rejection(valid, { knownDrafters: ['x'], path: 'experiments[3]' }).param, 'experiments[3].arms[1].drafter', 'boot path prefix');
  t.equal(rejection({ ...valid, id: '' }, { path: 'experiments[0]' }).param, 'experiments[0].id');
});

t.test('a parsed experiment is frozen', async (t) => {
  const e = parseExperiment(valid);
  t.ok(Object.isFrozen(e) && Object.isFrozen(e.arms) && Object.isFrozen(e.arms[0]));
});

t.test("'none' and 'other' are reserved arm names: they are the arm label outside experiments and past the cap", async (t) => {
  for (const name of ['none', 'other']) {
    const err = rejection({ ...valid, arms: [valid.arms[0], { name, weight: 1 }] });
    t.equal(err.param, 'arms[1].name');
    t.match(err.message, /arms\[1\]\.name: is reserved/);
  }
  t.ok(parseExperiment({ ...valid, arms: [valid.arms[0], { name: 'None', weight: 1 }] }), 'labels are case-sensitive');
});
