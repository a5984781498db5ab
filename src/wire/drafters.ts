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
        'Model folder of the new drafter (config.json, onnx/model.onnx or the file of its dtype, optionally tokenizer.json and fairspec.json), in the Optimum / ' +
        "transformers.js layout like the pack's. A relative path is taken from the pack folder. It must lie, after " +
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
    num_layers: Type.Integer(),
    hidden_size: Type.Integer(),
    vocab_size: Type.Integer(),
    context_length: Type.Integer(),
    onnx_bytes: Type.Union([Type.Integer(), Type.Null()], { description: 'Size of the loaded ONNX graph and its external data files, other dtypes\' files beside it not counted.' }),
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
