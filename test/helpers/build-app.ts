// The one way tests build the server: the real app (app.ts) on the engine's tiny
// random-weight fixture pack, closed when the test ends. `listen` puts it on a real port on
// 127.0.0.1 for clients that need a socket (the openai client, disconnects, drain).

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { buildApp, type BuildAppOptions } from '../../app.js';
import { loadConfig, type Config } from '../../src/config.js';

const FIXTURE_MODELS = fileURLToPath(new URL('../fixtures/gpt2-pack', import.meta.url));
export const MODEL = 'fairspec-test';

/** The routing.json of the test pack: drafters 'small' and 'nopos' from the engine's fixtures. */
export const TEST_ROUTING = {
  default: { drafter: 'small', draft_length: 4 },
  languages: {
    en: { drafter: 'small', draft_length: 3 },
    fr: { drafter: 'nopos', draft_length: 2 },
    de: { drafter: 'small', draft_length: 4 },
    am: { drafter: null, draft_length: 0 },
  },
};

let pack: string | undefined;
/**
 * A model pack for tests: the engine's tiny random-weight GPT-2 verifier and drafters (real
 * ONNX models) plus TEST_ROUTING, in a temporary folder removed when the process exits.
 */
export function testPack(): string {
  if (pack === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'fairspec-pack-'));
    cpSync(FIXTURE_MODELS, dir, { recursive: true });
    writeFileSync(join(dir, 'routing.json'), JSON.stringify(TEST_ROUTING, null, 2));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    pack = dir;
  }
  return pack;
}

/** An admin token for tests that configure one (FAIRSPEC_ADMIN_TOKEN). */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * Config for tests: the test pack, languages en/fr/de kept as metric labels, one ORT thread, and
 * static routing. The server's default, adaptive routing, decides from wall-clock step times once a
 * language has 512 drafted tokens and explores 3% of requests at random, so a test asserting the
 * routed drafter would depend on timing and chance; tests of adaptive routing ask for it.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig({}, { packDir: testPack(), modelId: MODEL, metricLanguages: ['en', 'fr', 'de'], ortThreads: 1, routingMode: 'static', ...overrides });
}

export async function buildTestApp(t: Test, overrides: Partial<Config> = {}, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(overrides), { logger: false, ...options });
  t.teardown(() => app.close());
  await app.ready();
  return app;
}

/** The shipped pack (its chat template, its 512-token context), for tests of what a user of it meets. */
export const DEFAULT_PACK = fileURLToPath(new URL('../../models/default', import.meta.url));

/** buildTestApp on the shipped pack (models/default) with its routing.json; the model is still MODEL. */
export async function buildDefaultPackApp(t: Test, overrides: Partial<Config> = {}, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  return buildTestApp(t, { packDir: DEFAULT_PACK, ...overrides }, options);
}

/** Listens on an ephemeral port of 127.0.0.1 and returns the base URL (no trailing slash). */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** A valid small request body; override any field. */
export function completionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, prompt: 'The quick brown fox', max_tokens: 8, temperature: 0, ...overrides };
}

/** Parses an SSE body into its `data:` payloads (JSON, or the string '[DONE]'). */
export function parseSse(body: string): unknown[] {
  return body
    .split('\n\n')
    .filter((event) => event.trim() !== '')
    .map((event) => {
      const data = event
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length))
        .join('\n');
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}

/** The value of one Prometheus sample line, e.g. sample(text, 'x_total{language="en"}'); 0 when absent. */
export function sample(exposition: string, series: string): number {
  const line = withoutModelName(exposition).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/**
 * The exposition without the `model_name` label that every series carries (MetricsRecorder), so
 * that tests name a series by the labels they are about.
 */
export function withoutModelName(exposition: string): string {
  return exposition
    .replace(/([{,])model_name="(?:[^"\\]|\\.)*"(,?)/g, (_, open: string, comma: string) => (open === '{' ? '{' : comma))
    .replace(/\{\}(?= )/g, '');
}
