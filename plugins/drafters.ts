// The drafters admin API: GET /v1/drafters lists the loaded drafter models, PUT
// /v1/drafters/{name} replaces one with the model in another folder while the server runs, so an
// operator rolls out a retrained drafter without a restart (src/drafter-admin.ts says which
// folders and what a failed load means; running generations finish with the old model). Both need
// the admin token (plugins/admin-auth.ts): the list shows file-system paths, and a swap loads
// files. The routing policy is told synchronously with the switch (src/fairspec.ts), and
// discounts, without resetting, what it learnt of the old model (src/routing/adaptive-policy.ts).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { DrafterAdmin } from '../src/drafter-admin.js';
import type { DrafterInfo } from '../src/engine/index.js';
import { FairspecError } from '../src/errors.js';
import { adminErrors, adminGuard, adminSchema } from './admin-auth.js';
import { errorResponse, errorResponses } from '../src/wire/error.js';
import { DrafterList, DrafterName, DrafterSwapped, DrafterSwapRequest } from '../src/wire/drafters.js';

const view = (d: DrafterInfo) => ({
  object: 'drafter' as const,
  name: d.name,
  id: d.id,
  source: d.source,
  kind: d.kind,
  revision: d.revision,
  loaded_at: Math.floor(d.loadedAt / 1000),
  num_layers: d.numLayers,
  hidden_size: d.hiddenSize,
  vocab_size: d.vocabSize,
  context_length: d.contextLength,
  onnx_bytes: d.kind === 'neural' ? d.bytes : null,
  bytes: d.bytes,
  in_use: d.inUse,
});

const draftersPlugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config } = fastify;
  const admin = adminGuard(config.adminToken);
  const common = adminSchema('drafters');
  const loaded = (): DrafterAdmin => {
    const drafters = fastify.fairspec.loaded?.drafters;
    if (!drafters) throw new FairspecError('FS_NOT_READY', 'The model is not loaded yet.');
    return drafters;
  };

  fastify.get(
    '/v1/drafters',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'List the loaded drafters',
        description: 'Each drafter name with the model behind it now: folder, revision, load time, shape and size.',
        response: { 200: DrafterList, ...adminErrors, 503: errorResponses[503] },
      },
    },
    async () => {
      const drafters = loaded();
      return { object: 'list' as const, data: (await drafters.list()).map(view), retiring: drafters.retiring };
    },
  );

  fastify.put(
    '/v1/drafters/:name',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Replace a drafter (hot swap)',
        description:
          'Loads the model folder `path` and makes it drafter `name` for the requests that start from then on; running ones finish ' +
          "with the old model, whose session is released after the last of them. The folder is checked as at boot (the verifier's " +
          'vocabulary, config.json, the ONNX inputs and outputs); on any error the old drafter keeps serving. The routing policy ' +
          "keeps its estimates for the drafter but discounts them to a prior's weight, and re-times its cost, so a language that " +
          'had gone to plain decoding comes back through exploration once the new drafter pays.',
        params: DrafterName,
        body: DrafterSwapRequest,
        response: {
          200: DrafterSwapped,
          400: errorResponse(
            'Invalid body, a path outside the pack and FAIRSPEC_DRAFTER_DIRS (path_not_allowed), not a folder (not_a_directory), ' +
              "a folder that is not a loadable model (invalid_model) or whose vocabulary is not the verifier's (vocab_mismatch).",
          ),
          ...adminErrors,
          404: errorResponse('No drafter of that name (drafter_not_found), or nothing at `path` (path_not_found).'),
          503: errorResponses[503],
        },
      },
    },
    async (request) => {
      const drafters = loaded();
      const { name } = request.params;
      if (fastify.draining) throw new FairspecError('FS_SHUTTING_DOWN', 'The server is shutting down.');
      const started = performance.now();
      let swap;
      try {
        swap = await drafters.swap(name, request.body.path);
      } catch (err) {
        // The client's message names no absolute path and quotes no file; the log keeps the engine's own.
        if (err instanceof Error && err.cause !== undefined) request.log.warn({ err: err.cause, drafter: name }, 'drafter swap refused');
        throw err;
      }
      const { current, replaced } = swap;
      request.log.info(
        { drafter: name, from: replaced.source, to: current.source, revision: current.revision, ms: Math.round(performance.now() - started) },
        'drafter replaced',
      );
      return { ...view(current), replaced: { id: replaced.id, source: replaced.source, revision: replaced.revision, in_use: replaced.inUse } };
    },
  );
};

export default draftersPlugin;
