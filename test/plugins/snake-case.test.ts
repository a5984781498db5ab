import t from 'tap';
import { toSnakeCase } from '../../plugins/snake-case.js';

t.test('keys to snake_case, deeply; non-finite numbers to null; undefined fields dropped', async (t) => {
  t.same(toSnakeCase({ generatedTokens: 3, latencyMs: { p50: { ciClustered: null } }, arms: [{ pAdjusted: 0.5, t: Infinity, x: NaN, gone: undefined }] }), {
    generated_tokens: 3,
    latency_ms: { p50: { ci_clustered: null } },
    arms: [{ p_adjusted: 0.5, t: null, x: null }],
  });
  t.same(toSnakeCase(['a', 1, true, null]), ['a', 1, true, null]);
});
