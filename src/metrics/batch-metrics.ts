// The continuous batch (src/engine/scheduler.ts): sequences running and waiting for a row, rows
// per verifier pass and time per step. Sequences are prompts × choices, so they differ from the
// request gauges (fairspec_num_requests_*) whenever a request has several.

import { Histogram, type Registry } from 'prom-client';
import type { StepReport } from '../engine/scheduler.js';
import { gauge } from './scrape-gauge.js';

export interface BatchSource {
  readonly sequences: { running: number; waiting: number };
  onStep(listener: (step: StepReport) => void): void;
}

/** fairspec_num_sequences_{running,waiting}, fairspec_batch_rows, fairspec_batch_step_seconds, fairspec_batch_tokens. */
export function registerBatchMetrics(registry: Registry, engine: BatchSource): void {
  gauge(registry, 'fairspec_num_sequences_running', 'Sequences (prompt x choice) holding a row of the batch.', [], (g) => g.set(engine.sequences.running));
  gauge(registry, 'fairspec_num_sequences_waiting', 'Sequences waiting for a row of the batch.', [], (g) => g.set(engine.sequences.waiting));
  const registers = [registry];
  const rows = new Histogram({
    name: 'fairspec_batch_rows',
    help: 'Rows (sequences) in each verifier pass.',
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64],
    registers,
  });
  const tokens = new Histogram({
    name: 'fairspec_batch_tokens',
    help: 'Tokens fed in each verifier pass (rows x width, pads included).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers,
  });
  const seconds = new Histogram({
    name: 'fairspec_batch_step_seconds',
    help: 'Wall time of one scheduler step: prefills of joining sequences, drafting and the verifier pass.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  engine.onStep((step) => {
    rows.observe(step.rows);
    tokens.observe(step.tokens);
    seconds.observe(step.ms / 1000);
  });
}
