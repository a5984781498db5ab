// The pipeline's "route" stage: writes the pack's routing.json from measured speed-ups. For every
// evaluation language and both regimes (sampled: temperature 1; greedy), it decodes the same
// prompts plainly and with every drafter of the pack (neural, n-gram, prompt lookup) at each
// draft length of a small grid, in process (src/engine); routing-from-evidence.ts turns the
// figures into routes (the fastest per language, plain below --min-speedup).
//
//   node --import tsx models/training/route_drafters.ts --pack models/default
//   node --import tsx models/training/route_drafters.ts --pack P --languages en,am --prompts-per-language 1 --dry-run
//   node --import tsx models/training/route_drafters.ts --pack P --from-evidence   # re-derive routing.json, no decoding
//
// Speed-up is measured, not modelled: tokens per second of the call (exactly --max-tokens tokens,
// EOS ignored) over plain decoding's on the same prompt and seed, the configurations of a prompt
// run back to back in an order rotated from prompt to prompt, so machine drift hits each alike.
// Prompt lookup in particular has no acceptance rate the geometric model of speedup.ts fits: its
// drafts exist only where the context repeats itself.
//
// Prompts: UDHR articles from ROUTING_FIRST_ARTICLE on (bench/prompts.ts), which the benchmarks'
// default prompts (articles 3..) do not reach, so the routes are not tuned on what peer-bench
// measures. The evidence (per language and regime, every candidate's speed-up, acceptance and
// tokens per verifier pass) goes to routing-evidence.json beside routing.json.

import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { describeMachine } from '../../bench/machine.js';
import { median } from '../../bench/summary-statistics.js';
import { cutToBytes, EVALUATION_LANGUAGES, UDHR_FILES, udhrArticles } from '../../bench/prompts.js';
import { loadEngine } from '../../src/engine/engine.js';
import { RoutingFileSchema, type RoutingFile } from '../../src/routing/routing-table.js';
import { Value } from '@sinclair/typebox/value';
import { candidateLabel, type Regime, routingFromEvidence, type Candidate as RouteCandidate } from './routing-from-evidence.js';

const ROUTING_FIRST_ARTICLE = 21;
const REGIMES: readonly Regime[] = ['sampled', 'greedy'];

const { values: args } = parseArgs({
  options: {
    pack: { type: 'string', default: 'models/default' },
    languages: { type: 'string' },
    drafters: { type: 'string' },
    'prompts-per-language': { type: 'string', default: '3' },
    'max-tokens': { type: 'string', default: '48' },
    'prompt-bytes': { type: 'string', default: '150' },
    'neural-draft-lengths': { type: 'string', default: '2,3,4,6' },
    'zero-cost-draft-lengths': { type: 'string', default: '3,5,8,12' },
    'min-speedup': { type: 'string', default: '1.05' },
    tolerance: { type: 'string', default: '0.05' },
    'dry-run': { type: 'boolean', default: false },
    'from-evidence': { type: 'boolean', default: false },
  },
});
const positive = (name: string, raw: string): number => {
  const v = Number(raw);
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return v;
};
const lengths = (name: string): number[] => args[name as 'pack']!.split(',').map((s) => Math.round(positive(name, s)));
const pack = resolve(args.pack!);
const asked = args.languages ? args.languages.split(',') : [...EVALUATION_LANGUAGES];
const promptsPerLanguage = Math.round(positive('prompts-per-language', args['prompts-per-language']!));
const maxTokens = Math.round(positive('max-tokens', args['max-tokens']!));
const minSpeedup = positive('min-speedup', args['min-speedup']!);
const tolerance = Number(args.tolerance);
if (!(tolerance >= 0 && tolerance < 1)) throw new Error(`--tolerance must be in [0, 1), got ${args.tolerance}`);

function prompts(language: string): string[] {
  const file = UDHR_FILES[language];
  if (file === undefined) return [];
  const articles = udhrArticles(file);
  const out: string[] = [];
  for (let n = ROUTING_FIRST_ARTICLE; n <= 30 && out.length < promptsPerLanguage; n++) {
    const text = articles.get(n);
    if (text !== undefined) out.push(cutToBytes(text, Math.round(positive('prompt-bytes', args['prompt-bytes']!))));
  }
  return out;
}

interface Measured {
  speedup: number;
  /** Exact α over drafted positions, greedy agreement, tokens per verifier pass. */
  alpha: number | null;
  greedyAgreement: number | null;
  tokensPerPass: number;
}
type Evidence = Record<string, Record<Regime, Record<string, Measured>>>;
const EVIDENCE_FILE = 'routing-evidence.json';

/**
 * The languages a specialist drafter was trained on (its training card names a script group and
 * lists its tasks' languages); null for a general drafter or one without a card.
 */
async function specialistLanguages(folder: string): Promise<Set<string> | null> {
  let card: { specialist_group?: unknown; tasks?: unknown };
  try {
    card = JSON.parse(await readFile(join(folder, 'training.json'), 'utf8')) as typeof card;
  } catch {
    return null;
  }
  if (typeof card.specialist_group !== 'string' || card.tasks === null || typeof card.tasks !== 'object') return null;
  return new Set(Object.values(card.tasks as Record<string, unknown>).flatMap((langs) => (Array.isArray(langs) ? langs.map(String) : [])));
}

async function measure(): Promise<{ evidence: Evidence; candidates: RouteCandidate[]; minutes: number }> {
  // A language without UDHR articles to measure on keeps the default route.
  const languages = asked.filter((l) => prompts(l).length > 0);
  if (languages.length < asked.length) console.log(`no UDHR articles from ${ROUTING_FIRST_ARTICLE} on for ${asked.filter((l) => !languages.includes(l)).join(',')}: they take the default route`);
  if (languages.length === 0) throw new Error('no language to measure');

  interface Candidate {
    drafter: string | null;
    draftLength: number;
  }
  const label = (c: Candidate): string => (c.drafter === null ? 'plain' : candidateLabel({ drafter: c.drafter, draftLength: c.draftLength }));

  const engine = await loadEngine(pack);
  const infos = await engine.drafters();
  const only = args.drafters ? new Set(args.drafters.split(',')) : null;
  const chosen = infos.filter((d) => only === null || only.has(d.name));
  const candidates: Candidate[] = chosen.flatMap((d) =>
    (d.kind === 'neural' ? lengths('neural-draft-lengths') : lengths('zero-cost-draft-lengths')).map((draftLength) => ({ drafter: d.name, draftLength })),
  );
  const trainedOn = new Map(await Promise.all(chosen.map(async (d) => [d.name, await specialistLanguages(d.source)] as const)));
  // A specialist is measured only in the languages it was trained on; the others everywhere.
  const candidatesFor = (language: string): Candidate[] =>
    candidates.filter((c) => c.drafter === null || (trainedOn.get(c.drafter)?.has(language) ?? true));
  console.log(`${describeMachine()}; ${languages.length} languages x ${promptsPerLanguage} prompts x ${maxTokens} tokens; candidates ${candidates.map(label).join(' ')}`);

  const evidence: Evidence = {};

  const started = performance.now();
  let turn = 0;
  for (const language of languages) {
    evidence[language] = { sampled: {}, greedy: {} };
    for (const regime of REGIMES) {
      const ratios = new Map<string, number[]>();
      const stats = new Map<string, { alpha: number; greedy: number; drafted: number; tokens: number; passes: number }>();
      for (const [i, prompt] of prompts(language).entries()) {
        const run = async (c: Candidate) => {
          const t0 = performance.now();
          const r = await engine.generate(prompt, {
            maxTokens,
            stop: [],
            ignoreEos: true,
            temperature: regime === 'greedy' ? 0 : 1,
            topP: 1,
            topK: 0,
            ...(regime === 'sampled' ? { seed: 1000 + i } : {}),
            drafter: c.drafter,
            draftLength: c.draftLength,
            language,
          });
          return { tps: r.completionTokens / (performance.now() - t0), r };
        };
        const here = candidatesFor(language);
        await run(here[turn % here.length]!); // warm-up, uncounted
        const order = [{ drafter: null, draftLength: 0 }, ...here];
        const k = turn++ % order.length;
        const rotated = [...order.slice(k), ...order.slice(0, k)];
        if (turn % 2) rotated.reverse();
        const tps = new Map<string, number>();
        for (const c of rotated) {
          const { tps: t, r } = await run(c);
          tps.set(label(c), t);
          if (c.drafter === null) continue;
          const s = stats.get(label(c)) ?? { alpha: 0, greedy: 0, drafted: 0, tokens: 0, passes: 0 };
          s.alpha += r.stats.alphaSum;
          s.greedy += r.stats.greedyMatches;
          s.drafted += r.stats.draftedTokens;
          s.tokens += r.completionTokens;
          s.passes += r.stats.verifierSteps;
          stats.set(label(c), s);
        }
        for (const c of here) (ratios.get(label(c)) ?? ratios.set(label(c), []).get(label(c))!).push(tps.get(label(c))! / tps.get('plain')!);
      }
      for (const c of candidatesFor(language)) {
        const s = stats.get(label(c))!;
        evidence[language]![regime][label(c)] = {
          speedup: Number(median(ratios.get(label(c))!).toFixed(3)),
          alpha: s.drafted > 0 ? Number((s.alpha / s.drafted).toFixed(3)) : null,
          greedyAgreement: s.drafted > 0 ? Number((s.greedy / s.drafted).toFixed(3)) : null,
          tokensPerPass: Number((s.tokens / Math.max(1, s.passes)).toFixed(2)),
        };
      }
      const best = Object.entries(evidence[language]![regime]).sort((a, b) => b[1].speedup - a[1].speedup)[0]!;
      console.log(`${language} ${regime.padEnd(7)} best ${best[0]} ${best[1].speedup.toFixed(2)}x  (${Object.entries(evidence[language]![regime]).map(([k, v]) => `${k} ${v.speedup.toFixed(2)}${v.alpha === null ? '' : ` α${v.alpha.toFixed(2)}`}`).join(', ')})`);
    }
  }
  await engine.close();
  return { evidence, candidates: candidates as RouteCandidate[], minutes: (performance.now() - started) / 60000 };
}

let evidence: Evidence;
let candidates: RouteCandidate[];
let meta: Record<string, unknown>;
if (args['from-evidence']) {
  const saved = JSON.parse(await readFile(join(pack, EVIDENCE_FILE), 'utf8')) as { languages: Evidence } & Record<string, unknown>;
  ({ languages: evidence, ...meta } = saved);
  if (Object.keys(evidence).length === 0) throw new Error(`${EVIDENCE_FILE} measured no language`);
  // Every candidate measured somewhere (a specialist only in its own languages).
  const labels = new Set(Object.values(evidence).flatMap((e) => Object.keys(e.sampled)));
  candidates = [...labels].map((label) => {
    const at = label.lastIndexOf('@');
    return { drafter: label.slice(0, at), draftLength: Number(label.slice(at + 1)) };
  });
} else {
  const measured = await measure();
  ({ evidence, candidates } = measured);
  meta = { machine: describeMachine(), date: new Date().toISOString(), maxTokens, promptsPerLanguage, firstArticle: ROUTING_FIRST_ARTICLE, minutes: Number(measured.minutes.toFixed(1)) };
  console.log(`measured in ${measured.minutes.toFixed(1)} min`);
}
const routing: RoutingFile = routingFromEvidence(evidence, candidates, { minSpeedup, tolerance });
if (!Value.Check(RoutingFileSchema, routing)) throw new Error("the routes do not fit routing.json's schema");
if (args['dry-run']) {
  console.log(JSON.stringify(routing));
} else {
  await writeFile(join(pack, 'routing.json'), `${JSON.stringify(routing, null, 1)}\n`);
  await writeFile(join(pack, EVIDENCE_FILE), `${JSON.stringify({ ...meta, minSpeedup, tolerance, languages: evidence }, null, 1)}\n`);
  console.log(`wrote ${join(pack, 'routing.json')} and ${EVIDENCE_FILE}`);
}
