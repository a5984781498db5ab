// Schemas of the drafters admin API (plugins/drafters.ts): the loaded drafters and the hot swap.
import { Type, type Static } from 'typebox';

export const DrafterName = Type.Object({
  name: Type.String({ description: "Drafter name, as routing.json and `speculative.drafter` use it (the pack's folder drafter-NAME)." }),
});

export const DrafterSwapRequest = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      maxLength: 4096,
      description:
        'Folder of the new drafter, of any kind: a neural model (config.json, onnx/model.onnx or the file of its dtype, optionally tokenizer.json and fairspec.json) in the Optimum / ' +
        "transformers.js layout like the pack's; n-gram tables (ngram.json and the tables it names); or prompt lookup (prompt-lookup.json). A relative path is taken from the pack folder. It must lie, after " +
        'resolving symbolic links, inside the pack folder or one of FAIRSPEC_DRAFTER_DIRS, and share the verifier\'s vocabulary.',
    }),
  },
  { title: 'DrafterSwap', additionalProperties: false },
);

export const DrafterView = Type.Object(
  {
    object: Type.Literal('drafter'),
    name: Type.String(),
    id: Type.String({ description: 'Model id: PACK/drafter-NAME for a drafter loaded at boot, PARENT/FOLDER for a swapped-in one.' }),
    source: Type.String({ description: 'Absolute path of the model folder.' }),
    revision: Type.Integer({ description: 'Increases with every model loaded; a swap gives the drafter a new one.' }),
    loaded_at: Type.Integer({ description: 'Unix seconds when this model was loaded.' }),
    kind: Type.Union([Type.Literal('neural'), Type.Literal('ngram'), Type.Literal('prompt-lookup')], {
      description: 'neural: an ONNX causal LM; ngram: per-language n-gram tables; prompt-lookup: continuations of earlier matches in the request itself.',
    }),
    num_layers: Type.Union([Type.Integer(), Type.Null()], { description: 'A neural drafter\'s layers; null for the other kinds.' }),
    hidden_size: Type.Union([Type.Integer(), Type.Null()], { description: 'A neural drafter\'s hidden size; null for the other kinds.' }),
    vocab_size: Type.Integer(),
    context_length: Type.Integer(),
    onnx_bytes: Type.Union([Type.Integer(), Type.Null()], {
      description: 'A neural drafter: size of the loaded ONNX graph and its external data files, other dtypes\' files beside it not counted; null for the other kinds.',
    }),
    bytes: Type.Union([Type.Integer(), Type.Null()], { description: 'Size of the files loaded: ONNX graph and weights, or n-gram tables (0 for prompt lookup).' }),
    in_use: Type.Integer({ description: 'Generations drafting with this model now.' }),
  },
  { title: 'Drafter' },
);

export const DrafterList = Type.Object(
  {
    object: Type.Literal('list'),
    data: Type.Array(DrafterView),
    retiring: Type.Integer({ description: 'Replaced drafter models still held by a running generation; each is released when it ends.' }),
  },
  { title: 'DrafterList' },
);

export const DrafterSwapped = Type.Object(
  {
    ...DrafterView.properties,
    replaced: Type.Object(
      {
        id: Type.String(),
        source: Type.String(),
        revision: Type.Integer(),
        in_use: Type.Integer({ description: 'Generations still drafting with the replaced model; its session is released after the last.' }),
      },
      { description: 'The model this swap replaced.' },
    ),
  },
  { title: 'DrafterSwapped' },
);
export type DrafterSwappedBody = Static<typeof DrafterSwapped>;
