// Server configuration: environment variables with defaults, checked once at boot.
// Every rejected value is reported with the variable name, the field and the bad value,
// so a typo in a deployment fails loudly instead of serving with a silent default.
// (The admin token is the exception: its value is never echoed.)

import { readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import type { ErrorCode } from './error-codes.js';
import { isExperimentError } from './experiments/errors.js';
import { isLanguageCode } from './language.js';
import { ExperimentStore } from './experiments/experiment-store.js';
import type { Experiment } from './experiments/experiment.js';
import type { RoutingMode } from './routing/adaptive-policy.js';
import { isModelDtype, MODEL_DTYPES, type ModelDtype } from './engine/model-dtype.js';
import { parseChatTemplate } from './chat/chat-template.js';

export interface RoutingOverride {
  drafter?: string | null;
  draftLength?: number;
}

export interface Config {
  port: number;
  host: string;
  /** Model pack directory: verifier/, drafter-* /, routing.json. */
  packDir: string;
  /** The single model id served by /v1/models and accepted in `model`. */
  modelId: string;
  /** Requests running at the same time (their sequences share the batch's rows). */
  concurrency: number;
  /** Sequences (prompt × choice) in one verifier pass; the rest wait for a row. */
  maxBatchRows: number;
  /** A request's work, prompts × n × max_tokens, may not pass this (400). */
  maxRequestWork: number;
  /** Requests allowed to wait for a slot; one more answers 429. */
  maxQueue: number;
  bodyLimit: number;
  /** Upper bound for `max_tokens`. */
  maxTokens: number;
  /** Upper bound for `n`. */
  maxN: number;
  /** Languages kept as their own metric label; the rest are 'other'. Empty: the pack's routing.json languages. */
  metricLanguages: string[];
  /** Per-language routing overrides layered over routing.json. */
  routingOverrides: Record<string, RoutingOverride>;
  /** onnxruntime intra-op threads of the verifier; 0 keeps the engine's default (2). */
  ortThreads: number;
  /** onnxruntime intra-op threads of each drafter; 0 keeps the engine's default (1). */
  drafterOrtThreads: number;
  /** Weight dtype (which onnx/model*.onnx) of every model whose folder's fairspec.json names none. */
  dtype: ModelDtype;
  /** After SIGTERM, in-flight work still running after this long is aborted. */
  drainTimeoutMs: number;
  /** A request's headers must have arrived within this long of its first byte (else 408 and the connection closes). */
  headersTimeoutMs: number;
  /** The whole request, headers and body, must have arrived within this long (else 408 and the connection closes). */
  bodyTimeoutMs: number;
  /**
   * How long the server waits on a client that does nothing: a keep-alive connection between
   * requests, and a stream the client stopped reading (it is then ended).
   */
  idleTimeoutMs: number;
  /** A completion still queued or generating this long after it arrived is stopped (408, or an error event in a stream). */
  requestTimeoutMs: number;
  /** Host header values (host, or host:port) the server answers; empty: any (no check). */
  allowedHosts: string[];
  logLevel: string;
  /**
   * 'adaptive' (default): per language the drafter and draft length with the best expected
   * speed-up under live estimates, starting from routing.json; 'static': routing.json as is.
   */
  routingMode: RoutingMode;
  /** A/B experiments present at boot (validated; drafters are checked once the pack is loaded). */
  experiments: Experiment[];
  /** Bearer token of the admin API (/v1/experiments, /v1/drafters); null disables that API. */
  adminToken: string | null;
  /**
   * Folders besides the pack whose subfolders PUT /v1/drafters/{name} may load a drafter from
   * (relative ones against the working directory).
   */
  drafterDirs: string[];
  /**
   * How long the experiment gauges reuse an experiment's read-out before computing it again
   * (a bootstrap per treatment arm): /metrics cost stays flat however often it is scraped. 0: every scrape.
   */
  readoutCacheMs: number;
  /**
   * Folder that keeps the experiments created through the admin API (and config experiments'
   * creation times), shared by every replica that mounts it; null: they live in memory only.
   */
  stateDir: string | null;
  /** How often the state folder is read again for other replicas' creations and deletions. */
  stateSyncMs: number;
  /** The Prometheus that scrapes every replica: the cluster read-out (GET /v1/experiments/{id}?scope=cluster) reads it. */
  prometheusUrl: string | null;
  /**
   * After SIGTERM and the last generation, the server stays up this long (not ready, refusing
   * completions) before it closes, so Prometheus scrapes its final counts; above the scrape interval. 0: off.
   */
  shutdownLingerMs: number;
  /** A request field the API does not have is a 400 unknown_parameter; false: it is ignored, with a logged warning. */
  strictRequests: boolean;
  /** The Jinja chat template of /v1/chat/completions, read from the file FAIRSPEC_CHAT_TEMPLATE names; null: the model's own. */
  chatTemplate: string | null;
}

export const defaultConfig: Readonly<Config> = Object.freeze({
  port: 8000,
  host: '127.0.0.1',
  packDir: 'models/default',
  modelId: 'fairspec-default',
  concurrency: 16,
  maxBatchRows: 2,
  maxRequestWork: 16_384,
  maxQueue: 16,
  bodyLimit: 1024 * 1024,
  maxTokens: 512,
  maxN: 8,
  metricLanguages: [],
  routingOverrides: {},
  ortThreads: 0,
  drafterOrtThreads: 0,
  dtype: 'fp32',
  drainTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  // Longer than the 60 s idle timeout of common load balancers, which must close first.
  idleTimeoutMs: 72_000,
  requestTimeoutMs: 600_000,
  allowedHosts: [],
  logLevel: 'info',
  routingMode: 'adaptive',
  experiments: [],
  adminToken: null,
  drafterDirs: [],
  readoutCacheMs: 5000,
  stateDir: null,
  stateSyncMs: 2000,
  prometheusUrl: null,
  shutdownLingerMs: 0,
  strictRequests: false,
  chatTemplate: null,
});

/** Field name -> environment variable, also used in error messages. */
export const configEnv: Readonly<Record<keyof Config, string>> = Object.freeze({
  port: 'PORT',
  host: 'HOST',
  packDir: 'FAIRSPEC_PACK',
  modelId: 'FAIRSPEC_MODEL_ID',
  concurrency: 'FAIRSPEC_CONCURRENCY',
  maxBatchRows: 'FAIRSPEC_MAX_BATCH_ROWS',
  maxRequestWork: 'FAIRSPEC_MAX_REQUEST_WORK',
  maxQueue: 'FAIRSPEC_MAX_QUEUE',
  bodyLimit: 'FAIRSPEC_MAX_BODY_BYTES',
  maxTokens: 'FAIRSPEC_MAX_TOKENS',
  maxN: 'FAIRSPEC_MAX_N',
  metricLanguages: 'FAIRSPEC_METRIC_LANGUAGES',
  routingOverrides: 'FAIRSPEC_ROUTING_OVERRIDES',
  ortThreads: 'FAIRSPEC_ORT_THREADS',
  drafterOrtThreads: 'FAIRSPEC_DRAFTER_ORT_THREADS',
  dtype: 'FAIRSPEC_DTYPE',
  drainTimeoutMs: 'FAIRSPEC_DRAIN_TIMEOUT_MS',
  headersTimeoutMs: 'FAIRSPEC_HEADERS_TIMEOUT_MS',
  bodyTimeoutMs: 'FAIRSPEC_BODY_TIMEOUT_MS',
  idleTimeoutMs: 'FAIRSPEC_IDLE_TIMEOUT_MS',
  requestTimeoutMs: 'FAIRSPEC_REQUEST_TIMEOUT_MS',
  allowedHosts: 'FAIRSPEC_ALLOWED_HOSTS',
  logLevel: 'LOG_LEVEL',
  routingMode: 'FAIRSPEC_ROUTING_MODE',
  experiments: 'FAIRSPEC_EXPERIMENTS',
  adminToken: 'FAIRSPEC_ADMIN_TOKEN',
  drafterDirs: 'FAIRSPEC_DRAFTER_DIRS',
  readoutCacheMs: 'FAIRSPEC_READOUT_CACHE_MS',
  stateDir: 'FAIRSPEC_STATE_DIR',
  stateSyncMs: 'FAIRSPEC_STATE_SYNC_MS',
  prometheusUrl: 'FAIRSPEC_PROMETHEUS_URL',
  shutdownLingerMs: 'FAIRSPEC_SHUTDOWN_LINGER_MS',
  strictRequests: 'FAIRSPEC_STRICT_REQUESTS',
  chatTemplate: 'FAIRSPEC_CHAT_TEMPLATE',
});

export class ConfigError extends Error {
  readonly code: ErrorCode = 'FS_INVALID_CONFIG';
  constructor(
    readonly field: keyof Config,
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid config ${field} (${configEnv[field]}=${JSON.stringify(value)}): ${reason}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(field: keyof Config, raw: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(field, raw, `must be an integer in [${min}, ${max}]`);
  }
  return n;
}

function nonEmptyString(field: keyof Config, raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(field, raw, 'must be a non-empty string');
  return raw.trim();
}

function languageList(raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
  if (!Array.isArray(list)) throw new ConfigError('metricLanguages', raw, 'must be a comma-separated list of language codes');
  for (const lang of list) {
    if (!isLanguageCode(lang)) {
      throw new ConfigError('metricLanguages', raw, `${JSON.stringify(lang)} is not a language code (e.g. en, pt-BR)`);
    }
  }
  return [...new Set(list as string[])];
}

function routingOverrides(raw: unknown): Record<string, RoutingOverride> {
  let parsed = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigError('routingOverrides', raw, 'must be JSON, e.g. {"am":{"drafter":"drafter-scdf","draft_length":2}}');
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('routingOverrides', raw, 'must be an object keyed by language');
  }
  const out: Record<string, RoutingOverride> = {};
  for (const [lang, value] of Object.entries(parsed)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError('routingOverrides', raw, `override for ${JSON.stringify(lang)} must be an object`);
    }
    const v = value as Record<string, unknown>;
    const override: RoutingOverride = {};
    for (const key of Object.keys(v)) {
      if (!['drafter', 'draft_length', 'draftLength'].includes(key)) {
        throw new ConfigError('routingOverrides', raw, `unknown key ${JSON.stringify(key)} for ${JSON.stringify(lang)} (drafter, draft_length)`);
      }
    }
    if ('drafter' in v) {
      if (v.drafter !== null && (typeof v.drafter !== 'string' || v.drafter === '')) {
        throw new ConfigError('routingOverrides', raw, `drafter for ${JSON.stringify(lang)} must be a drafter name or null`);
      }
      override.drafter = v.drafter as string | null;
    }
    const dl = v.draft_length ?? v.draftLength;
    if (dl !== undefined) {
      if (typeof dl !== 'number' || !Number.isInteger(dl) || dl < 0 || dl > 32) {
        throw new ConfigError('routingOverrides', raw, `draft_length for ${JSON.stringify(lang)} must be an integer in [0, 32]`);
      }
      override.draftLength = dl;
    }
    out[lang] = override;
  }
  return out;
}

function dtype(raw: unknown): ModelDtype {
  if (!isModelDtype(raw)) throw new ConfigError('dtype', raw, `must be one of ${MODEL_DTYPES.join(', ')}`);
  return raw;
}

function routingMode(raw: unknown): RoutingMode {
  if (raw !== 'static' && raw !== 'adaptive') throw new ConfigError('routingMode', raw, "must be 'static' or 'adaptive'");
  return raw;
}

/** A JSON array of experiment definitions, or the path of a file holding one. */
function experiments(raw: unknown): Experiment[] {
  let list = raw;
  if (typeof raw === 'string') {
    let text = raw.trim();
    if (!text.startsWith('[')) {
      try {
        text = readFileSync(text, 'utf8');
      } catch (err) {
        throw new ConfigError('experiments', raw, `is neither a JSON array nor a readable file (${(err as Error).message})`);
      }
    }
    try {
      list = JSON.parse(text);
    } catch (err) {
      throw new ConfigError('experiments', raw, `must be a JSON array of experiments, or a file holding one (${(err as Error).message})`);
    }
  }
  try {
    // The registry's own checks (each definition, unique ids, one enabled, the cap), without drafters.
    return new ExperimentStore().load(list);
  } catch (err) {
    if (!isExperimentError(err)) throw err;
    const issue = err.issues[0];
    throw new ConfigError('experiments', issue ? issue.value : raw, err.message);
  }
}

function adminToken(raw: unknown): string | null {
  if (raw === null) return null;
  // The value is a secret: errors describe it without showing it.
  if (typeof raw !== 'string' || !/^[\x21-\x7e]{16,}$/.test(raw)) {
    throw new ConfigError('adminToken', '<hidden>', 'must be at least 16 printable ASCII characters without spaces');
  }
  return raw;
}

/** A list of folders: the platform's path-list syntax (`a:b` on POSIX), or an array. */
function folderList(raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(delimiter).map((s) => s.trim()).filter((s) => s !== '') : raw;
  if (!Array.isArray(list) || list.some((d) => typeof d !== 'string' || d.trim() === '' || d.includes('\0'))) {
    throw new ConfigError('drafterDirs', raw, `must be a list of folders separated by '${delimiter}'`);
  }
  return [...new Set((list as string[]).map((d) => d.trim()))];
}

/** An http(s) URL without credentials, query or fragment (it is logged and shown). */
function httpUrl(field: keyof Config, raw: unknown): string | null {
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new ConfigError(field, raw, 'must be an http(s) URL, e.g. http://prometheus:9090');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(field, raw, 'must be an http(s) URL without credentials, query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

function boolean(field: keyof Config, raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = String(raw).trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(text)) return true;
  if (['0', 'false', 'no'].includes(text)) return false;
  throw new ConfigError(field, raw, 'must be 1 or 0 (true or false)');
}

/** The template in the file `raw` names, parsed once here so that a broken one stops the boot. */
function chatTemplate(raw: unknown): string | null {
  if (raw === null) return null;
  const path = nonEmptyString('chatTemplate', raw);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('chatTemplate', raw, `must name a readable file holding a Jinja chat template (${(err as Error).message})`);
  }
  try {
    parseChatTemplate(source);
  } catch (err) {
    throw new ConfigError('chatTemplate', raw, `is not a template @huggingface/jinja can parse: ${(err as Error).message}`);
  }
  return source;
}

/** Host header values: `host` (any port) or `host:port`, names lower-cased, IPv6 in brackets. */
function hostList(raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
  const host = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/i;
  if (!Array.isArray(list) || list.some((h) => typeof h !== 'string' || !host.test(h))) {
    throw new ConfigError('allowedHosts', raw, 'must be a comma-separated list of host names or addresses, each with an optional :port (e.g. localhost,127.0.0.1:8000)');
  }
  return [...new Set((list as string[]).map((h) => h.toLowerCase()))];
}

/**
 * Builds a Config from explicit values (tests, embedding) layered over environment
 * variables layered over defaults, and validates every field.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, explicit: Partial<Config> = {}): Config {
  const pick = (field: keyof Config): unknown => {
    if (explicit[field] !== undefined) return explicit[field];
    const raw = env[configEnv[field]];
    return raw === undefined || raw === '' ? defaultConfig[field] : raw;
  };

  const host = nonEmptyString('host', pick('host'));
  const logLevel = nonEmptyString('logLevel', pick('logLevel'));
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('logLevel', logLevel, `must be one of ${LOG_LEVELS.join(', ')}`);
  const modelId = nonEmptyString('modelId', pick('modelId'));
  if (!/^[\w.:-]+$/.test(modelId)) throw new ConfigError('modelId', modelId, 'may only contain letters, digits and _ . : -');
  const headersTimeoutMs = integer('headersTimeoutMs', pick('headersTimeoutMs'), 100, 3_600_000);
  const bodyTimeoutMs = integer('bodyTimeoutMs', pick('bodyTimeoutMs'), 100, 3_600_000);
  // Node refuses a headers timeout longer than the request timeout that contains it.
  if (headersTimeoutMs > bodyTimeoutMs) {
    throw new ConfigError('headersTimeoutMs', headersTimeoutMs, `must not exceed ${configEnv.bodyTimeoutMs} (${bodyTimeoutMs}): the headers are part of the request`);
  }

  return {
    port: integer('port', pick('port'), 0, 65535),
    host,
    packDir: nonEmptyString('packDir', pick('packDir')),
    modelId,
    concurrency: integer('concurrency', pick('concurrency'), 1, 1024),
    maxBatchRows: integer('maxBatchRows', pick('maxBatchRows'), 1, 256),
    maxRequestWork: integer('maxRequestWork', pick('maxRequestWork'), 1, 100_000_000),
    maxQueue: integer('maxQueue', pick('maxQueue'), 0, 100_000),
    bodyLimit: integer('bodyLimit', pick('bodyLimit'), 1024, 64 * 1024 * 1024),
    maxTokens: integer('maxTokens', pick('maxTokens'), 1, 1_000_000),
    maxN: integer('maxN', pick('maxN'), 1, 128),
    metricLanguages: languageList(pick('metricLanguages')),
    routingOverrides: routingOverrides(pick('routingOverrides')),
    ortThreads: integer('ortThreads', pick('ortThreads'), 0, 256),
    drafterOrtThreads: integer('drafterOrtThreads', pick('drafterOrtThreads'), 0, 256),
    dtype: dtype(pick('dtype')),
    drainTimeoutMs: integer('drainTimeoutMs', pick('drainTimeoutMs'), 0, 3_600_000),
    headersTimeoutMs,
    bodyTimeoutMs,
    idleTimeoutMs: integer('idleTimeoutMs', pick('idleTimeoutMs'), 100, 3_600_000),
    requestTimeoutMs: integer('requestTimeoutMs', pick('requestTimeoutMs'), 100, 86_400_000),
    allowedHosts: hostList(pick('allowedHosts')),
    logLevel,
    routingMode: routingMode(pick('routingMode')),
    experiments: experiments(pick('experiments')),
    adminToken: adminToken(pick('adminToken')),
    drafterDirs: folderList(pick('drafterDirs')),
    readoutCacheMs: integer('readoutCacheMs', pick('readoutCacheMs'), 0, 3_600_000),
    stateDir: pick('stateDir') === null ? null : nonEmptyString('stateDir', pick('stateDir')),
    stateSyncMs: integer('stateSyncMs', pick('stateSyncMs'), 100, 3_600_000),
    prometheusUrl: httpUrl('prometheusUrl', pick('prometheusUrl')),
    shutdownLingerMs: integer('shutdownLingerMs', pick('shutdownLingerMs'), 0, 600_000),
    strictRequests: boolean('strictRequests', pick('strictRequests')),
    chatTemplate: chatTemplate(pick('chatTemplate')),
  };
}
