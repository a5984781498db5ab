// fairspec against its peer: transformers.js `generate()` on the same ONNX verifier, the same
// prompts, in one run (issue 14).
//
//   npx tsx bench/peer-bench.ts                                  # 32 UDHR languages, both regimes
//   npx tsx bench/peer-bench.ts --languages en,am --prompts-per-language 1 --max-tokens 32 --repeats 1
//   npx tsx bench/peer-bench.ts --regime greedy --arms tjs,bare,engine-plain --json peer.json
//   npx tsx bench/peer-bench.ts --prompt-file prompts.jsonl       # your prompts ({"text", "language"?} or one per line)
//   npx tsx bench/peer-bench.ts --url http://127.0.0.1:8000       # the HTTP arms against a running server
//
// Six arms decode every prompt, one call at a time. Each contender runs in a process of its own,
// as a user runs it (peer-hosts.ts): transformers.js, the bare loop, fairspec's engine (both e-
// arms) and fairspec's server, with the server's node options (the HTTP arms' client stays in
// the bench process); --one-process puts every arm in the bench process instead.
//   tjs           transformers.js AutoModelForCausalLM (dtype fp32, device cpu, its own session
//                 defaults) generate() with min_new_tokens = max_new_tokens = N: exactly N tokens
//                 (EOS is suppressed until N, so nothing stops it early);
//   bare          a bare onnxruntime-node KV-cache loop on the same file with the verifier's
//                 session settings (src/engine/causal-lm.ts): feeds input_ids, attention_mask,
//                 position_ids, past_key_values.* = the previous step's present.*; argmax or a
//                 seeded draw; EOS suppressed like tjs, so also exactly N tokens;
//   engine-plain  fairspec's Engine.generate in process (loadEngine), drafter null, γ 0;
//   engine-spec   the same with the drafter and γ the pack's routing.json gives the prompt's
//                 language in the request's regime (greedy or sampled section);
//   http-plain    POST /v1/completions, `speculative: {draft_length: 0}`, to a server the bench
//                 starts (buildApp from ../app.js, static routing, 127.0.0.1, port 0) or to --url;
//   http-spec     the same, routed by the server (language pinned, no override).
// fairspec stops at EOS (it has no ignore_eos), so the figure compared is tokens per second
// (generated tokens / wall time of the call), never wall time per request; the `eos` column
// counts fairspec runs that ended before N tokens.
//
// Greedy (temperature 0) and sampled (temperature 1, top_p 1, top_k 0: the full distribution in
// every arm; transformers.js defaults top_k to 50, so it is set to 0). Sampled runs give every
// arm the same seed for a prompt and repeat where the arm takes one (fairspec's `seed`, the bare
// loop's xoroshiro stream from src/engine/random.ts, transformers.js' `random.seed()` before
// generate()); they compare tokens per second only. Greedy runs also check losslessness: the
// token ids of tjs, bare, engine-plain and engine-spec, and the text of the HTTP arms, must be
// the same continuation (fairspec's shorter when it stopped at EOS).
//
// Order: for each prompt and repeat the arms run back to back, the order rotated (and reversed
// every other time) from one prompt/repeat to the next, so a drift of the machine hits every arm
// alike. Per prompt an arm's figure is the median over repeats; per language the median over
// prompts; ratios are ratios of those medians; across languages, geometric means and the worst.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.js';
import { loadEngine, type Engine } from '../src/engine/engine.js';
import { readModelConfig, type ModelConfig } from '../src/engine/model-config.js';
import { readPack } from '../src/engine/model-pack.js';
import { resolveModelFile } from '../src/engine/model-dtype.js';
import { createRandom, type RandomSource } from '../src/engine/random.js';
import { sampleIndex, softmax } from '../src/engine/sampling.js';
import type { TextTokenizer } from '../src/engine/tokenizer.js';
import { RoutingTable, type Route } from '../src/routing/routing-table.js';
import { SERVER_NODE_FLAGS } from '../src/server-node-flags.js';
import type { CompletionResponseBody } from '../src/wire/completions.js';
import type { ErrorBody } from '../src/wire/error.js';
import { intOption } from './int-option.js';
import { parseLoopbackUrl } from './loopback-url.js';
import { describeMachine, machine } from './machine.js';
import { benchPrompts, EVALUATION_LANGUAGES, MAX_PROMPTS_PER_LANGUAGE } from './prompts.js';
import { GcPauses } from './gc-pauses.js';
import { failHost, HostProcess, serveHost, type HostCounters } from './peer-hosts.js';
import { geomean, median } from './summary-statistics.js';
import { UsageError } from './usage-error.js';

// ---- options ---------------------------------------------------------------------------------

const ARMS = ['tjs', 'bare', 'engine-plain', 'engine-spec', 'http-plain', 'http-spec'] as const;
type Arm = (typeof ARMS)[number];
/** Column labels. */
const LABEL: Record<Arm, string> = {
  tjs: 'tjs', bare: 'bare', 'engine-plain': 'e-plain', 'engine-spec': 'e-spec', 'http-plain': 'h-plain', 'http-spec': 'h-spec',
};
const FAIRSPEC_ARMS: readonly Arm[] = ['engine-plain', 'engine-spec', 'http-plain', 'http-spec'];
type Regime = 'greedy' | 'sampled';

const DEFAULTS = { promptsPerLanguage: 1, maxTokens: 64, repeats: 2 };

const USAGE = `usage: npx tsx bench/peer-bench.ts [options]
  --pack DIR                   model pack: verifier, drafters, routing.json (default models/default)
  --languages a,b,...          canonical codes (default: all ${EVALUATION_LANGUAGES.length} UDHR languages; with --prompt-file: the file's)
  --prompts-per-language N     UDHR articles 3.. per language, 1-${MAX_PROMPTS_PER_LANGUAGE} (default ${DEFAULTS.promptsPerLanguage}); caps a prompt file's too
  --prompt-file FILE           prompts from FILE instead of UDHR: JSON array or JSON lines of {"text", "language"?}
                               or strings, else plain text, one prompt a line (language detected when not given)
  --prompt-bytes N             UDHR prompt length cap in UTF-8 bytes (default 150)
  --max-tokens N               N, the tokens every arm is asked for (default ${DEFAULTS.maxTokens})
  --repeats N                  timed runs of every arm per prompt and regime, 1-20 (default ${DEFAULTS.repeats})
  --regime greedy|sampled|both (default both)
  --arms a,b,...               subset of ${ARMS.join(',')} (default all)
  --url URL                    HTTP arms against this running server (loopback only) instead of one started here
  --routing static|adaptive    routing mode of the server started here (default static: routing.json, as engine-spec)
  --ort-threads N              verifier intra-op threads of bare and fairspec (default 2, the server's)
  --drafter-threads N          drafter intra-op threads of fairspec (default 1, the server's)
  --peer-threads N             transformers.js intra-op threads (default: its own session defaults)
  --bare-spinning              let the bare loop's idle intra-op threads spin (transformers.js' default; fairspec's
                               is off): tells what spinning is worth on this machine
  --seed N                     base seed of the sampled runs (default 1)
  --json FILE                  write the settings, every run and the tables to FILE
  --one-process                every arm in this process (default: transformers.js, the bare loop, the engine and
                               the server each in a process of its own); bench/README.md, "Layouts", says what it costs`;

interface Options {
  pack: string;
  languages: string[] | null;
  promptsPerLanguage: number;
  promptFile: string | undefined;
  promptBytes: number;
  maxTokens: number;
  repeats: number;
  regimes: Regime[];
  arms: Arm[];
  url: URL | undefined;
  routing: 'static' | 'adaptive';
  ortThreads: number;
  drafterThreads: number;
  peerThreads: number | undefined;
  bareSpinning: boolean;
  seed: number;
  json: string | undefined;
  /** Every arm in this process instead of a process per contender (peer-hosts.ts). */
  oneProcess: boolean;
  /** Set in a host process: the contender it runs. */
  host: HostName | undefined;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      pack: { type: 'string', default: 'models/default' },
      languages: { type: 'string' },
      'prompts-per-language': { type: 'string' },
      'prompt-file': { type: 'string' },
      'prompt-bytes': { type: 'string' },
      'max-tokens': { type: 'string' },
      repeats: { type: 'string' },
      regime: { type: 'string', default: 'both' },
      arms: { type: 'string' },
      url: { type: 'string' },
      routing: { type: 'string', default: 'static' },
      'ort-threads': { type: 'string' },
      'drafter-threads': { type: 'string' },
      'peer-threads': { type: 'string' },
      'bare-spinning': { type: 'boolean', default: false },
      seed: { type: 'string' },
      json: { type: 'string' },
      'one-process': { type: 'boolean', default: false },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const list = (raw: string): string[] => [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  const promptFile = values['prompt-file'];
  let languages: string[] | null = null;
  if (values.languages !== undefined) {
    languages = list(values.languages);
    const unknown = promptFile === undefined ? languages.filter((l) => !EVALUATION_LANGUAGES.includes(l)) : [];
    if (languages.length === 0 || unknown.length > 0) {
      throw new UsageError(`--languages: unknown ${JSON.stringify(unknown)}; known: ${EVALUATION_LANGUAGES.join(',')}`);
    }
  }
  const regime = values.regime;
  if (regime !== 'greedy' && regime !== 'sampled' && regime !== 'both') throw new UsageError(`--regime must be greedy, sampled or both, got ${JSON.stringify(regime)}`);
  let arms: Arm[] = [...ARMS];
  if (values.arms !== undefined) {
    const asked = list(values.arms);
    const bad = asked.filter((a) => !(ARMS as readonly string[]).includes(a));
    if (asked.length === 0 || bad.length > 0) throw new UsageError(`--arms: unknown ${JSON.stringify(bad)}; known: ${ARMS.join(',')}`);
    arms = ARMS.filter((a) => asked.includes(a)); // canonical order
  }
  const routing = values.routing;
  if (routing !== 'static' && routing !== 'adaptive') throw new UsageError(`--routing must be static or adaptive, got ${JSON.stringify(routing)}`);
  const pack = resolve(values.pack);
  if (!existsSync(join(pack, 'verifier'))) throw new UsageError(`--pack ${values.pack} has no verifier/ folder`);
  if (promptFile !== undefined && !existsSync(promptFile)) throw new UsageError(`--prompt-file ${promptFile} does not exist`);
  return {
    pack,
    languages,
    promptsPerLanguage: intOption('prompts-per-language', values['prompts-per-language'], DEFAULTS.promptsPerLanguage, 1, promptFile === undefined ? MAX_PROMPTS_PER_LANGUAGE : 100_000),
    promptFile,
    promptBytes: intOption('prompt-bytes', values['prompt-bytes'], 150, 16, 4096),
    maxTokens: intOption('max-tokens', values['max-tokens'], DEFAULTS.maxTokens, 1, 4096),
    repeats: intOption('repeats', values.repeats, DEFAULTS.repeats, 1, 20),
    regimes: regime === 'both' ? ['greedy', 'sampled'] : [regime],
    arms,
    url: values.url === undefined ? undefined : parseLoopbackUrl(values.url),
    routing,
    ortThreads: intOption('ort-threads', values['ort-threads'], 2, 1, 256),
    drafterThreads: intOption('drafter-threads', values['drafter-threads'], 1, 1, 256),
    peerThreads: values['peer-threads'] === undefined ? undefined : intOption('peer-threads', values['peer-threads'], 0, 1, 256),
    bareSpinning: values['bare-spinning'],
    seed: intOption('seed', values.seed, 1, 0, 2 ** 31),
    json: values.json,
    oneProcess: values['one-process'],
    host: values.host === undefined ? undefined : hostName(values.host),
  };
}

// ---- prompts ---------------------------------------------------------------------------------

interface Prompt {
  language: string;
  /** Whether `language` was given (UDHR label, or the file's field) rather than detected. */
  pinned: boolean;
  /** UDHR article, or the 1-based entry of the prompt file. */
  id: number;
  text: string;
}

function filePrompts(path: string, detectLanguage: (text: string) => { language: string | null }): Prompt[] {
  const raw = readFileSync(path, 'utf8');
  const entries: unknown[] = (() => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('[')) return JSON.parse(trimmed) as unknown[];
    const lines = raw.split(/\r?\n/).filter((l) => l.trim() !== '');
    const json = lines.every((l) => /^\s*[{"]/.test(l));
    return json ? lines.map((l) => JSON.parse(l) as unknown) : lines;
  })();
  return entries.map((e, i): Prompt => {
    const entry = typeof e === 'string' ? { text: e } : (e as { text?: unknown; prompt?: unknown; language?: unknown });
    const text = typeof entry.text === 'string' ? entry.text : typeof entry.prompt === 'string' ? entry.prompt : undefined;
    if (text === undefined || text === '') throw new UsageError(`--prompt-file entry ${i + 1} has no "text"`);
    if (typeof entry.language === 'string' && entry.language !== '') return { language: entry.language, pinned: true, id: i + 1, text };
    return { language: detectLanguage(text).language ?? 'unknown', pinned: false, id: i + 1, text };
  });
}

/** Languages in order, each with its measured prompts; and one warm-up prompt. */
async function loadPrompts(opts: Options): Promise<{ groups: { language: string; prompts: Prompt[] }[]; warmup: Prompt }> {
  if (opts.promptFile === undefined) {
    const languages = opts.languages ?? [...EVALUATION_LANGUAGES];
    const groups = languages.map((language) => {
      const { prompts } = benchPrompts(language, opts.promptsPerLanguage, opts.promptBytes);
      return { language, prompts: prompts.map((p): Prompt => ({ language, pinned: true, id: p.article, text: p.text })) };
    });
    const w = benchPrompts(languages[0]!, 1, opts.promptBytes).warmup;
    return { groups, warmup: { language: w.language, pinned: true, id: w.article, text: w.text } };
  }
  // Imported here only: the detector's tables are a large heap, which a host should not carry.
  const { detectLanguage } = await import('../src/routing/language-detector.js');
  const all = filePrompts(opts.promptFile, detectLanguage);
  if (all.length === 0) throw new UsageError(`--prompt-file ${opts.promptFile} holds no prompt`);
  const byLanguage = new Map<string, Prompt[]>();
  for (const p of all) {
    if (opts.languages !== null && !opts.languages.includes(p.language)) continue;
    const list = byLanguage.get(p.language) ?? [];
    if (list.length < opts.promptsPerLanguage) list.push(p);
    byLanguage.set(p.language, list);
  }
  if (byLanguage.size === 0) throw new UsageError(`--prompt-file: no prompt in --languages ${opts.languages?.join(',')}`);
  return { groups: [...byLanguage].map(([language, prompts]) => ({ language, prompts })), warmup: all[0]! };
}

// ---- arms ------------------------------------------------------------------------------------

interface Request {
  prompt: Prompt;
  promptIds: number[];
  regime: Regime;
  /** Sampled runs only. */
  seed: number;
  maxTokens: number;
}

/** What one arm's call gave. `tokenIds` excludes EOS; `tokens` is the count tokens/s uses (fairspec's includes EOS, as usage does). */
interface Outcome {
  tokens: number;
  tokenIds?: number[];
  text?: string;
  endedByEos: boolean;
  /** 'baseline/5', 'plain' */
  route?: string;
  /** Set by a host process (peer-hosts.ts): its onnxruntime and garbage-collection time in the call. */
  ortMs?: number;
  ortPasses?: number;
  gcMs?: number;
  /** Milliseconds inside the call, by part (see the breakdown printed at the end). */
  parts: Record<string, number>;
}

interface Run extends Outcome {
  arm: Arm;
  regime: Regime;
  language: string;
  promptId: number;
  repeat: number;
  /** Position of the arm in its round. */
  order: number;
  wallMs: number;
  /**
   * Outcome's ortMs, ortPasses, gcMs: time inside onnxruntime's session.run during the call (every
   * session of the process that ran it), how many runs, and that process's garbage-collection
   * pauses (gc-pauses.ts). The HTTP arms' are the server's.
   */
  error?: string;
}

type Generate = (req: Request) => Promise<Outcome>;

// Every onnxruntime session in this process (transformers.js', the bare loop's, the engines' and
// the in-process server's: onnxruntime-node is one CommonJS module for all of them) runs through
// InferenceSession.prototype.run; timing it attributes each call's time to the ONNX passes and to
// everything around them. Calls are sequential, so the counters belong to the call in progress.
const ort = { ms: 0, passes: 0 };
{
  const proto = (InferenceSession as unknown as { prototype: unknown }).prototype as { run: (this: unknown, ...args: unknown[]) => Promise<unknown> };
  const run = proto.run;
  proto.run = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const start = performance.now();
    try {
      return await run.apply(this, args);
    } finally {
      ort.ms += performance.now() - start;
      ort.passes++;
    }
  };
}

const gcPauses = new GcPauses();

/**
 * One call of `generate`, its wall time, and the onnxruntime time, runs and garbage-collection
 * pauses of this process during it (figures a host already put in the outcome are kept).
 */
async function measured(generate: Generate, req: Request): Promise<{ outcome: Outcome; wallMs: number }> {
  const before = { ms: ort.ms, passes: ort.passes };
  const start = performance.now();
  const outcome = await generate(req);
  const end = performance.now();
  const own = { ortMs: ort.ms - before.ms, ortPasses: ort.passes - before.passes, gcMs: await gcPauses.within(start, end) };
  return { outcome: { ...own, ...outcome }, wallMs: end - start };
}

const routeLabel = (drafter: string | null, gamma: number | null): string => (drafter === null || !gamma ? 'plain' : `${drafter}/${gamma}`);

/** The bare loop: one session, the verifier's settings, the previous presents fed back as the past. */
class BareLoop {
  private constructor(
    readonly session: InferenceSession,
    readonly config: ModelConfig,
    readonly kvType: 'float32' | 'float16',
    readonly eos: ReadonlySet<number>,
  ) {}

  static async load(file: string, config: ModelConfig, threads: number, spinning: boolean): Promise<BareLoop> {
    const session = await InferenceSession.create(file, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
    });
    const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
    const kvType = meta?.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
    return new BareLoop(session, config, kvType, new Set(config.eosTokenIds));
  }

  async generate(req: Request): Promise<Outcome> {
    const t0 = performance.now();
    const { numLayers, numKvHeads, headDim, vocabSize } = this.config;
    const names = new Set(this.session.inputNames);
    const random: RandomSource | null = req.regime === 'sampled' ? createRandom(req.seed) : null;
    const empty = (): Tensor => new Tensor(this.kvType, this.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, numKvHeads, 0, headDim]);
    let past: Tensor[] = Array.from({ length: 2 * numLayers }, empty);
    let input = req.promptIds;
    let pastLength = 0;
    const out: number[] = [];
    let runMs = 0;
    let prefillMs = 0;
    while (out.length < req.maxTokens) {
      const n = input.length;
      const feeds: Record<string, Tensor> = { input_ids: new Tensor('int64', BigInt64Array.from(input, BigInt), [1, n]) };
      if (names.has('attention_mask')) feeds['attention_mask'] = new Tensor('int64', new BigInt64Array(pastLength + n).fill(1n), [1, pastLength + n]);
      if (names.has('position_ids')) feeds['position_ids'] = new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(pastLength + i)), [1, n]);
      if (names.has('use_cache_branch')) feeds['use_cache_branch'] = new Tensor('bool', [pastLength > 0], [1]);
      if (names.has('num_logits_to_keep')) feeds['num_logits_to_keep'] = new Tensor('int64', BigInt64Array.of(1n), []);
      for (let i = 0; i < numLayers; i++) {
        feeds[`past_key_values.${i}.key`] = past[2 * i]!;
        feeds[`past_key_values.${i}.value`] = past[2 * i + 1]!;
      }
      const r0 = performance.now();
      const result = await this.session.run(feeds);
      if (pastLength === 0) prefillMs = performance.now() - r0;
      else runMs += performance.now() - r0;
      const logits = result['logits']!;
      if (logits.type !== 'float32') throw new Error(`bare loop: logits of type ${logits.type}`);
      const data = logits.data as Float32Array;
      const rows = data.length / vocabSize;
      const row = data.subarray((rows - 1) * vocabSize, rows * vocabSize); // [vocab], the last position
      // EOS is suppressed, as transformers.js' min_new_tokens does: exactly N tokens.
      let token: number;
      if (random === null) {
        token = -1;
        for (let v = 0; v < vocabSize; v++) if (!this.eos.has(v) && (token < 0 || row[v]! > row[token]!)) token = v;
      } else {
        const probs = softmax(row);
        for (const e of this.eos) probs[e] = 0;
        token = sampleIndex(probs, random.next());
      }
      out.push(token);
      past = [];
      for (let i = 0; i < numLayers; i++) past.push(result[`present.${i}.key`]!, result[`present.${i}.value`]!);
      pastLength += n;
      input = [token];
    }
    return { tokens: out.length, tokenIds: out, endedByEos: false, parts: { prefill: prefillMs, run: runMs, loop: performance.now() - t0 - runMs - prefillMs } };
  }
}

interface Peer {
  generate: Generate;
  version: string;
  dispose(): Promise<void>;
}

async function loadPeer(pack: string, threads: number | undefined): Promise<Peer> {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = `${pack}/`;
  const model = await tjs.AutoModelForCausalLM.from_pretrained('verifier', {
    dtype: 'fp32',
    device: 'cpu',
    ...(threads !== undefined ? { session_options: { intraOpNumThreads: threads } } : {}),
  });
  const generate: Generate = async (req) => {
    const n = req.promptIds.length;
    const inputIds = new tjs.Tensor('int64', BigInt64Array.from(req.promptIds, BigInt), [1, n]);
    const attentionMask = new tjs.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    if (req.regime === 'sampled') tjs.random.seed(req.seed);
    const output = await model.generate({
      input_ids: inputIds,
      attention_mask: attentionMask,
      max_new_tokens: req.maxTokens,
      min_new_tokens: req.maxTokens,
      do_sample: req.regime === 'sampled',
      ...(req.regime === 'sampled' ? { temperature: 1, top_k: 0, top_p: 1 } : {}),
    } as Parameters<typeof model.generate>[0]);
    const ids = ((output as { tolist(): bigint[][] }).tolist()[0] ?? []).slice(n).map(Number);
    return { tokens: ids.length, tokenIds: ids, endedByEos: false, parts: {} };
  };
  return { generate, version: tjs.env.version, dispose: async () => { await model.dispose(); } };
}

function engineArm(engine: Engine, route: (req: Request) => Route): Generate {
  return async (req) => {
    const r = route(req);
    const t0 = performance.now();
    const result = await engine.generate(req.prompt.text, {
      promptIds: req.promptIds,
      maxTokens: req.maxTokens,
      temperature: req.regime === 'greedy' ? 0 : 1,
      topP: 1,
      topK: 0,
      ...(req.regime === 'sampled' ? { seed: req.seed } : {}),
      stop: [],
      drafter: r.drafter,
      draftLength: r.draftLength,
      // As the server passes it: the n-gram drafter drafts with the language's table.
      language: req.prompt.language === 'unknown' ? null : req.prompt.language,
    });
    const wall = performance.now() - t0;
    const { draftMs, verifyMs } = result.stats;
    return {
      tokens: result.completionTokens,
      tokenIds: result.tokenIds,
      text: result.text,
      endedByEos: result.completionTokens > result.tokenIds.length,
      route: routeLabel(result.stats.drafter, result.stats.draftLength),
      parts: { draft: draftMs, verify: verifyMs, loop: result.totalMs - draftMs - verifyMs, outside: wall - result.totalMs },
    };
  };
}

const wholeMs = (ms: number): number => Math.max(1, Math.ceil(ms));

function describeError(raw: string): string {
  try {
    const { error } = JSON.parse(raw) as ErrorBody;
    return `${error.type ?? 'error'}${error.code ? ` ${error.code}` : ''}: ${error.message}`;
  } catch {
    return raw.slice(0, 200);
  }
}

/** `speculative`: the request's override (plain: draft_length 0), null to let the server route. */
function httpArm(pool: Pool, model: string, speculative: { drafter?: string; draft_length: number } | null): Generate {
  return async (req) => {
    const payload = {
      model,
      prompt: req.prompt.text,
      max_tokens: req.maxTokens,
      temperature: req.regime === 'greedy' ? 0 : 1,
      top_p: 1,
      top_k: 0,
      seed: req.regime === 'sampled' ? req.seed : 0,
      stream: false,
      ...(req.prompt.pinned ? { language: req.prompt.language } : {}),
      ...(speculative !== null ? { speculative } : {}),
    };
    const t0 = performance.now();
    const { statusCode, body } = await pool.request({
      method: 'POST',
      path: '/v1/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(wholeMs(300_000)),
    });
    const raw = await body.text();
    const wall = performance.now() - t0;
    if (statusCode !== 200) throw new Error(`HTTP ${statusCode}: ${describeError(raw)}`);
    const res = JSON.parse(raw) as CompletionResponseBody;
    const choice = res.choices[0];
    if (choice === undefined) throw new Error('response has no choices[0]');
    const tokens = res.usage.completion_tokens;
    const spec = res.speculative;
    const engineMs = spec ? spec.draft_ms + spec.verify_ms : 0;
    return {
      tokens,
      text: choice.text,
      endedByEos: choice.finish_reason === 'stop',
      route: spec ? routeLabel(spec.drafter, spec.draft_length) : undefined,
      parts: spec ? { draft: spec.draft_ms, verify: spec.verify_ms, rest: wall - engineMs } : ({} as Record<string, number>),
    };
  };
}

// ---- statistics ------------------------------------------------------------------------------

const tps = (r: Run): number => r.tokens / (r.wallMs / 1000);

interface LanguageRow {
  language: string;
  regime: Regime;
  prompts: number;
  /** arm -> median over prompts of the per-prompt median tokens/s over repeats. */
  tokensPerSecond: Partial<Record<Arm, number>>;
  /** arm -> tokensPerSecond[arm] / tokensPerSecond.tjs */
  vsPeer: Partial<Record<Arm, number>>;
  /** arm -> tokensPerSecond[arm] / tokensPerSecond.bare */
  vsBare: Partial<Record<Arm, number>>;
  routes: string[];
  /** fairspec runs that ended at EOS before N tokens. */
  eos: number;
  errors: number;
  /** Greedy: prompts compared, and those where some arm's output differs. null: nothing to compare. */
  lossless: { compared: number; failed: number } | null;
}

/** Greedy: every arm's output, the same continuation? Returns the failures' descriptions. */
function losslessFailures(runs: readonly Run[], tokenizer: TextTokenizer): { compared: boolean; failures: string[] } {
  const ok = runs.filter((r) => r.error === undefined);
  const withIds = ok.filter((r) => r.tokenIds !== undefined);
  // The reference: an arm that always produces N tokens if there is one (tjs, bare), else the longest.
  const reference = ['tjs', 'bare', 'engine-plain', 'engine-spec']
    .map((a) => withIds.find((r) => r.arm === a))
    .find((r) => r !== undefined);
  if (ok.length < 2) return { compared: false, failures: [] };
  if (reference === undefined) return textOnlyFailures(ok);
  const ref = reference.tokenIds!;
  const failures: string[] = [];
  for (const r of ok) {
    if (r === reference) continue;
    if (r.tokenIds !== undefined) {
      const k = r.tokenIds.length;
      const same = k <= ref.length && r.tokenIds.every((t, i) => t === ref[i]);
      const complete = k === ref.length || r.endedByEos;
      if (!same || !complete) {
        let i = 0;
        while (i < k && r.tokenIds[i] === ref[i]) i++;
        failures.push(`${r.arm} (repeat ${r.repeat}) differs from ${reference.arm} at token ${i}: ${r.tokenIds.slice(i, i + 6).join(',')} vs ${ref.slice(i, i + 6).join(',')}`);
      }
    } else if (r.text !== undefined) {
      // The text the engine gave for the same tokens (same detokenizer); else the reference's
      // tokens decoded, less the one U+FFFD of a character cut at the end, which fairspec drops.
      const k = r.tokens - (r.endedByEos ? 1 : 0);
      const engineText = ok.find((e) => e.arm.startsWith('engine-') && e.text !== undefined && e.tokens === r.tokens && e.endedByEos === r.endedByEos)?.text;
      const expected = engineText ?? tokenizer.decode(ref.slice(0, k)).replace(/\uFFFD$/, '');
      if (k > ref.length || r.text !== expected) {
        const a = [...r.text];
        const b = [...expected];
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        failures.push(`${r.arm} (repeat ${r.repeat}) text differs from ${reference.arm}'s at character ${i}: ${JSON.stringify(a.slice(i, i + 12).join(''))} vs ${JSON.stringify(b.slice(i, i + 12).join(''))}`);
      }
    }
  }
  return { compared: true, failures };
}

/** Only HTTP arms: their texts must agree (a shorter one ended at EOS and is a prefix). */
function textOnlyFailures(runs: readonly Run[]): { compared: boolean; failures: string[] } {
  const withText = runs.filter((r) => r.text !== undefined);
  const reference = withText.reduce<Run | undefined>((best, r) => (best === undefined || r.tokens > best.tokens ? r : best), undefined);
  if (reference === undefined || withText.length < 2) return { compared: false, failures: [] };
  const failures = withText
    .filter((r) => r !== reference)
    .filter((r) => (r.tokens === reference.tokens ? r.text !== reference.text : !(r.endedByEos && reference.text!.startsWith(r.text!))))
    .map((r) => `${r.arm} (repeat ${r.repeat}) text differs from ${reference.arm}'s: ${JSON.stringify(r.text!.slice(0, 40))} vs ${JSON.stringify(reference.text!.slice(0, 40))}`);
  return { compared: true, failures };
}

function languageRow(language: string, regime: Regime, byPrompt: readonly Run[][], arms: readonly Arm[], lossless: LanguageRow['lossless']): LanguageRow {
  const all = byPrompt.flat();
  const tokensPerSecond: Partial<Record<Arm, number>> = {};
  for (const arm of arms) {
    const perPrompt = byPrompt
      .map((runs) => runs.filter((r) => r.arm === arm && r.error === undefined).map(tps))
      .filter((xs) => xs.length > 0)
      .map(median);
    if (perPrompt.length > 0) tokensPerSecond[arm] = median(perPrompt);
  }
  const ratio = (base: Arm): Partial<Record<Arm, number>> => {
    const b = tokensPerSecond[base];
    const out: Partial<Record<Arm, number>> = {};
    if (b === undefined) return out;
    for (const arm of arms) if (arm !== base && tokensPerSecond[arm] !== undefined) out[arm] = tokensPerSecond[arm]! / b;
    return out;
  };
  const ok = all.filter((r) => r.error === undefined);
  return {
    language,
    regime,
    prompts: byPrompt.length,
    tokensPerSecond,
    vsPeer: ratio('tjs'),
    vsBare: ratio('bare'),
    routes: [...new Set(ok.filter((r) => r.arm === 'engine-spec' || r.arm === 'http-spec').map((r) => `${r.arm === 'engine-spec' ? 'e' : 'h'}:${r.route ?? '?'}`))],
    eos: ok.filter((r) => FAIRSPEC_ARMS.includes(r.arm) && r.endedByEos).length,
    errors: all.length - ok.length,
    lossless,
  };
}

interface ArmSummary {
  arm: Arm;
  base: 'tjs' | 'bare';
  languages: number;
  geomean: number;
  worst: { language: string; ratio: number };
  best: { language: string; ratio: number };
}

function summarize(rows: readonly LanguageRow[], arm: Arm, base: 'tjs' | 'bare'): ArmSummary | null {
  const ratios = rows
    .map((r) => ({ language: r.language, ratio: (base === 'tjs' ? r.vsPeer : r.vsBare)[arm] }))
    .filter((x): x is { language: string; ratio: number } => x.ratio !== undefined && Number.isFinite(x.ratio) && x.ratio > 0)
    .sort((a, b) => a.ratio - b.ratio);
  if (ratios.length === 0) return null;
  return { arm, base, languages: ratios.length, geomean: geomean(ratios.map((x) => x.ratio)), worst: ratios[0]!, best: ratios[ratios.length - 1]! };
}

// ---- printing --------------------------------------------------------------------------------

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const fmt = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const fmtX = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);

function table(header: string[], rows: string[][], leftColumns: number[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (leftColumns.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

function printRegime(regime: Regime, rows: readonly LanguageRow[], arms: readonly Arm[]): { summaries: ArmSummary[] } {
  const vsPeer = arms.includes('tjs') ? arms.filter((a) => a !== 'tjs') : [];
  const vsBare = arms.includes('bare') ? arms.filter((a) => FAIRSPEC_ARMS.includes(a)) : [];
  const header = [
    'lang',
    ...arms.map((a) => LABEL[a]),
    ...vsPeer.map((a) => `${LABEL[a]}/tjs`),
    ...vsBare.map((a) => `${LABEL[a]}/bare`),
    'route (e: engine, h: http)',
    'eos',
    'err',
    'lossless',
  ];
  const body = rows.map((r) => [
    r.language,
    ...arms.map((a) => fmt(r.tokensPerSecond[a])),
    ...vsPeer.map((a) => fmtX(r.vsPeer[a])),
    ...vsBare.map((a) => fmtX(r.vsBare[a])),
    r.routes.join(' ') || '-',
    String(r.eos),
    String(r.errors),
    r.lossless === null ? '-' : r.lossless.failed === 0 ? `yes (${r.lossless.compared})` : `NO (${r.lossless.failed}/${r.lossless.compared})`,
  ]);
  const title = regime === 'greedy' ? 'greedy (temperature 0)' : 'sampled (temperature 1, top_p 1, top_k 0; seeded where the arm allows)';
  out(`${title}: tokens/s per arm (median over prompts of each prompt's median over repeats), then ratios of those medians`);
  for (const l of table(header, body, [0, header.length - 4, header.length - 1])) out(l);
  const summaries: ArmSummary[] = [];
  for (const arm of vsPeer) {
    const s = summarize(rows, arm, 'tjs');
    if (s) summaries.push(s);
  }
  for (const arm of vsBare) {
    const s = summarize(rows, arm, 'bare');
    if (s) summaries.push(s);
  }
  if (summaries.length > 0) {
    out();
    out(`summary, ${regime}: per arm over languages, its tokens/s over the base arm's`);
    const lines = table(
      ['arm', 'over', 'languages', 'geomean', 'worst', 'best'],
      summaries.map((s) => [LABEL[s.arm], s.base, String(s.languages), fmtX(s.geomean), `${fmtX(s.worst.ratio)} (${s.worst.language})`, `${fmtX(s.best.ratio)} (${s.best.language})`]),
      [0, 1],
    );
    for (const l of lines) out(`  ${l}`);
  }
  return { summaries };
}

/** Median milliseconds per generated token of each part of each arm's time. */
function breakdown(runs: readonly Run[], arms: readonly Arm[]): Partial<Record<Arm, Record<string, number>>> {
  const result: Partial<Record<Arm, Record<string, number>>> = {};
  for (const arm of arms) {
    const ok = runs.filter((r) => r.arm === arm && r.error === undefined && r.tokens > 0);
    if (ok.length === 0) continue;
    const parts: Record<string, number> = {
      wall: median(ok.map((r) => r.wallMs / r.tokens)),
      ort: median(ok.map((r) => (r.ortMs ?? 0) / r.tokens)),
      passes: median(ok.map((r) => (r.ortPasses ?? 0) / r.tokens)),
      gc: median(ok.map((r) => (r.gcMs ?? 0) / r.tokens)),
    };
    for (const key of new Set(ok.flatMap((r) => Object.keys(r.parts)))) {
      parts[key] = median(ok.map((r) => (r.parts[key] ?? 0) / r.tokens));
    }
    result[arm] = parts;
  }
  return result;
}

const PART_NAMES: Record<string, string> = {
  wall: 'wall',
  prefill: 'prompt pass',
  run: 'session.run of the steps',
  loop: 'rest of the loop',
  gc: 'garbage collection (anywhere in the call)',
  draft: 'draft',
  verify: 'verify',
  outside: 'engine.generate outside the loop',
  rest: 'HTTP + server outside draft/verify',
};

// ---- hosts: where each arm runs ---------------------------------------------------------------

const HOSTS = ['tjs', 'bare', 'engine', 'server'] as const;
type HostName = (typeof HOSTS)[number];
/** The process each arm runs in (peer-hosts.ts); the HTTP arms' client runs in the bench process. */
const HOST_OF: Record<Arm, HostName> = {
  tjs: 'tjs', bare: 'bare', 'engine-plain': 'engine', 'engine-spec': 'engine', 'http-plain': 'server', 'http-spec': 'server',
};

function hostName(raw: string): HostName {
  if (!(HOSTS as readonly string[]).includes(raw)) throw new UsageError(`--host must be one of ${HOSTS.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as HostName;
}

interface ArmContext {
  verifierFile: { path: string };
  verifierConfig: ModelConfig;
  drafterNames: string[];
  routing: RoutingTable;
  timed: <T>(name: string, f: () => Promise<T>) => Promise<T>;
}

/**
 * One host's arms, loaded in this process: generators keyed by arm, and `arm:drafter` for the
 * drafter warm-ups. The server host starts the server and has no generator (its client is the
 * bench's).
 */
async function loadHostArms(
  name: HostName,
  opts: Options,
  ctx: ArmContext,
): Promise<{ generators: Map<string, Generate>; closers: (() => Promise<void>)[]; info: { peerVersion?: string; serverUrl?: string; model?: string } }> {
  const generators = new Map<string, Generate>();
  const closers: (() => Promise<void>)[] = [];
  if (name === 'tjs') {
    const peer = await ctx.timed('tjs', () => loadPeer(opts.pack, opts.peerThreads));
    generators.set('tjs', peer.generate);
    return { generators, closers: [peer.dispose], info: { peerVersion: peer.version } };
  }
  if (name === 'bare') {
    const bare = await ctx.timed('bare', () => BareLoop.load(ctx.verifierFile.path, ctx.verifierConfig, opts.ortThreads, opts.bareSpinning));
    generators.set('bare', (req) => bare.generate(req));
    return { generators, closers: [() => bare.session.release()], info: {} };
  }
  if (name === 'engine') {
    const engine = await ctx.timed('engine', () => loadEngine(opts.pack, { intraOpNumThreads: opts.ortThreads, drafterIntraOpNumThreads: opts.drafterThreads }));
    closers.push(() => engine.close());
    generators.set('engine-plain', engineArm(engine, () => ({ drafter: null, draftLength: 0 })));
    generators.set('engine-spec', engineArm(engine, (req) => ctx.routing.resolve(req.prompt.language === 'unknown' ? null : req.prompt.language, req.regime)));
    if (opts.arms.includes('engine-spec')) for (const drafter of ctx.drafterNames) generators.set(`engine-spec:${drafter}`, engineArm(engine, () => ({ drafter, draftLength: 4 })));
    return { generators, closers, info: {} };
  }
  const model = 'fairspec-peer-bench';
  const config = loadConfig({}, {
    packDir: opts.pack,
    modelId: model,
    routingMode: opts.routing,
    logLevel: 'error',
    ortThreads: opts.ortThreads,
    drafterOrtThreads: opts.drafterThreads,
    maxTokens: Math.max(512, opts.maxTokens),
    host: '127.0.0.1',
    port: 0,
  });
  // Imported here only: the server holds the language detector's tables, a large heap.
  const { buildApp } = await import('../app.js');
  const app = await ctx.timed('server', async () => {
    const a = await buildApp(config);
    await a.listen({ port: 0, host: '127.0.0.1' });
    return a;
  });
  closers.push(() => app.close());
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return { generators, closers, info: { serverUrl: `http://127.0.0.1:${address.port}`, model } };
}

/** A host process: loads its arms and answers the bench process until it says close. */
async function runHost(opts: Options): Promise<number> {
  try {
    const { paths } = await readPack(opts.pack);
    const drafterNames = Object.keys(paths.drafters ?? {});
    const ctx: ArmContext = {
      verifierFile: await resolveModelFile(paths.verifier, 'fp32'),
      verifierConfig: await readModelConfig(paths.verifier),
      drafterNames,
      routing: await RoutingTable.load(join(opts.pack, 'routing.json'), { drafters: drafterNames }),
      timed: (_name, f) => f(),
    };
    const set = await loadHostArms(opts.host!, opts, ctx);
    const start = performance.now();
    // Each call reports its own onnxruntime and GC time; the server's are read as running totals.
    const calls = new Map<string, (req: never) => Promise<unknown>>();
    for (const [key, generate] of set.generators) calls.set(key, async (req: Request) => (await measured(generate, req)).outcome);
    const counters = async (): Promise<HostCounters> => ({ ortMs: ort.ms, ortPasses: ort.passes, gcMs: await gcPauses.within(start) });
    serveHost({ ...set.info, keys: [...set.generators.keys()] }, calls, counters, set.closers);
  } catch (err) {
    failHost(err);
  }
  return 0;
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let opts: Options;
  let groups: { language: string; prompts: Prompt[] }[];
  let warmup: Prompt;
  try {
    opts = parseOptions(process.argv.slice(2));
    if (opts.host !== undefined) return await runHost(opts);
    ({ groups, warmup } = await loadPrompts(opts));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  const startedAt = new Date();
  const t0 = performance.now();
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: finishing the current call, then reporting (Ctrl-C again to quit)\n');
  };
  process.on('SIGINT', onSigint);

  const m = machine();
  out('fairspec vs transformers.js: peer bench');
  out(`date     ${startedAt.toISOString()}`);
  out(`machine  ${describeMachine(m)}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // Loading: the tokenizer and routing table, then each arm's model.
  const { tokenizer, paths } = await readPack(opts.pack);
  const verifierConfig = await readModelConfig(paths.verifier);
  const verifierFile = await resolveModelFile(paths.verifier, 'fp32');
  const drafterNames = Object.keys(paths.drafters ?? {});
  const routing = await RoutingTable.load(join(opts.pack, 'routing.json'), { drafters: drafterNames });
  const loadMs: Partial<Record<string, number>> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    const v = await f();
    loadMs[name] = performance.now() - s;
    return v;
  };

  const ctx: ArmContext = { verifierFile, verifierConfig, drafterNames, routing, timed };
  const generators: Partial<Record<Arm, Generate>> = {};
  /** Each drafter once per engine before timing: a session's first runs allocate. */
  const drafterWarmups: { arm: Arm; drafter: string; generate: Generate }[] = [];
  const closers: (() => Promise<void>)[] = [];
  let peerVersion = '';
  let serverUrl = '';
  let model = '';
  /** The server's host in the isolated layout: its counters give the HTTP arms' onnxruntime and GC time. */
  let serverHost: HostProcess | null = null;
  const hosts = HOSTS.filter((h) => opts.arms.some((a) => HOST_OF[a] === h) && !(h === 'server' && opts.url !== undefined));
  try {
    for (const name of hosts) {
      if (opts.oneProcess) {
        const set = await loadHostArms(name, opts, ctx);
        closers.push(...set.closers);
        for (const [key, generate] of set.generators) {
          const [arm, drafter] = key.split(':') as [Arm, string | undefined];
          if (drafter !== undefined) drafterWarmups.push({ arm, drafter, generate });
          else generators[arm] = generate;
        }
        peerVersion ||= set.info.peerVersion ?? '';
        serverUrl ||= set.info.serverUrl ?? '';
        model ||= set.info.model ?? '';
        continue;
      }
      // The server's process gets the node options the server is started with.
      const nodeFlags = name === 'server' ? SERVER_NODE_FLAGS : [];
      const { host, info } = await timed(name, () => HostProcess.start(name, fileURLToPath(import.meta.url), process.argv.slice(2), nodeFlags));
      closers.push(() => host.close());
      const keys = info['keys'] as string[];
      for (const key of keys) {
        const [arm, drafter] = key.split(':') as [Arm, string | undefined];
        const generate: Generate = (req) => host.call<Outcome>(key, req);
        if (drafter !== undefined) drafterWarmups.push({ arm, drafter, generate });
        else generators[arm] = generate;
      }
      peerVersion ||= (info['peerVersion'] as string | undefined) ?? '';
      if (name === 'server') {
        serverUrl = info['serverUrl'] as string;
        model = info['model'] as string;
        serverHost = host;
      }
    }
    if (opts.arms.includes('http-plain') || opts.arms.includes('http-spec')) {
      if (opts.url !== undefined) {
        serverUrl = opts.url.origin;
        const res = await fetch(new URL('/v1/models', serverUrl));
        const list = (await res.json()) as { data?: { id: string }[] };
        const id = list.data?.[0]?.id;
        if (id === undefined) throw new Error(`GET ${serverUrl}/v1/models listed no model`);
        model = id;
      }
      // One connection, no pipelining: strictly one request at a time.
      const pool = new Pool(serverUrl, { connections: 1, pipelining: 1, headersTimeout: 300_000, bodyTimeout: 300_000 });
      closers.push(() => pool.close());
      generators['http-plain'] = httpArm(pool, model, { draft_length: 0 });
      generators['http-spec'] = httpArm(pool, model, null);
      if (opts.arms.includes('http-spec')) for (const drafter of drafterNames) drafterWarmups.push({ arm: 'http-spec', drafter, generate: httpArm(pool, model, { drafter, draft_length: 4 }) });
    }
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }

  const prompts = groups.reduce((a, g) => a + g.prompts.length, 0);
  const calls = prompts * opts.repeats * opts.regimes.length * opts.arms.length;
  const threadsNote = opts.peerThreads === undefined ? 'its session defaults (onnxruntime picks the threads, spinning on)' : `${opts.peerThreads} intra-op threads`;
  out(`pack     ${opts.pack}: verifier ${verifierFile.path} (${verifierFile.dtype}), drafters ${drafterNames.join(', ') || 'none'}`);
  out(`arms     ${opts.arms.join(', ')}`);
  out(`layout   ${opts.oneProcess ? 'every arm in this process (--one-process)' : `a process per contender: ${hosts.join(', ')}${opts.arms.some((a) => HOST_OF[a] === 'server') ? ' (the HTTP client in this process)' : ''}`}`);
  if (opts.arms.includes('tjs')) out(`         tjs: @huggingface/transformers ${peerVersion} generate(), fp32, cpu, ${threadsNote}; min_new_tokens = max_new_tokens = N`);
  if (opts.arms.includes('bare')) out(`         bare: onnxruntime-node InferenceSession on the same file, ${opts.ortThreads} intra-op threads, ${opts.bareSpinning ? 'SPINNING (--bare-spinning)' : 'no spinning'}; EOS suppressed: N tokens`);
  if (opts.arms.includes('engine-plain') || opts.arms.includes('engine-spec')) {
    out(`         e-*: loadEngine in ${opts.oneProcess ? 'this' : 'its own'} process (verifier ${opts.ortThreads} threads, drafters ${opts.drafterThreads}); e-spec: routing.json's route for the language and regime`);
  }
  if (serverUrl !== '') {
    out(`         h-*: ${opts.url !== undefined ? `the server at ${serverUrl}` : `a server started ${opts.oneProcess ? 'in this process' : 'in its own process'} at ${serverUrl} (buildApp, ${opts.routing} routing)`}, one connection, language pinned; h-spec: routed`);
  }
  out(`settings ${groups.length} languages, ${prompts} prompts x ${opts.repeats} repeats x ${opts.regimes.join('+')}, N = ${opts.maxTokens} tokens, ` +
    `${opts.promptFile ?? `UDHR prompts <= ${opts.promptBytes} B`}; ${calls} timed calls`);
  out(`         compared: tokens/s = generated tokens / wall time of the call (tjs and bare make exactly N; fairspec stops at EOS: column eos)`);
  if (Object.keys(loadMs).length > 0) out(`loading  ${Object.entries(loadMs).map(([k, v]) => `${k} ${((v ?? 0) / 1000).toFixed(1)} s`).join(', ')}`);
  out();

  const runs: Run[] = [];
  const call = async (arm: Arm, req: Request, order: number, repeat: number, generate: Generate = generators[arm]!): Promise<Run> => {
    const base = { arm, regime: req.regime, language: req.prompt.language, promptId: req.prompt.id, repeat, order };
    const callStart = performance.now();
    try {
      // A server in its own process: its running totals before and after the call.
      const server = serverHost !== null && HOST_OF[arm] === 'server' ? serverHost : null;
      const before = server ? await server.counters() : null;
      const { outcome, wallMs } = await measured(generate, req);
      const after = server ? await server.counters() : null;
      const own = before && after ? { ortMs: after.ortMs - before.ortMs, ortPasses: after.ortPasses - before.ortPasses, gcMs: after.gcMs - before.gcMs } : {};
      return { ...base, ...outcome, ...own, wallMs };
    } catch (err) {
      return { ...base, tokens: 0, endedByEos: false, parts: {}, wallMs: performance.now() - callStart, error: err instanceof Error ? err.message : String(err) };
    }
  };
  const request = (prompt: Prompt, regime: Regime, seed: number): Request => ({
    prompt, promptIds: tokenizer.encode(prompt.text), regime, seed, maxTokens: opts.maxTokens,
  });

  // Warm-up, uncounted: each drafter once in each engine, then every arm once per regime. The
  // arms' warm-up calls (the same N tokens) also give a first estimate of the timed calls' time.
  const w0 = performance.now();
  for (const warm of drafterWarmups) {
    const run = await call(warm.arm, request(warmup, 'greedy', opts.seed), 0, -1, warm.generate);
    if (run.error !== undefined) out(`  ! warm-up ${warm.arm} ${warm.drafter}: ${run.error}`);
  }
  let roundMs = 0;
  for (const regime of opts.regimes) {
    for (const arm of opts.arms) {
      const run = await call(arm, request(warmup, regime, opts.seed), 0, -1);
      if (run.error !== undefined) out(`  ! warm-up ${arm} ${regime}: ${run.error}`);
      roundMs += run.wallMs;
    }
  }
  const estimateS = (roundMs * prompts * opts.repeats) / 1000;
  out(`warm-up  ${((performance.now() - w0) / 1000).toFixed(1)} s; at the warm-up's pace the timed calls take about ${estimateS < 120 ? `${estimateS.toFixed(0)} s` : `${(estimateS / 60).toFixed(1)} min`}`);
  out();

  // The timed rounds.
  const byLanguage = new Map<string, Map<Regime, Run[][]>>();
  const lossless = new Map<string, { compared: number; failed: number }>();
  const failures: string[] = [];
  let round = 0;
  let seedCounter = 0;
  measure: for (const group of groups) {
    const perRegime = new Map<Regime, Run[][]>(opts.regimes.map((r) => [r, []]));
    byLanguage.set(group.language, perRegime);
    for (const prompt of group.prompts) {
      const promptRuns = new Map<Regime, Run[]>(opts.regimes.map((r) => [r, []]));
      for (let repeat = 0; repeat < opts.repeats; repeat++) {
        const seed = opts.seed + ++seedCounter;
        for (const regime of opts.regimes) {
          const k = round++;
          const rotated = opts.arms.map((_, i) => opts.arms[(i + k) % opts.arms.length]!);
          const order = Math.floor(k / opts.arms.length) % 2 === 1 ? rotated.reverse() : rotated;
          const req = request(prompt, regime, seed);
          for (const [i, arm] of order.entries()) {
            if (interrupted) break measure;
            const run = await call(arm, req, i, repeat);
            if (run.error !== undefined) out(`  ! ${group.language} #${prompt.id} ${regime} ${arm}: ${run.error}`);
            runs.push(run);
            promptRuns.get(regime)!.push(run);
          }
        }
      }
      for (const regime of opts.regimes) {
        const list = promptRuns.get(regime)!;
        perRegime.get(regime)!.push(list);
        if (regime !== 'greedy') continue;
        const check = losslessFailures(list, tokenizer);
        if (!check.compared) continue;
        const entry = lossless.get(group.language) ?? { compared: 0, failed: 0 };
        entry.compared++;
        if (check.failures.length > 0) {
          entry.failed++;
          for (const f of check.failures) {
            const line = `${group.language} #${prompt.id}: LOSSLESSNESS FAILURE, ${f}`;
            failures.push(line);
            out(`  ! ${line}`);
          }
        }
        lossless.set(group.language, entry);
      }
    }
    process.stderr.write(`  ${group.language} done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  process.off('SIGINT', onSigint);

  const tables: Record<string, { rows: LanguageRow[]; summaries: ArmSummary[]; breakdownMsPerToken: ReturnType<typeof breakdown> }> = {};
  for (const regime of opts.regimes) {
    const rows = [...byLanguage]
      .map(([language, perRegime]) => ({ language, prompts: (perRegime.get(regime) ?? []).filter((p) => p.length > 0) }))
      .filter((x) => x.prompts.length > 0)
      .map((x) => languageRow(x.language, regime, x.prompts, opts.arms, regime === 'greedy' ? lossless.get(x.language) ?? null : null));
    const { summaries } = printRegime(regime, rows, opts.arms);
    const parts = breakdown(runs.filter((r) => r.regime === regime), opts.arms);
    out();
    out(`where the time goes, ${regime}: ms per generated token, medians over runs`);
    for (const arm of opts.arms) {
      const p = parts[arm];
      if (p === undefined) continue;
      const detail = Object.entries(p)
        .filter(([k, v]) => !['wall', 'ort', 'passes'].includes(k) && !(k === 'draft' && v === 0))
        .map(([k, v]) => `${PART_NAMES[k] ?? k} ${v.toFixed(2)}`)
        .join(', ');
      // A --url server runs its sessions in its own process: nothing to see from here.
      const inOrt = p['passes']! > 0
        ? `${p['ort']!.toFixed(2)} in session.run (${(p['ort']! / p['wall']! * 100).toFixed(0)}%, ${p['passes']!.toFixed(2)} runs/token), ${(p['wall']! - p['ort']!).toFixed(2)} outside`
        : 'session.run not seen (another process)';
      out(`  ${LABEL[arm].padEnd(8)} ${p['wall']!.toFixed(2)}: ${inOrt}${detail ? `; ${detail}` : ''}`);
    }
    out();
    tables[regime] = { rows, summaries, breakdownMsPerToken: parts };
  }

  // Sampled: the bare loop and fairspec's plain decoding share the sampler (float64 softmax,
  // inverse CDF, xoroshiro128+ from the seed), so from one seed they draw the same tokens.
  let seededPairs = 0;
  let seededSame = 0;
  if (opts.regimes.includes('sampled') && opts.arms.includes('bare') && opts.arms.includes('engine-plain')) {
    const key = (r: Run): string => `${r.language}\u0000${r.promptId}\u0000${r.repeat}`;
    const bare = new Map(runs.filter((r) => r.regime === 'sampled' && r.arm === 'bare' && r.error === undefined).map((r) => [key(r), r]));
    for (const r of runs.filter((x) => x.regime === 'sampled' && x.arm === 'engine-plain' && x.error === undefined)) {
      const b = bare.get(key(r));
      if (b === undefined) continue;
      seededPairs++;
      if (r.tokenIds!.every((t, i) => t === b.tokenIds![i])) seededSame++;
    }
  }

  const armSeconds = Object.fromEntries(opts.arms.map((a) => [a, runs.filter((r) => r.arm === a).reduce((s, r) => s + r.wallMs, 0) / 1000]));
  const elapsedS = (performance.now() - t0) / 1000;
  if (opts.regimes.includes('greedy')) {
    const compared = [...lossless.values()].reduce((a, e) => a + e.compared, 0);
    out(`losslessness (greedy): ${compared} prompts compared across ${opts.arms.length} arms, ${failures.length === 0 ? 'every arm gave the same continuation' : `${failures.length} FAILURES`}`);
  }
  if (seededPairs > 0) out(`seeded sampling (sampled): bare and e-plain drew the same tokens from the same seed in ${seededSame} of ${seededPairs} runs`);
  if (interrupted) out('stopped early (interrupted): the figures cover what finished');
  out(`time     ${elapsedS.toFixed(1)} s in all; timed calls per arm: ${opts.arms.map((a) => `${LABEL[a]} ${armSeconds[a]!.toFixed(1)} s`).join(', ')}`);

  if (opts.json !== undefined) {
    writeFileSync(opts.json, `${JSON.stringify({
      tool: 'bench/peer-bench.ts',
      date: startedAt.toISOString(),
      machine: m,
      loadAverage: os.loadavg(),
      settings: { ...opts, url: opts.url?.origin, serverUrl, peerVersion, verifier: verifierFile.path, calls },
      loadMs,
      elapsedS,
      interrupted,
      prompts: [warmup, ...groups.flatMap((g) => g.prompts)].map((p, i) => ({ ...p, warmup: i === 0 })),
      tables,
      losslessnessFailures: failures,
      seededSampling: { pairs: seededPairs, same: seededSame },
      runs,
    }, null, 2)}\n`);
    out(`raw figures written to ${opts.json}`);
  }

  for (const close of closers.reverse()) await close();
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main();
