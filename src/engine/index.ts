// The engine's public surface for the HTTP layer and the router.

export type * from './types.js';
export { Engine, loadEngine, packModelPaths, type DrafterInfo, type DrafterSwap, type EngineModelPaths, type EngineOptions } from './engine.js';
export { EngineError, isEngineError, type EngineErrorCode } from './errors.js';
export { emptyStats } from './speculative.js';
// Lower-level pieces for offline evaluation (per-language acceptance over held-out text).
export { CausalLM, type CausalLMOptions } from './causal-lm.js';
export { draftAgreement, type DraftAgreement } from './draft-agreement.js';
export { TextTokenizer } from './tokenizer.js';
export type { ModelConfig, KvDtype } from './model-config.js';
