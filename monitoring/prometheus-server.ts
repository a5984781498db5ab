// A real Prometheus for the monitoring tests: the binary from Debian's `prometheus` package (or
// $PROMETHEUS_BIN), on a free port of 127.0.0.1, with its storage in a temporary folder removed
// at teardown; prometheusQuery() also serves bench/experiment-dashboard-check.ts. Queries go
// through the HTTP API, so a PromQL parse error comes back exactly as Grafana would see it.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { request } from 'undici';

/** The first executable `name` on $PATH (or the path in `override`), else null. */
export function findExecutable(name: string, override?: string): string | null {
  const candidates = override ? [override] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** A TCP port of 127.0.0.1 that was free a moment ago (Prometheus cannot report a port 0 choice). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address !== null && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export type QueryResult =
  | { ok: true; resultType: string; samples: PromSample[] }
  | { ok: false; errorType: string; error: string };

export interface PrometheusOptions {
  binary: string;
  /** Scrape targets, host:port. */
  targets: string[];
  /** Absolute paths or globs of rule files. */
  ruleFiles: string[];
  jobName?: string;
  intervalSeconds?: number;
}

export class PrometheusServer {
  #log = '';

  private constructor(
    readonly url: string,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
  }

  static async start(options: PrometheusOptions): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'fairspec-prometheus-'));
    const interval = `${options.intervalSeconds ?? 1}s`;
    // JSON is YAML: no YAML writer needed for the config.
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: options.ruleFiles,
      scrape_configs: [{ job_name: options.jobName ?? 'fairspec', static_configs: [{ targets: options.targets }] }],
    };
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, JSON.stringify(config, null, 2));
    const port = await freePort();
    const child = spawn(
      options.binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Should the test process exit before its teardown (a tap timeout), leave nothing behind.
    const orphan = (): void => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', orphan);
    child.once('exit', () => process.removeListener('exit', orphan));
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, dir, child);
    try {
      await server.#waitReady(20_000);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Everything Prometheus logged so far (shown when a test fails). */
  get log(): string {
    return this.#log;
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`prometheus exited with ${this.child.exitCode}:\n${this.#log}`);
      try {
        const { statusCode, body } = await request(`${this.url}/-/ready`);
        await body.dump();
        if (statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`prometheus not ready after ${timeoutMs} ms:\n${this.#log}`);
  }

  /** Instant query at the current time. */
  query(expr: string): Promise<QueryResult> {
    return prometheusQuery(this.url, expr);
  }

  async rules(): Promise<{ name: string; query: string; type: string; health: string; lastError?: string }[]> {
    const reply = await prometheusApi(this.url, 'rules');
    const groups = (reply.data as { groups: { rules: { name: string; query: string; type: string; health: string; lastError?: string }[] }[] }).groups;
    return groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

type ApiReply = { status: string; data?: unknown; errorType?: string; error?: string };

async function prometheusApi(url: string, path: string, form?: Record<string, string>): Promise<ApiReply> {
  const { body } = await request(`${url}/api/v1/${path}`, form === undefined
    ? { method: 'GET' }
    : { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return (await body.json()) as ApiReply;
}

/** Instant query at the current time against the Prometheus at `url` (this module's or any other). */
export async function prometheusQuery(url: string, expr: string): Promise<QueryResult> {
  const reply = await prometheusApi(url, 'query', { query: expr });
  if (reply.status !== 'success') return { ok: false, errorType: reply.errorType ?? 'unknown', error: reply.error ?? '' };
  const data = reply.data as { resultType: string; result: unknown };
  // A scalar or string result is one [time, value] pair; give it the vector shape.
  const samples = Array.isArray(data.result) && data.resultType === 'vector'
    ? (data.result as PromSample[])
    : data.resultType === 'scalar'
      ? [{ metric: {}, value: data.result as [number, string] }]
      : [];
  return { ok: true, resultType: data.resultType, samples };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
