import t from 'tap';
import { samplingRegime } from '../../src/routing/sampling-regime.js';

t.test('greedy at temperature 0 or top_k 1, sampled otherwise', async (t) => {
  t.equal(samplingRegime({ temperature: 0, topK: 0 }), 'greedy');
  t.equal(samplingRegime({ temperature: 0, topK: 40 }), 'greedy');
  t.equal(samplingRegime({ temperature: 1.3, topK: 1 }), 'greedy', 'top_k 1: p and q are one-hot on their argmax');
  t.equal(samplingRegime({ temperature: 1, topK: 0 }), 'sampled');
  t.equal(samplingRegime({ temperature: 0.01, topK: 2 }), 'sampled');
});
