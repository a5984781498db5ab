import t from 'tap';
import { ConfigError, defaultConfig, loadConfig } from '../src/config.js';

t.test('defaults', async (t) => {
  const config = loadConfig({});
  t.same(config, { ...defaultConfig });
  t.equal(config.port, 8000);
  t.equal(config.packDir, 'models/default');
  t.equal(config.concurrency, 1);
});

t.test('environment variables', async (t) => {
  const config = loadConfig({
    PORT: '9000',
    HOST: '0.0.0.0',
    FAIRSPEC_PACK: '/packs/x',
    FAIRSPEC_MODEL_ID: 'fairspec-x',
    FAIRSPEC_CONCURRENCY: '2',
    FAIRSPEC_MAX_QUEUE: '0',
    FAIRSPEC_MAX_BODY_BYTES: '4096',
    FAIRSPEC_MAX_TOKENS: '64',
    FAIRSPEC_MAX_N: '3',
    FAIRSPEC_METRIC_LANGUAGES: 'en, fr,zh-Hant',
    FAIRSPEC_ROUTING_OVERRIDES: '{"am":{"drafter":"scdf","draft_length":2},"en":{"drafter":null}}',
    FAIRSPEC_ORT_THREADS: '1',
    FAIRSPEC_DRAIN_TIMEOUT_MS: '500',
    LOG_LEVEL: 'warn',
  });
  t.same(config, {
    port: 9000,
    host: '0.0.0.0',
    packDir: '/packs/x',
    modelId: 'fairspec-x',
    concurrency: 2,
    maxQueue: 0,
    bodyLimit: 4096,
    maxTokens: 64,
    maxN: 3,
    metricLanguages: ['en', 'fr', 'zh-Hant'],
    routingOverrides: { am: { drafter: 'scdf', draftLength: 2 }, en: { drafter: null } },
    ortThreads: 1,
    drainTimeoutMs: 500,
    logLevel: 'warn',
  });
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
