// Schemas of GET /v1/models and GET /v1/models/{model} (plugins/models.ts), in OpenAI's shapes.
import { Type, type Static } from 'typebox';

export const Model = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('model'),
    created: Type.Integer({ description: 'Unix seconds when the server loaded the model.' }),
    owned_by: Type.String(),
    max_model_len: Type.Optional(Type.Integer({ description: "The verifier's context length in tokens (prompt + completion), as vLLM reports it; absent while the model loads." })),
  },
  { title: 'Model' },
);

export const ModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(Model) }, { title: 'ModelList' });
export type ModelListBody = Static<typeof ModelList>;

export const ModelParams = Type.Object({ model: Type.String() });
