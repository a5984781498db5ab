import { writeFileSync } from 'node:fs';
import t from 'tap';
import { ConfigError, defaultConfig, loadConfig } from '../src/config.js';

const EXPERIMENT = { id: 'drafters', arms: [{ name: 'plain', drafter: null, weight: 1 }, { name: 'scdf', drafter: 'scdf', weight: 1 }] };
const TOKEN = 'an-admin-token-of-24-chars';

t.test('defaults', async (t) => {
  const config = loadConfig({});
  t.same(config, { ...defaultConfig });
  t.equal(config.port, 8000);
  t.equal(config.packDir, 'models/default');
  t.equal(config.concurrency, 16);
  t.equal(config.maxBatchRows, 2);
  t.equal(config.maxRequestWork, 16_384);
  t.equal(config.routingMode, 'adaptive', 'adaptive routing by default');
  t.same(config.experiments, []);
  t.equal(config.adminToken, null, 'no token: the admin API is disabled');
});

t.test('environment variables', async (t) => {
  const config = loadConfig({
    PORT: '9000',
    HOST: '0.0.0.0',
    FAIRSPEC_PACK: '/packs/x',
    FAIRSPEC_MODEL_ID: 'fairspec-x',
    FAIRSPEC_CONCURRENCY: '2',
    FAIRSPEC_MAX_BATCH_ROWS: '4',
    FAIRSPEC_MAX_REQUEST_WORK: '2048',
    FAIRSPEC_MAX_QUEUE: '0',
    FAIRSPEC_MAX_BODY_BYTES: '4096',
    FAIRSPEC_MAX_TOKENS: '64',
    FAIRSPEC_MAX_N: '3',
    FAIRSPEC_METRIC_LANGUAGES: 'en, fr,zh-Hant',
    FAIRSPEC_ROUTING_OVERRIDES: '{"am":{"drafter":"scdf","draft_length":2},"en":{"drafter":null}}',
    FAIRSPEC_ORT_THREADS: '1',
    FAIRSPEC_DRAFTER_ORT_THREADS: '3',
    FAIRSPEC_DTYPE: 'fp16',
    FAIRSPEC_DRAIN_TIMEOUT_MS: '500',
    FAIRSPEC_HEADERS_TIMEOUT_MS: '2000',
    FAIRSPEC_BODY_TIMEOUT_MS: '5000',
    FAIRSPEC_IDLE_TIMEOUT_MS: '9000',
    FAIRSPEC_REQUEST_TIMEOUT_MS: '120000',
    FAIRSPEC_ALLOWED_HOSTS: 'LocalHost, 127.0.0.1:8000,[::1]',
    LOG_LEVEL: 'warn',
    FAIRSPEC_ROUTING_MODE: 'static',
    FAIRSPEC_EXPERIMENTS: JSON.stringify([EXPERIMENT]),
    FAIRSPEC_ADMIN_TOKEN: TOKEN,
    FAIRSPEC_DRAFTER_DIRS: '/srv/drafters: drafters-new ::/srv/drafters',
    FAIRSPEC_STATE_DIR: '/var/lib/fairspec',
    FAIRSPEC_STATE_SYNC_MS: '500',
    FAIRSPEC_PROMETHEUS_URL: 'http://prometheus:9090/',
    FAIRSPEC_SHUTDOWN_LINGER_MS: '3000',
    FAIRSPEC_STRICT_REQUESTS: '1',
  });
  t.same(config, {
    port: 9000,
    host: '0.0.0.0',
    packDir: '/packs/x',
    modelId: 'fairspec-x',
    concurrency: 2,
    maxBatchRows: 4,
    maxRequestWork: 2048,
    maxQueue: 0,
    bodyLimit: 4096,
    maxTokens: 64,
    maxN: 3,
    metricLanguages: ['en', 'fr', 'zh-Hant'],
    routingOverrides: { am: { drafter: 'scdf', draftLength: 2 }, en: { drafter: null } },
    ortThreads: 1,
    drafterOrtThreads: 3,
    dtype: 'fp16',
    drainTimeoutMs: 500,
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 5000,
    idleTimeoutMs: 9000,
    requestTimeoutMs: 120000,
    allowedHosts: ['localhost', '127.0.0.1:8000', '[::1]'],
    logLevel: 'warn',
    routingMode: 'static',
    experiments: [{ id: 'drafters', salt: 'drafters', arms: EXPERIMENT.arms, enabled: true }],
    adminToken: TOKEN,
    drafterDirs: ['/srv/drafters', 'drafters-new'],
    readoutCacheMs: 5000,
    stateDir: '/var/lib/fairspec',
    stateSyncMs: 500,
    prometheusUrl: 'http://prometheus:9090',
    shutdownLingerMs: 3000,
    strictRequests: true,
    chatTemplate: null,
  });
});

t.test('the cluster settings: a Prometheus URL without secrets, a state folder, the linger', async (t) => {
  t.same([loadConfig({}).stateDir, loadConfig({}).prometheusUrl, loadConfig({}).shutdownLingerMs], [null, null, 0], 'off by default');
  for (const url of ['prometheus:9090', 'ftp://p:9090', 'http://user:secret@p:9090', 'http://p:9090/?x=1']) {
    t.throws(() => loadConfig({ FAIRSPEC_PROMETHEUS_URL: url }), /prometheusUrl \(FAIRSPEC_PROMETHEUS_URL=.*must be an http\(s\) URL/, url);
  }
  t.equal(loadConfig({ FAIRSPEC_PROMETHEUS_URL: 'https://p.example/prom/' }).prometheusUrl, 'https://p.example/prom', 'a path prefix is kept');
  t.throws(() => loadConfig({ FAIRSPEC_STATE_SYNC_MS: '10' }), /stateSyncMs/);
  t.throws(() => loadConfig({ FAIRSPEC_SHUTDOWN_LINGER_MS: '-1' }), /shutdownLingerMs/);
});

t.test('FAIRSPEC_EXPERIMENTS may name a file holding the JSON array', async (t) => {
  const path = `${t.testdir({})}/experiments.json`;
  writeFileSync(path, JSON.stringify([EXPERIMENT]));
  t.same(loadConfig({ FAIRSPEC_EXPERIMENTS: path }).experiments.map((e) => e.id), ['drafters']);
  t.throws(() => loadConfig({ FAIRSPEC_EXPERIMENTS: `${path}.missing` }), /experiments .*neither a JSON array nor a readable file/);
  writeFileSync(path, '[{"id": ');
  t.throws(() => loadConfig({ FAIRSPEC_EXPERIMENTS: path }), /experiments .*must be a JSON array of experiments/);
});

t.test('a bad admin token is refused without echoing it', async (t) => {
  for (const token of ['short', 'has a space in the middle!!', 'tab\there-0123456789']) {
    try {
      loadConfig({ FAIRSPEC_ADMIN_TOKEN: token });
      t.fail('accepted');
    } catch (err) {
      t.type(err, ConfigError);
      t.match((err as Error).message, /adminToken \(FAIRSPEC_ADMIN_TOKEN="<hidden>"\): must be at least 16 printable ASCII/);
      t.notMatch((err as Error).message, token);
    }
  }
});

t.test('explicit values win over the environment', async (t) => {
  t.equal(loadConfig({ PORT: '9000' }, { port: 1234 }).port, 1234);
});

t.test('bad values are refused, naming the field, the variable and the value', async (t) => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: '80a' }, /invalid config port \(PORT="80a"\): must be an integer in \[0, 65535\]/],
    [{ PORT: '70000' }, /port/],
    [{ FAIRSPEC_CONCURRENCY: '0' }, /concurrency \(FAIRSPEC_CONCURRENCY="0"\)/],
    [{ FAIRSPEC_MAX_QUEUE: '-1' }, /maxQueue/],
    [{ FAIRSPEC_MAX_BODY_BYTES: '12' }, /bodyLimit/],
    [{ FAIRSPEC_MAX_TOKENS: '1.5' }, /maxTokens/],
    [{ FAIRSPEC_MAX_N: '0' }, /maxN/],
    [{ FAIRSPEC_METRIC_LANGUAGES: 'en,English' }, /metricLanguages .*"English" is not a language code/],
    [{ FAIRSPEC_METRIC_LANGUAGES: 'other' }, /metricLanguages/],
    [{ FAIRSPEC_ROUTING_OVERRIDES: '{am:' }, /routingOverrides .*must be JSON/],
    [{ FAIRSPEC_ROUTING_OVERRIDES: '[]' }, /routingOverrides .*object keyed by language/],
    [{ FAIRSPEC_ROUTING_OVERRIDES: '{"am":{"gamma":3}}' }, /unknown key "gamma"/],
    [{ FAIRSPEC_ROUTING_OVERRIDES: '{"am":{"draft_length":99}}' }, /draft_length for "am"/],
    [{ FAIRSPEC_ROUTING_OVERRIDES: '{"am":{"drafter":7}}' }, /drafter for "am"/],
    [{ FAIRSPEC_MODEL_ID: 'a b' }, /modelId/],
    [{ LOG_LEVEL: 'loud' }, /logLevel \(LOG_LEVEL="loud"\): must be one of/],
    [{ HOST: '   ' }, /host/],
    [{ FAIRSPEC_DRAFTER_DIRS: 'a:b\0c' }, /drafterDirs \(FAIRSPEC_DRAFTER_DIRS=.*\): must be a list of folders separated by ':'/],
    [{ FAIRSPEC_HEADERS_TIMEOUT_MS: '40000' }, /headersTimeoutMs \(FAIRSPEC_HEADERS_TIMEOUT_MS=40000\): must not exceed FAIRSPEC_BODY_TIMEOUT_MS \(30000\)/],
    [{ FAIRSPEC_BODY_TIMEOUT_MS: '0' }, /bodyTimeoutMs .*must be an integer in \[100, /],
    [{ FAIRSPEC_IDLE_TIMEOUT_MS: 'soon' }, /idleTimeoutMs/],
    [{ FAIRSPEC_REQUEST_TIMEOUT_MS: '50' }, /requestTimeoutMs/],
    [{ FAIRSPEC_ALLOWED_HOSTS: 'localhost,http://evil.example' }, /allowedHosts \(FAIRSPEC_ALLOWED_HOSTS=.*\): must be a comma-separated list of host names/],
    [{ FAIRSPEC_ROUTING_MODE: 'smart' }, /routingMode \(FAIRSPEC_ROUTING_MODE="smart"\): must be 'static' or 'adaptive'/],
    [{ FAIRSPEC_EXPERIMENTS: '[{"id": "x"' }, /experiments .*must be a JSON array/],
    [{ FAIRSPEC_EXPERIMENTS: '{"id": "x"}' }, /experiments .*readable file/],
    [{ FAIRSPEC_EXPERIMENTS: '[{"id": "x", "arms": [{"name": "a", "weight": -1}, {"name": "b", "weight": 1}]}]' }, /experiments \(FAIRSPEC_EXPERIMENTS=-1\): .*experiments\[0\]\.arms\[0\]\.weight/],
    [{ FAIRSPEC_EXPERIMENTS: JSON.stringify([EXPERIMENT, EXPERIMENT]) }, /experiments .*experiments\[1\]\.id: experiment "drafters" already exists/],
    [{ FAIRSPEC_EXPERIMENTS: JSON.stringify([EXPERIMENT, { ...EXPERIMENT, id: 'b' }]) }, /experiments .*"drafters" is enabled/],
    [{ FAIRSPEC_EXPERIMENTS: JSON.stringify([{ ...EXPERIMENT, arms: [{ name: 'none', weight: 1 }, { name: 'b', weight: 1 }] }]) }, /arms\[0\]\.name: is reserved/],
  ];
  for (const [env, message] of bad) {
    t.throws(() => loadConfig(env), message, JSON.stringify(env));
    try {
      loadConfig(env);
    } catch (err) {
      t.type(err, ConfigError);
      t.equal((err as ConfigError).code, 'FS_INVALID_CONFIG');
    }
  }
});

t.test('FAIRSPEC_DTYPE picks the model files by transformers.js dtype', async (t) => {
  t.equal(loadConfig({}).dtype, 'fp32');
  t.equal(loadConfig({ FAIRSPEC_DTYPE: 'q4f16' }).dtype, 'q4f16');
  t.throws(() => loadConfig({ FAIRSPEC_DTYPE: 'float16' }), { code: 'FS_INVALID_CONFIG', message: /dtype \(FAIRSPEC_DTYPE="float16"\): must be one of fp32, fp16, /, field: 'dtype' });
});

t.test('FAIRSPEC_STRICT_REQUESTS: off by default, 1 or true turns it on', async (t) => {
  t.equal(loadConfig({}).strictRequests, false);
  t.equal(loadConfig({ FAIRSPEC_STRICT_REQUESTS: '1' }).strictRequests, true);
  t.equal(loadConfig({ FAIRSPEC_STRICT_REQUESTS: 'true' }).strictRequests, true);
  t.equal(loadConfig({ FAIRSPEC_STRICT_REQUESTS: '0' }).strictRequests, false);
  t.throws(() => loadConfig({ FAIRSPEC_STRICT_REQUESTS: 'maybe' }), { code: 'FS_INVALID_CONFIG', field: 'strictRequests', message: /FAIRSPEC_STRICT_REQUESTS="maybe"/ });
});

t.test('FAIRSPEC_CHAT_TEMPLATE names a file with a Jinja template, parsed at boot', async (t) => {
  const dir = t.testdir({ 'chat.jinja': '{% for m in messages %}{{ m.content }}{% endfor %}', 'broken.jinja': '{% for m in messages %}' });
  t.equal(loadConfig({}).chatTemplate, null, "default: the model's own");
  t.equal(loadConfig({ FAIRSPEC_CHAT_TEMPLATE: `${dir}/chat.jinja` }).chatTemplate, '{% for m in messages %}{{ m.content }}{% endfor %}');
  t.throws(() => loadConfig({ FAIRSPEC_CHAT_TEMPLATE: `${dir}/missing.jinja` }), { field: 'chatTemplate', message: /must name a readable file/ });
  t.throws(() => loadConfig({ FAIRSPEC_CHAT_TEMPLATE: `${dir}/broken.jinja` }), { field: 'chatTemplate', message: /is not a template @huggingface\/jinja can parse/ });
});
