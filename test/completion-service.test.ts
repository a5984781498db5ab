// Issue 16: what follows a generation is bookkeeping (metrics, routing estimates, observers): a
// fault there is logged and the request still gets its result. The engine is the fixture pack's.

import t from 'tap';
import { CompletionService, type CompletionRouter } from '../src/completion-service.js';
import { loadEngine } from '../src/engine/engine.js';
import { MetricsRecorder } from '../src/metrics/metrics-recorder.js';
import { RequestQueue } from '../src/request-queue.js';
import { GPT2_PACK, MODEL_OPTIONS } from './fixtures/engine-models.js';

const engine = await loadEngine(GPT2_PACK, MODEL_OPTIONS);
t.teardown(() => engine.close());

t.test('a routing estimate or an observer that throws costs a log line, not the request', async (t) => {
  const errors: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const router: CompletionRouter = {
    detect: () => ({ language: 'en', confidence: 1 }),
    route: () => ({ drafter: 'small', draftLength: 3, reason: 'static' }),
    observe: () => {
      throw new RangeError('alphaSum must be in [0, draftedTokens = 9], got NaN');
    },
    drafterFailed: () => true,
  };
  const service = new CompletionService(
    engine,
    router,
    { assign: () => null },
    new RequestQueue({ concurrency: 1, maxQueue: 1 }),
    new MetricsRecorder({ languageLabel: (l) => l ?? 'unknown', drafters: engine.drafterNames, defaultMetrics: false }),
    { modelId: 'm', maxTokens: 16, maxN: 2, maxRequestWork: 1024 },
    [
      () => {
        throw new Error('observer broke');
      },
    ],
    { warn: () => {}, error: (fields, message) => void errors.push({ fields: fields as Record<string, unknown>, message }) },
  );
  const plan = service.plan({ model: 'm', prompts: ['Hello, world'], n: 1, maxTokens: 8, temperature: 0, topP: 1, topK: 0, stop: [] });
  const signal = new AbortController().signal;
  const slot = service.admit(plan, signal);
  await service.tokenize(plan, signal);
  const [result] = await service.run(plan, slot, { signal, arrivedAt: performance.now() });
  t.equal(result!.completionTokens, 8, 'the result came back');
  t.same(errors.map((e) => [e.message, e.fields.step]), [
    ['bookkeeping after a generation failed', 'routing'],
    ['bookkeeping after a generation failed', 'observer 0'],
  ]);
  t.equal(service.queue.running, 0, 'the slot was released');
});
