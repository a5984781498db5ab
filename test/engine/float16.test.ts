import t from 'tap';
import { float16ToFloat32 } from '../../src/engine/float16.js';

t.test('half-precision bits decode to their float values', async (t) => {
  const bits = Uint16Array.from([0x0000, 0x8000, 0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x7e00]);
  const out = Array.from(float16ToFloat32(bits));
  t.same(out.slice(0, 4), [0, -0, 1, -2]);
  t.ok(Math.abs(out[4]! - 1 / 3) < 1e-3, '0x3555 ≈ 1/3');
  t.equal(out[5], 65504, 'largest half');
  t.equal(out[6], 2 ** -24, 'smallest subnormal');
  t.equal(out[7], 2 ** -14, 'smallest normal');
  t.same(out.slice(8, 10), [Infinity, -Infinity]);
  t.ok(Number.isNaN(out[10]!));
});
