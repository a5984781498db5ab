// The engine's public surface for the HTTP layer and the router.

export type * from './types.js';
export { Engine, loadEngine, type EngineOptions } from './engine.js';
export { packModelPaths, type EngineModelPaths } from './model-pack.js';
export type { DrafterInfo, DrafterSwap } from './drafter-pool.js';
export { EngineError, isEngineError, type EngineErrorCode } from './errors.js';
export { assertFitsContext } from './context-window.js';
export { emptyStats } from './sequence.js';
// Lower-level pieces for offline evaluation (per-language acceptance over held-out text).
export { CausalLM, type CausalLMOptions } from './causal-lm.js';
export { draftAgreement, type DraftAgreement } from './draft-agreement.js';
export { TextTokenizer } from './tokenizer.js';
export type { ModelConfig, KvDtype } from './model-config.js';
export { MODEL_DTYPES, isModelDtype, modelFileName, type ModelDtype } from './model-dtype.js';
