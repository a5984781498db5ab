// The engine capability: the model pack loaded once at boot (src/engine), its routing table
// (routing.json, src/routing), and the bounded admission queue in front of them
// (src/request-queue.ts). The routing policy over the table is plugins/routing.ts.
// With `load: false` nothing is loaded (used to generate the OpenAPI spec without a pack):
// readiness then reports 'loading' and completions answer 503.

import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { loadEngine, type Engine } from '../src/engine/index.js';
import { RequestQueue } from '../src/request-queue.js';
import { LanguageLabels } from '../src/routing/language-labels.js';
import { MAX_DRAFT_LENGTH, RoutingTable } from '../src/routing/routing-table.js';

declare module 'fastify' {
  interface FastifyInstance {
    engine: Engine | null;
    /** routing.json with the configured overrides; null when no pack is loaded. */
    routingTable: RoutingTable | null;
    requestQueue: RequestQueue;
    /** Bounds a language to a metric label value (configured set, 'other', 'unknown'). */
    languageLabel: (language: string | null | undefined) => string;
  }
}

export interface EnginePluginOptions {
  load: boolean;
}

async function enginePlugin(fastify: FastifyInstance, options: EnginePluginOptions): Promise<void> {
  const { config } = fastify;
  const queue = new RequestQueue({ concurrency: config.concurrency, maxQueue: config.maxQueue });
  fastify.decorate('requestQueue', queue);

  let engine: Engine | null = null;
  let table: RoutingTable | null = null;
  let routedLanguages: string[] = [];
  if (options.load) {
    const started = performance.now();
    engine = await loadEngine(config.packDir, {
      maxDraftLength: MAX_DRAFT_LENGTH,
      ...(config.ortThreads > 0 ? { intraOpNumThreads: config.ortThreads } : {}),
      ...(config.drafterOrtThreads > 0 ? { drafterIntraOpNumThreads: config.drafterOrtThreads } : {}),
    });
    try {
      table = await loadRoutingTable(config.packDir, engine.drafterNames, config.routingOverrides);
      routedLanguages = table.languages;
    } catch (err) {
      await engine.close();
      throw err;
    }
    const ms = Math.round(performance.now() - started);
    const { drafterNames: drafters, contextLength } = engine;
    fastify.log.info({ pack: config.packDir, drafters, languages: routedLanguages, contextLength, ms }, 'model pack loaded');
  }
  fastify.decorate('engine', engine);
  fastify.decorate('routingTable', table);
  // Metric label values: the configured languages, else those routing.json routes; then 'other'/'unknown'.
  const labels = new LanguageLabels(config.metricLanguages.length > 0 ? config.metricLanguages : routedLanguages);
  fastify.decorate('languageLabel', (language: string | null | undefined) => labels.label(language));

  // Drain: refuse new work from the moment close() starts; queued and running requests finish.
  fastify.addHook('preClose', async () => {
    queue.close();
  });
  fastify.addHook('onClose', async () => {
    await engine?.close();
  });
}

export default fp(enginePlugin, { name: 'fairspec-engine', fastify: '5.x' });

async function loadRoutingTable(
  packDir: string,
  drafters: readonly string[],
  overrides: Readonly<Record<string, { drafter?: string | null; draftLength?: number }>>,
): Promise<RoutingTable> {
  const path = join(packDir, 'routing.json');
  try {
    return await RoutingTable.load(path, { drafters, overrides });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw Object.assign(new Error(`model pack ${packDir} has no routing.json`), { code: 'FS_MODEL_LOAD' });
    }
    throw err;
  }
}
