// The one Prometheus call the cluster read-out makes: an instant query at a fixed time through
// the HTTP API (/api/v1/query), answered as vector samples. Node's global fetch, a timeout on
// every call, and one error for everything that is not an answer (unreachable, a non-2xx, a
// PromQL error), so the caller reports it as Prometheus' failure, not its own.

import { FairspecError } from '../errors.js';

export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

export class PrometheusApi {
  readonly #base: string;

  constructor(
    url: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.#base = url.replace(/\/+$/, '');
  }

  get url(): string {
    return this.#base;
  }

  /** Instant query `expr` at `time` (seconds since the epoch); an instant vector or a scalar. */
  async query(expr: string, time: number): Promise<VectorSample[]> {
    let reply: { status?: string; data?: { resultType?: string; result?: unknown }; error?: string };
    try {
      const response = await fetch(`${this.#base}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr, time: String(time) }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      reply = (await response.json()) as typeof reply;
      if (!response.ok && reply.status !== 'error') throw new Error(`HTTP ${response.status}`);
    } catch (err) {
      throw unavailable(`Prometheus at ${this.#base} did not answer (${(err as Error).message}).`, err);
    }
    if (reply.status !== 'success' || reply.data === undefined) throw unavailable(`Prometheus refused the query ${expr}: ${reply.error ?? 'no data'}.`);
    const { resultType, result } = reply.data;
    if (resultType === 'scalar') return [{ labels: {}, value: Number((result as [number, string])[1]) }];
    if (resultType !== 'vector' || !Array.isArray(result)) throw unavailable(`Prometheus answered ${expr} with a ${resultType}, not a vector.`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
  }
}

function unavailable(message: string, cause?: unknown): FairspecError {
  const error = new FairspecError('FS_PROMETHEUS_UNAVAILABLE', message);
  if (cause !== undefined) (error as { cause?: unknown }).cause = cause;
  return error;
}

/** A PromQL string literal: a label value between double quotes. */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}
