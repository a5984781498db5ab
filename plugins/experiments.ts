// The admin API of A/B experiments: create, list, read out and delete experiments of the registry
// (src/experiments/experiment-store.ts, built by src/fairspec.ts with FAIRSPEC_EXPERIMENTS).
//
// The admin API needs `Authorization: Bearer <FAIRSPEC_ADMIN_TOKEN>` (401 without it or with a
// wrong one); without a configured token it is disabled (403): plugins/admin-auth.ts. The check
// runs on request, before the body is read, so nothing about validation leaks to unauthenticated
// clients. Experiments created through the API are kept in FAIRSPEC_STATE_DIR when it is set
// (every replica sharing the folder loads them, restarts included), else in memory only; the
// work is src/experiment-admin.ts's. The read-out is this replica's (`?scope=replica`, the
// default) or the cluster's from Prometheus (`?scope=cluster`, FAIRSPEC_PROMETHEUS_URL).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ExperimentError } from '../src/experiments/errors.js';
import { checkExperimentInput, ExperimentSchema, type Experiment } from '../src/experiments/experiment.js';
import { adminErrors, adminGuard, adminSchema } from './admin-auth.js';
import { errorResponse, errorResponses } from '../src/wire/error.js';
import { experimentSummaryBody } from '../src/wire/experiment-summary.js';
import { ExperimentDeleted, ExperimentId, ExperimentList, ExperimentSummary, ExperimentView, ReadoutQuery } from '../src/wire/experiments.js';

const experimentsPlugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config, fairspec } = fastify;
  const store = fairspec.experiments;
  const experiments = fairspec.experimentAdmin;

  const admin = adminGuard(config.adminToken);
  const common = adminSchema('experiments');
  const view = (e: Experiment) => ({ ...e, arms: [...e.arms], object: 'experiment' as const, created_at: new Date(store.statistics(e.id).createdAt).toISOString() });
  const found = (id: string): Experiment => {
    const experiment = store.get(id);
    if (!experiment) throw new ExperimentError('FS_EXPERIMENT_NOT_FOUND', `No experiment '${id}'.`, 'id');
    return experiment;
  };

  fastify.post(
    '/v1/experiments',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Create an experiment',
        description:
          'Users are assigned to arms by a hash of the salt and their key (the body `user`, else the x-fairspec-user header, else ' +
          'the request id), so the same user gets the same arm on every replica and after restarts. At most one experiment is enabled.',
        body: ExperimentSchema,
        response: {
          201: ExperimentView,
          400: errorResponses[400],
          ...adminErrors,
          409: errorResponse('Id taken, another experiment enabled, or too many experiments.'),
          500: errorResponse('The experiment could not be saved to FAIRSPEC_STATE_DIR (code state_write_failed); nothing was created.'),
        },
      },
      // The body schema, checked by TypeBox rather than ajv: every problem with its full path
      // (`arms[1].weight`), where ajv would stop at the first and drop array indices.
      validatorCompiler: () => (value) => {
        try {
          return { value: checkExperimentInput(value) };
        } catch (error) {
          return { error: error as Error };
        }
      },
    },
    async (request, reply) => reply.code(201).send(view(await experiments.create(request.body))),
  );

  fastify.get(
    '/v1/experiments',
    { onRequest: admin, schema: { ...common, summary: 'List experiments', response: { 200: ExperimentList, ...adminErrors } } },
    async () => ({ object: 'list' as const, data: store.list().map(view) }),
  );

  fastify.get(
    '/v1/experiments/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Read out an experiment',
        description:
          'Per arm and language: requests, tokens, acceptance rate, mean accepted length, speed-up over plain decoding and latency ' +
          'p50/p95, each with a 95% interval; every arm against the control per language (Holm-adjusted); per arm the ' +
          'fairness summary across languages, U included. Speed-up is tokens per second over plain decoding\'s, each a ratio of ' +
          'sums: plain decoding is the experiment\'s plain arms (drafter null), else the server\'s plain requests since it was created. ' +
          "scope=cluster reads every replica's and restart's counters from Prometheus and computes the same read-out from their sums; " +
          'its latency quantiles come from histograms.',
        params: ExperimentId,
        querystring: ReadoutQuery,
        response: {
          200: ExperimentSummary,
          ...adminErrors,
          404: errorResponse('No such experiment (code experiment_not_found).'),
          501: errorResponse('scope=cluster without FAIRSPEC_PROMETHEUS_URL (code cluster_readout_disabled).'),
          502: errorResponse('The Prometheus of scope=cluster did not answer (code prometheus_unavailable).'),
        },
      },
    },
    async (request) => experimentSummaryBody(await experiments.readout(found(request.params.id).id, request.query.scope)),
  );

  fastify.delete(
    '/v1/experiments/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Delete an experiment',
        description:
          "Stops assigning users to it and drops its observations (this replica's; its counters stay in Prometheus). With " +
          'FAIRSPEC_STATE_DIR the other replicas drop it at their next sync.',
        params: ExperimentId,
        response: {
          200: ExperimentDeleted,
          ...adminErrors,
          404: errorResponse('No such experiment (code experiment_not_found).'),
          500: errorResponse('The experiment could not be removed from FAIRSPEC_STATE_DIR (code state_write_failed); it still exists.'),
        },
      },
    },
    async (request) => {
      await experiments.delete(found(request.params.id).id);
      return { id: request.params.id, object: 'experiment' as const, deleted: true as const };
    },
  );
};

export default experimentsPlugin;
