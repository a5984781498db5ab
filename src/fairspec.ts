// The composition root: builds every part of fairspec from a validated Config, with no HTTP in
// it. The HTTP layer (app.ts, plugins/) adapts the result to routes and holds no policy.
//
// Order matters where one part feeds another: the engine and its pack's routing.json first, then
// the metric label set (the configured languages, else those routing.json routes), the metrics
// recorder, the routing policy over the table (seeded with eval.json's offline estimates), the
// live fairness window, the plain-decoding reference and the experiment registry, and last the
// completion service, whose finished generations feed those three.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { ChatPrompts } from './chat/chat-prompts.js';
import { CompletionService, type CompletionRouter, type GenerationObserver } from './completion-service.js';
import { ConfigError, type Config } from './config.js';
import { DrafterAdmin } from './drafter-admin.js';
import { PrometheusApi } from './cluster/prometheus-api.js';
import { ExperimentAdmin } from './experiment-admin.js';
import { StateFolder } from './experiments/state-folder.js';
import { registerExperimentCounters } from './metrics/experiment-counters.js';
import { loadEngine, type Engine } from './engine/index.js';
import { FairspecError } from './errors.js';
import { isExperimentError } from './experiments/errors.js';
import { ExperimentStore } from './experiments/experiment-store.js';
import { PlainDecodingReference } from './fairness/plain-reference.js';
import { SlidingWindowFairness } from './fairness/sliding-window.js';
import { LanguageLabels } from './language.js';
import { registerExperimentGauges } from './metrics/experiment-gauges.js';
import { ReadoutCache } from './metrics/readout-cache.js';
import { registerBatchMetrics } from './metrics/batch-metrics.js';
import { registerFairnessGauges } from './metrics/fairness-gauges.js';
import { MetricsRecorder } from './metrics/metrics-recorder.js';
import { registerRoutingGauges } from './metrics/routing-gauges.js';
import { RequestQueue } from './request-queue.js';
import { detectLanguage } from './routing/language-detector.js';
import { loadOfflineEstimates, type OfflineEstimates } from './routing/offline-estimates.js';
import { RoutePlanner, type RoutePlannerOptions } from './routing/route-planner.js';
import { MAX_DRAFT_LENGTH, RoutingTable } from './routing/routing-table.js';
import { summarise } from './experiments/analysis.js';
import { Tokenization } from './tokenization.js';

/** The few log calls composition makes; pino's (Fastify's logger) fits. */
export interface Log {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Routing policy settings beyond FAIRSPEC_ROUTING_MODE (exploration, warm-up, drafter cool-down...), for embedding and tests. */
export type RoutingPolicyOptions = Partial<Omit<RoutePlannerOptions, 'mode' | 'table' | 'drafters' | 'languages'>>;

export interface FairspecOptions {
  /** Load the model pack (default). false: nothing that needs the pack exists (spec generation). */
  loadModels?: boolean;
  routingPolicy?: RoutingPolicyOptions;
  log?: Log;
}

/** The parts that exist only once the model pack is loaded. */
export interface LoadedParts {
  engine: Engine;
  routingTable: RoutingTable;
  routePlanner: RoutePlanner;
  completions: CompletionService;
  /** Chat prompts from the chat template (FAIRSPEC_CHAT_TEMPLATE, else the model's). */
  chat: ChatPrompts;
  /** POST /tokenize and /detokenize. */
  tokenization: Tokenization;
  drafters: DrafterAdmin;
}

export interface Fairspec {
  config: Config;
  /** Admission: generations at once and the bounded wait before them. */
  requestQueue: RequestQueue;
  languageLabels: LanguageLabels;
  metrics: MetricsRecorder;
  fairness: SlidingWindowFairness;
  plainReference: PlainDecodingReference;
  experiments: ExperimentStore;
  /** The admin API's experiments: the registry, the state folder and the cluster read-out. */
  experimentAdmin: ExperimentAdmin;
  /** This process's label on its experiment counters, different from any other process's (restarts included). */
  incarnation: string;
  /** null when the pack was not loaded. */
  loaded: LoadedParts | null;
  /**
   * What GET /readyz says: 'loading' without a loaded pack, 'draining' once stopAdmitting() was
   * called, 'failing' after repeated verifier faults (CompletionService.verifierFailing), else 'ready'.
   */
  readiness(): Readiness;
  /** Stops admitting work; queued and running generations finish. */
  stopAdmitting(): void;
  /** Releases the models; after stopAdmitting() and the last generation. */
  close(): Promise<void>;
}

export type Readiness = 'ready' | 'loading' | 'draining' | 'failing';

const quiet: Log = { info: () => {}, warn: () => {}, error: () => {} };

export async function createFairspec(config: Config, options: FairspecOptions = {}): Promise<Fairspec> {
  const log = options.log ?? quiet;
  const requestQueue = new RequestQueue({ concurrency: config.concurrency, maxQueue: config.maxQueue });
  const pack = options.loadModels === false ? null : await loadPack(config, log);
  try {
    return await compose(config, options, log, requestQueue, pack);
  } catch (err) {
    await pack?.engine.close();
    throw err;
  }
}

async function compose(
  config: Config,
  options: FairspecOptions,
  log: Log,
  requestQueue: RequestQueue,
  pack: { engine: Engine; routingTable: RoutingTable } | null,
): Promise<Fairspec> {
  const engine = pack?.engine ?? null;

  const languageLabels = new LanguageLabels(config.metricLanguages.length > 0 ? config.metricLanguages : (pack?.routingTable.languages ?? []));
  const metrics = new MetricsRecorder({ languageLabel: (l) => languageLabels.label(l), drafters: engine?.drafterNames ?? [], modelName: config.modelId });

  const routePlanner = pack && (await createRoutePlanner(config, pack.engine, pack.routingTable, options.routingPolicy ?? {}, log));
  registerRoutingGauges(metrics.registry, () => routePlanner?.snapshot() ?? null, (l) => languageLabels.label(l));

  // The window keeps its own plain-decoding reference, fed from the plain generations it sees.
  const fairness = new SlidingWindowFairness();
  registerFairnessGauges(metrics.registry, () => fairness.snapshot());
  if (engine) registerBatchMetrics(metrics.registry, engine);

  // One plain-decoding reference for every experiment, fed by all plain traffic (a control arm,
  // `speculative: {draft_length: 0}` requests, languages routed to γ = 0), so a 50/50 test of two
  // drafters still gets a measured speed-up over plain decoding.
  const plainReference = new PlainDecodingReference();
  const incarnation = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const experimentAdmin = await createExperiments(config, engine, plainReference, metrics.registry, log, incarnation);
  const experiments = experimentAdmin.store;

  let loaded: LoadedParts | null = null;
  if (pack && routePlanner) {
    const router: CompletionRouter = {
      detect: detectLanguage,
      route: (language, request) => routePlanner.route(language, request),
      observe: (language, stats, drafterRevision) => routePlanner.observe(language, stats, drafterRevision),
      drafterFailed: (drafter, revision) => routePlanner.drafterFailed(drafter, revision),
    };
    // Completed generations feed the live fairness window, the experiments' plain-decoding
    // reference (plain ones only) and, when assigned, their experiment arm.
    const observers: GenerationObserver[] = [
      (choice, result) => fairness.record(choice.labels.language, result),
      (choice, result) => plainReference.record(choice.labels.language, result),
      (choice, result) => {
        if (choice.assignment) experiments.record(choice.assignment.experimentId, choice.assignment.arm.name, choice.labels.language, result);
      },
    ];
    const chat = new ChatPrompts(config.chatTemplate, pack.engine.tokenizer.source.config, log);
    loaded = {
      ...pack,
      routePlanner,
      completions: new CompletionService(pack.engine, router, experiments, requestQueue, metrics, config, observers, log),
      chat,
      tokenization: new Tokenization(pack.engine, chat, config.modelId),
      drafters: new DrafterAdmin(pack.engine, [config.packDir, ...config.drafterDirs]),
    };
  }

  return {
    config,
    requestQueue,
    languageLabels,
    metrics,
    fairness,
    plainReference,
    experiments,
    experimentAdmin,
    incarnation,
    loaded,
    readiness: () => {
      if (requestQueue.closed) return 'draining';
      if (loaded === null) return 'loading';
      return loaded.completions.verifierFailing ? 'failing' : 'ready';
    },
    stopAdmitting: () => requestQueue.close(),
    close: async () => {
      experimentAdmin.close();
      await engine?.close();
    },
  };
}

async function loadPack(config: Config, log: Log): Promise<{ engine: Engine; routingTable: RoutingTable }> {
  const started = performance.now();
  const engine = await loadEngine(config.packDir, {
    maxDraftLength: MAX_DRAFT_LENGTH,
    dtype: config.dtype,
    maxBatchRows: config.maxBatchRows,
    ...(config.ortThreads > 0 ? { intraOpNumThreads: config.ortThreads } : {}),
    ...(config.drafterOrtThreads > 0 ? { drafterIntraOpNumThreads: config.drafterOrtThreads } : {}),
  });
  let routingTable: RoutingTable;
  try {
    routingTable = await loadRoutingTable(config.packDir, engine.drafterNames, config.routingOverrides);
  } catch (err) {
    await engine.close();
    throw err;
  }
  const { drafterNames: drafters, contextLength } = engine;
  log.info({ pack: config.packDir, drafters, languages: routingTable.languages, contextLength, ms: Math.round(performance.now() - started) }, 'model pack loaded');
  return { engine, routingTable };
}

async function loadRoutingTable(
  packDir: string,
  drafters: readonly string[],
  overrides: Readonly<Record<string, { drafter?: string | null; draftLength?: number }>>,
): Promise<RoutingTable> {
  const path = join(packDir, 'routing.json');
  try {
    return await RoutingTable.load(path, { drafters, overrides });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FairspecError('FS_MODEL_LOAD', `model pack ${packDir} has no routing.json`);
    throw err;
  }
}

/** The routing policy over the pack's table, seeded with eval.json's offline estimates when it has them. */
async function createRoutePlanner(config: Config, engine: Engine, table: RoutingTable, policy: RoutingPolicyOptions, log: Log): Promise<RoutePlanner> {
  let offline: OfflineEstimates | null = null;
  try {
    offline = await loadOfflineEstimates(config.packDir, engine.drafterNames);
  } catch (err) {
    log.warn({ err }, 'eval.json ignored: routing starts without offline priors');
  }
  if (offline && offline.skipped.length > 0) log.warn({ skipped: offline.skipped }, 'eval.json: entries left out of the routing priors');
  const planner = new RoutePlanner({
    mode: config.routingMode,
    table,
    drafters: engine.drafterNames,
    languages: config.metricLanguages,
    ...(offline && { offlineAlpha: offline.alpha, offlineGreedyAgreement: offline.greedyAgreement, offlineCost: offline.cost }),
    source: 'routing policy',
    ...policy,
  });
  log.info({ mode: planner.mode, offlinePriors: offline !== null }, 'routing policy ready');
  // A drafter swapped for a new model (PUT /v1/drafters/{name}): discount what was learnt of the old one.
  engine.onDrafterReplaced((drafter, revision) => planner.drafterReplaced(drafter, revision));
  return planner;
}

/**
 * The experiment registry with FAIRSPEC_EXPERIMENTS and the state folder's experiments loaded,
 * its read-out gauges, and its sums as counters (the cluster read-out's source).
 */
async function createExperiments(
  config: Config,
  engine: Engine | null,
  reference: PlainDecodingReference,
  registry: Registry,
  log: Log,
  incarnation: string,
): Promise<ExperimentAdmin> {
  const store = new ExperimentStore({ ...(engine ? { knownDrafters: engine.drafterNames } : {}), reference });
  const admin = new ExperimentAdmin({
    store,
    state: config.stateDir === null ? null : new StateFolder(config.stateDir),
    prometheus: config.prometheusUrl === null ? null : new PrometheusApi(config.prometheusUrl),
    syncIntervalMs: config.stateSyncMs,
    log,
  });
  try {
    await admin.boot(config.experiments);
  } catch (err) {
    // Now that the pack is known: an arm naming a drafter the pack lacks is a config error.
    if (!isExperimentError(err)) throw err;
    throw new ConfigError('experiments', err.issues[0]?.value, err.message);
  }
  const readouts = new ReadoutCache((e) => summarise(store.snapshot(e.id)), { ttlMs: config.readoutCacheMs });
  registerExperimentGauges(registry, () => readouts.readouts(store.list()));
  registerExperimentCounters(registry, () => store.list().map((e) => store.statistics(e.id)), { incarnation });
  return admin;
}
