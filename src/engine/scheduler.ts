// Continuous batching (issue 15): every running sequence advances in one verifier pass per step.
// Per step:
//   1. sequences that ended (client gone, no room) leave; waiting ones take the free rows,
//      requests served round-robin (the group with the fewest rows first); a request holding
//      more than its share of rows while another request has none gives one up (preemption by
//      recomputation, as vLLM does: the sequence keeps its tokens, its cache rows are dropped,
//      and its context is prefilled again when it gets a row back);
//   2. each joining sequence's context is prefilled in a pass of its own, then joins the batch,
//      so one long prompt never widens the batch's pass; a new sequence's first token comes from
//      its prefill's logits;
//   3. each drafter drafts for all its rows at once (drafter.ts), γ per row, capped under load by
//      the measured cost of this batch size (step-cost.ts);
//   4. one verifier pass over [rows, widest feed] scores every row's drafts;
//   5. each row runs its own rejection step (sequence.ts) and emits its text.
// A sequence whose client has not taken its last text sits passes out (backpressure) without
// holding up the others.
//
// Faults stay with what they touch: a drafter fault drops that drafter for the sequences it was
// drafting for (plain decoding goes on); unusable verifier logits in one row fail that sequence;
// a verifier pass that throws fails the sequences in it, and the batch starts afresh.

import type { BatchKvCache, BatchRow } from './batch-kv-cache.js';
import type { CausalLM } from './causal-lm.js';
import type { Draft, Drafter } from './drafter.js';
import { assertUsableLogits, modelFault } from './model-fault.js';
import { Sequence, type SequenceSpec } from './sequence.js';
import { StepCostModel, type RowOutlook } from './step-cost.js';
import type { GenerateResult } from './types.js';

export interface SchedulerOptions {
  /** Rows in one verifier pass. */
  maxRows: number;
  /** Cap γ by the measured cost of the batch (step-cost.ts) when more than one row runs; default true. */
  adaptDraftLength?: boolean;
  /** Told after every step. */
  onStep?: (step: StepReport) => void;
}

export interface StepReport {
  /** Rows in the verifier pass. */
  rows: number;
  /** Tokens fed (rows × width, pads included). */
  tokens: number;
  /** Tokens emitted, by the pass and by the first tokens of sequences that joined. */
  emitted: number;
  /** Wall time of the step (prefill, drafting and verification). */
  ms: number;
  /** Of which: prefills of joining sequences, drafting, the verifier pass. */
  prefillMs: number;
  draftMs: number;
  verifyMs: number;
  /** Physical slots of the verifier cache after the pass. */
  slots: number;
  /** The cap on γ this step (Infinity: none). */
  draftCap: number;
  running: number;
  waiting: number;
}

/** Prior acceptance rate of a row that has not drafted enough to measure its own. */
const PRIOR_ALPHA = 0.6;
const PRIOR_DRAFTS = 8;

const NO_DRAFT: Draft = { tokenIds: [], probs: [], logits: [] };

interface Entry {
  resolve: (result: GenerateResult) => void;
  reject: (err: Error) => void;
}

export class Scheduler {
  readonly #verifier: CausalLM;
  readonly #maxRows: number;
  readonly #adapt: boolean;
  readonly #onStep: ((step: StepReport) => void) | undefined;
  readonly #costs = new StepCostModel();
  #cache: BatchKvCache;
  #resident: Sequence[] = [];
  #waiting: Sequence[] = [];
  readonly #entries = new Map<Sequence, Entry>();
  #looping = false;
  #idle: Array<() => void> = [];

  constructor(verifier: CausalLM, options: SchedulerOptions) {
    if (!Number.isInteger(options.maxRows) || options.maxRows < 1) throw new RangeError(`maxRows must be a positive integer, got ${options.maxRows}`);
    this.#verifier = verifier;
    // A graph that cannot be told about holes and positions cannot take rows of different lengths.
    this.#maxRows = verifier.batchable ? options.maxRows : 1;
    this.#adapt = options.adaptDraftLength ?? true;
    this.#onStep = options.onStep;
    this.#cache = verifier.newBatchCache();
  }

  get running(): number {
    return this.#resident.length;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  submit(spec: SequenceSpec): Promise<GenerateResult> {
    const sequence = new Sequence(spec);
    const done = new Promise<GenerateResult>((resolve, reject) => this.#entries.set(sequence, { resolve, reject }));
    this.#waiting.push(sequence);
    if (!this.#looping) void this.#loop();
    return done;
  }

  /** Resolves once no sequence runs or waits. */
  idle(): Promise<void> {
    if (this.#entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #loop(): Promise<void> {
    this.#looping = true;
    try {
      while (this.#resident.length > 0 || this.#waiting.length > 0) {
        try {
          await this.#step();
        } catch (err) {
          // A bug or a verifier fault outside a row's own logits: fail what was running, go on afresh.
          const fault = modelFault(err, `verifier ${this.#verifier.id}`);
          for (const s of [...this.#resident]) this.#fail(s, fault);
          this.#cache = this.#verifier.newBatchCache();
        }
        // Let I/O (new requests, disconnects, socket writes) in between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#looping = false;
      if (this.#entries.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #step(): Promise<void> {
    const started = performance.now();
    for (const s of [...this.#waiting]) if (s.checkEnd()) this.#end(s);
    // A client that left ends its sequence even while its last text is still unsent.
    for (const s of [...this.#resident]) if ((s.pendingText === null || s.spec.signal?.aborted) && s.checkEnd()) this.#end(s);
    const admitted = await this.#admit();
    const prefilled = performance.now();
    // A sequence whose first token ended it leaves before the pass.
    this.#endFinished();

    const active = this.#resident.filter((s) => s.pendingText === null && s.finish === null);
    if (active.length === 0) {
      const pending = this.#resident.map((s) => s.pendingText).filter((p) => p !== null);
      if (pending.length > 0) await Promise.race(pending);
      return;
    }

    const maxGamma = Math.max(0, ...active.map((s) => s.gamma));
    const room = this.#cache.prepare(1 + maxGamma);
    // The pass costs what its rows cost, those sitting it out included; the drafts pay off in the active ones.
    const batchRows = this.#cache.rows.length;
    const cap = this.#adapt && active.length > 1 ? this.#costs.chooseCap(active.map((s) => outlook(s)), batchRows) : Infinity;
    const draftStart = performance.now();
    const drafts = await this.#draft(active, (s) => Math.min(s.spec.steadyDraftLength ? Infinity : cap, room - (s.committed.length - s.row!.length)));
    // A client that left while drafting: its row sits the pass out and leaves after it.
    for (const s of active) s.checkEnd();

    const fed = new Map<BatchRow, Sequence>();
    const tokens = this.#cache.rows.map((row) => {
      const s = this.#resident.find((x) => x.row === row);
      if (!s || s.finish !== null || !drafts.has(s)) return [];
      fed.set(row, s);
      return s.verifierFeed(drafts.get(s)!);
    });
    const t0 = performance.now();
    const out = await this.#verifier.forwardBatch(this.#cache, tokens); // [rows][fed][vocab]
    const verifyMs = performance.now() - t0;
    if (cap !== Infinity) this.#costs.observeVerify(batchRows, cap, verifyMs);

    let emitted = admitted;
    this.#cache.rows.forEach((row, b) => {
      const s = fed.get(row);
      if (!s) return;
      const draft = drafts.get(s)!;
      const scored = out[b]!.slice(out[b]!.length - (draft.tokenIds.length + 1)); // [g + 1][vocab]
      try {
        for (const logits of scored) assertUsableLogits(logits, `verifier ${this.#verifier.id}`);
        const before = s.generated.length;
        let delta = s.accept(draft, scored, verifyMs);
        emitted += s.generated.length - before;
        if (s.finish !== null) delta += s.flush();
        this.#emit(s, delta);
      } catch (err) {
        this.#fail(s, err instanceof Error ? err : new Error(String(err)));
      }
    });
    this.#endFinished();

    this.#onStep?.({
      rows: tokens.length,
      tokens: tokens.length * Math.max(1, ...tokens.map((t) => t.length)),
      emitted,
      ms: performance.now() - started,
      prefillMs: prefilled - started,
      draftMs: t0 - draftStart,
      verifyMs,
      draftCap: cap,
      slots: this.#cache.slots,
      running: this.#resident.length,
      waiting: this.#waiting.length,
    });
  }

  /**
   * Gives free rows to waiting sequences, round-robin by request, preempting where one request
   * holds more than its share; returns the tokens the joining sequences emitted.
   */
  async #admit(): Promise<number> {
    const rowsOf = (group: unknown) => this.#resident.filter((s) => s.spec.group === group).length;
    this.#preempt(rowsOf);
    const joining: Sequence[] = [];
    while (this.#resident.length + joining.length < this.#maxRows && this.#waiting.length > 0) {
      // The waiting sequence whose request holds the fewest rows; among equals, the earliest.
      let pick = 0;
      let fewest = Infinity;
      this.#waiting.forEach((s, i) => {
        const rows = rowsOf(s.spec.group) + joining.filter((j) => j.spec.group === s.spec.group).length;
        if (rows < fewest) {
          fewest = rows;
          pick = i;
        }
      });
      joining.push(this.#waiting.splice(pick, 1)[0]!);
    }
    // Choices of one prompt share its prefill.
    const prefilled = new Map<readonly number[], { row: BatchRow; logits: Float32Array; ms: number }>();
    let emitted = 0;
    for (const s of joining) {
      // A new sequence prefills its whole prompt and takes its first token from the prefill's last
      // logits, so the prompt's last token needs no pass of its own. A preempted one prefills all
      // but its last token, which the next step feeds in front of the drafts as if it had never
      // left: its random draws, and so a seeded request's output, do not depend on the load.
      const fresh = s.generated.length === 0;
      const key = fresh ? s.spec.promptIds : null;
      try {
        let prefill = key ? prefilled.get(key) : undefined;
        if (!prefill) {
          const t0 = performance.now();
          const { row, logits } = await this.#verifier.prefill(fresh ? s.committed : s.committed.slice(0, -1));
          if (logits) assertUsableLogits(logits, `verifier ${this.#verifier.id}`);
          prefill = { row, logits: logits!, ms: performance.now() - t0 };
          if (key) prefilled.set(key, prefill);
        }
        s.row = this.#cache.adopt(prefill.row);
        this.#resident.push(s);
        if (!fresh) continue;
        let delta = s.accept(NO_DRAFT, [prefill.logits], prefill.ms);
        emitted += s.generated.length;
        if (s.finish !== null) delta += s.flush();
        this.#emit(s, delta);
      } catch (err) {
        this.#fail(s, modelFault(err, `verifier ${this.#verifier.id}`));
      }
    }
    return emitted;
  }

  /** When a request with waiting sequences holds no row, the request holding the most rows (two or more) gives one up. */
  #preempt(rowsOf: (group: unknown) => number): void {
    if (this.#resident.length < this.#maxRows) return;
    const starving = this.#waiting.find((s) => rowsOf(s.spec.group) === 0);
    if (!starving) return;
    let victim: Sequence | null = null;
    let most = 1;
    for (const s of this.#resident) {
      const rows = rowsOf(s.spec.group);
      // The latest admitted of the largest request: the least work to prefill again.
      if (rows > most || (rows === most && victim?.spec.group === s.spec.group)) {
        most = rows;
        victim = s;
      }
    }
    if (!victim) return;
    this.#leave(victim);
    this.#waiting.splice(this.#waiting.indexOf(starving), 1);
    // The starving request takes the freed row; the preempted sequence is next of its own request.
    this.#waiting.unshift(starving, victim);
  }

  /** Drafts for every active sequence, one call per drafter; a failing drafter's sequences go on without it. */
  async #draft(active: readonly Sequence[], capOf: (s: Sequence) => number): Promise<Map<Sequence, Draft>> {
    const drafts = new Map<Sequence, Draft>();
    const byDrafter = new Map<Drafter, Sequence[]>();
    for (const s of active) {
      drafts.set(s, { tokenIds: [], probs: [], logits: [] });
      const g = s.draftLengthFor(Math.max(0, capOf(s)));
      if (g === 0) continue;
      const list = byDrafter.get(s.drafter!) ?? [];
      list.push(s);
      byDrafter.set(s.drafter!, list);
    }
    let draftMs = 0;
    let passes = 0;
    for (const [drafter, sequences] of byDrafter) {
      const t0 = performance.now();
      try {
        const requests = sequences.map((s) => ({
          sequence: s,
          committed: s.committed,
          gamma: s.draftLengthFor(Math.max(0, capOf(s))),
          sampler: s.spec.sampler,
          language: s.spec.language ?? null,
        }));
        for (const r of requests) r.sequence.stats.requestedTokens += r.gamma;
        const proposed = await drafter.propose(requests);
        sequences.forEach((s, i) => drafts.set(s, proposed[i]!));
      } catch (err) {
        for (const s of sequences) s.dropDrafter(err instanceof Error ? err : new Error(String(err)));
      }
      const ms = performance.now() - t0;
      for (const s of sequences) s.stats.draftMs += ms;
      draftMs += ms;
      passes = Math.max(passes, ...sequences.map((s) => drafts.get(s)!.tokenIds.length));
    }
    // What one more drafted position costs the step, all drafters together.
    if (passes > 0) this.#costs.observeDraftPass(active.length, draftMs / passes);
    return drafts;
  }

  #emit(s: Sequence, delta: string): void {
    if (delta.length === 0) return;
    s.record(delta);
    const pending = s.spec.onText?.(delta);
    if (!(pending instanceof Promise)) return;
    s.pendingText = pending.then(
      () => {
        s.pendingText = null;
      },
      (err: unknown) => {
        s.pendingText = null;
        this.#fail(s, err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /** Takes the sequence out of the batch (its tokens stay). */
  #leave(s: Sequence): void {
    if (s.row) this.#cache.remove(s.row);
    s.row = null;
    s.drafter?.release(s);
    const i = this.#resident.indexOf(s);
    if (i !== -1) this.#resident.splice(i, 1);
  }

  /** Ends the resident sequences that finished and whose text the client has taken. */
  #endFinished(): void {
    for (const s of [...this.#resident]) if (s.finish !== null && s.pendingText === null) this.#end(s);
  }

  #end(s: Sequence): void {
    this.#settle(s, (entry) => entry.resolve(s.result()));
  }

  #fail(s: Sequence, err: Error): void {
    this.#settle(s, (entry) => entry.reject(err));
  }

  /** Takes the sequence out of the batch and the queue, and tells its caller once. */
  #settle(s: Sequence, tell: (entry: Entry) => void): void {
    this.#leave(s);
    const w = this.#waiting.indexOf(s);
    if (w !== -1) this.#waiting.splice(w, 1);
    const entry = this.#entries.get(s);
    if (!entry) return;
    this.#entries.delete(s);
    tell(entry);
  }
}

function outlook(s: Sequence): RowOutlook {
  const { stats } = s;
  const hits = s.spec.sampler.greedy ? stats.greedyMatches : stats.alphaSum;
  const alpha = (hits + PRIOR_ALPHA * PRIOR_DRAFTS) / (stats.draftedTokens + PRIOR_DRAFTS);
  return { gamma: s.drafter ? s.gamma : 0, alpha };
}

