// The pipeline's prompt lookup drafter (src/engine/prompt-lookup-drafter.ts): no model, only its
// settings and a model card, written into the pack so the pack is whole from the pipeline alone.
//
//   node --import tsx models/training/build_lookup_drafter.ts --out models/default/drafter-lookup

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROMPT_LOOKUP_MANIFEST } from '../../src/engine/prompt-lookup-drafter.js';

const { values: args } = parseArgs({
  options: { out: { type: 'string' }, 'min-ngram': { type: 'string', default: '4' }, 'max-ngram': { type: 'string', default: '16' } },
});
if (!args.out) throw new Error('--out is required');
const settings = { min_ngram: Number(args['min-ngram']), max_ngram: Number(args['max-ngram']) };
const out = resolve(args.out);
await mkdir(out, { recursive: true });
await writeFile(join(out, PROMPT_LOOKUP_MANIFEST), `${JSON.stringify(settings)}\n`);
await writeFile(
  join(out, 'README.md'),
  `# drafter-lookup

Prompt lookup decoding (\`src/engine/prompt-lookup-drafter.ts\`): no model and no weights. At each
step it finds the most recent earlier occurrence of the sequence's last n tokens in its own prompt
and output, n from ${settings.max_ngram} down to ${settings.min_ngram} (\`${PROMPT_LOOKUP_MANIFEST}\`), and proposes what followed
it, up to γ tokens; where nothing matches it proposes nothing and the step is plain decoding. Its
cost is a scan of the context, so its cost ratio c is close to 0.

The verifier is byte-level, so an n-gram here is n bytes: a minimum of ${settings.min_ngram} keeps single letters and
short syllables from matching everywhere, and longer matches are preferred.

It pays where text repeats itself (quoting or editing the prompt, lists, code, and the loops a
small verifier falls into under greedy decoding) and little on free sampled text. Which languages
and regimes it serves is decided by measurement (\`models/training/route_drafters.ts\`, the
pack's \`routing-evidence.json\`).

Its q is one-hot on the proposed token; speculative sampling with a one-hot q keeps the
verifier's distribution exactly (the argument is in the source's header comment).

Written by \`models/training/build_lookup_drafter.ts\` (the pipeline's \`zero-cost\` stage).
`,
);
console.log(`drafter-lookup: ${JSON.stringify(settings)} -> ${out}`);
