// IEEE 754 half-precision bits to float32, for float16 logits outputs: onnxruntime-node hands
// float16 tensors over as raw Uint16Array bits, and Node 20 has no Float16Array.

const table = new Float32Array(65536);
for (let h = 0; h < 65536; h++) {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) table[h] = sign * fraction * 2 ** -24; // subnormal
  else if (exponent === 31) table[h] = fraction ? NaN : sign * Infinity;
  else table[h] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}
