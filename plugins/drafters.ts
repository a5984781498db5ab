// The drafters admin API: GET /v1/drafters lists the loaded drafter models, PUT
// /v1/drafters/{name} replaces one with the model in another folder while the server runs, so an
// operator rolls out a retrained drafter without a restart (src/engine/engine.ts replaceDrafter).
// Both need the admin token (plugins/admin-auth.ts): the list shows file-system paths, and a swap
// loads files.
//
// A swap only replaces the model behind an existing name: routing.json, the routing policy and
// experiments name drafters, and they keep naming the same one. The folder must exist, be a
// directory, and lie inside the pack folder or one of FAIRSPEC_DRAFTER_DIRS after symbolic links
// are resolved (the lexical path is checked first, so a path outside says "not allowed" without
// telling whether it exists); the engine then checks it as at boot (vocabulary, config, ONNX
// graph). Any failure answers 4xx and leaves the old drafter serving. Running generations finish
// with the old model. The routing policy is told synchronously with the switch
// (plugins/routing.ts), and discounts, without resetting, what it learnt of the old model
// (src/routing/adaptive-policy.ts).

import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isEngineError, type DrafterInfo, type DrafterSwap, type Engine } from '../src/engine/index.js';
import { FairspecError } from '../src/errors.js';
import { adminErrors, adminGuard, adminSchema } from './admin-auth.js';
import { errorResponse, errorResponses } from './error-schema.js';
import { DrafterList, DrafterName, DrafterSwapped, DrafterSwapRequest } from './drafters-schema.js';

const view = (d: DrafterInfo) => ({
  object: 'drafter' as const,
  name: d.name,
  id: d.id,
  source: d.source,
  revision: d.revision,
  loaded_at: Math.floor(d.loadedAt / 1000),
  num_layers: d.numLayers,
  hidden_size: d.hiddenSize,
  vocab_size: d.vocabSize,
  context_length: d.contextLength,
  onnx_bytes: d.onnxBytes,
  in_use: d.inUse,
});

/** `child` is `root` or lies below it. */
function within(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The real path of the model folder `raw` names (relative: from the pack folder), if it lies in
 * one of `roots` (the pack folder first); FairspecError otherwise.
 */
export async function resolveDrafterFolder(raw: string, roots: readonly string[]): Promise<string> {
  const notAllowed = () =>
    new FairspecError('FS_PATH_NOT_ALLOWED', `The path '${raw}' is outside the model pack and FAIRSPEC_DRAFTER_DIRS; a drafter can only be loaded from there.`);
  if (raw.includes('\0')) throw notAllowed();
  const absolute = resolve(roots[0]!, raw);
  if (!roots.some((root) => within(absolute, resolve(root)))) throw notAllowed();
  let real: string;
  try {
    real = await realpath(absolute);
  } catch {
    throw new FairspecError('FS_PATH_NOT_FOUND', `There is no folder at '${raw}'.`);
  }
  // A symbolic link inside an allowed folder may point anywhere: judge where it leads.
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
  if (!realRoots.some((root) => root !== null && within(real, root))) throw notAllowed();
  if (!(await stat(real)).isDirectory()) throw new FairspecError('FS_NOT_A_DIRECTORY', `'${raw}' is not a folder; give the model folder that holds config.json and onnx/.`);
  return real;
}

const draftersPlugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config } = fastify;
  const admin = adminGuard(config.adminToken);
  const common = adminSchema('drafters');
  const roots = [resolve(config.packDir), ...config.drafterDirs.map((d) => resolve(d))];
  const loaded = (): Engine => {
    if (fastify.engine === null) throw new FairspecError('FS_NOT_READY', 'The model is not loaded yet.');
    return fastify.engine;
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
      const engine = loaded();
      return { object: 'list' as const, data: (await engine.drafters()).map(view), retiring: engine.retiringDrafters };
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
      const engine = loaded();
      const { name } = request.params;
      if (fastify.draining) throw new FairspecError('FS_SHUTTING_DOWN', 'The server is shutting down.');
      if (!engine.drafterNames.includes(name)) {
        throw new FairspecError('FS_DRAFTER_NOT_FOUND', `No drafter '${name}'; this server has ${engine.drafterNames.join(', ') || 'none'}.`, 'name');
      }
      const folder = await resolveDrafterFolder(request.body.path, roots);
      const started = performance.now();
      let swap: DrafterSwap;
      try {
        swap = await engine.replaceDrafter(name, folder);
      } catch (err) {
        if (isEngineError(err, 'FS_VOCAB_MISMATCH')) throw new FairspecError('FS_VOCAB_MISMATCH', err.message, 'path');
        if (isEngineError(err, 'FS_MODEL_CONFIG') || isEngineError(err, 'FS_MODEL_IO') || isEngineError(err, 'FS_MODEL_LOAD')) {
          throw new FairspecError('FS_INVALID_DRAFTER_MODEL', `The folder '${request.body.path}' cannot be loaded as a drafter: ${err.message}`, 'path');
        }
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

export default fp(draftersPlugin, {
  name: 'fairspec-drafters',
  fastify: '5.x',
  dependencies: ['fairspec-errors', 'fairspec-engine', 'fairspec-routing', 'fairspec-drain'],
});
