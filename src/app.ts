// Builds the Fastify application from a validated Config. Plugins (one per capability, in
// plugins/) are registered in dependency order: error handling and body parsing first, the
// OpenAPI collector before any route, the engine before the routes that use it, and the metrics
// registry before the routing, fairness and experiment plugins that add gauges to it.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import errors from '../plugins/errors.js';
import jsonBody from '../plugins/json-body.js';
import drain from '../plugins/drain.js';
import docs from '../plugins/docs.js';
import engine from '../plugins/engine.js';
import metrics from '../plugins/metrics.js';
import routing, { type RoutingPolicyOptions } from '../plugins/routing.js';
import fairness from '../plugins/fairness.js';
import experiments from '../plugins/experiments.js';
import drafters from '../plugins/drafters.js';
import health from '../plugins/health.js';
import models from '../plugins/models.js';
import completions from '../plugins/completions.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

export interface BuildAppOptions {
  /** Load the model pack (default). false: routes and spec only; completions answer 503. */
  loadModels?: boolean;
  logger?: FastifyServerOptions['logger'];
  /** Routing policy settings beyond FAIRSPEC_ROUTING_MODE (exploration, warm-up...), for embedding and tests. */
  routingPolicy?: RoutingPolicyOptions;
}

export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimit,
    // Requests arriving while draining reach our handlers, which answer in OpenAI's error shape.
    return503OnClosing: false,
    ajv: {
      // Wrong JSON types are errors, not coerced ("10" is not an integer); unknown fields are
      // reported, not silently dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', config);
  await app.register(errors);
  await app.register(jsonBody);
  await app.register(drain);
  await app.register(docs);
  await app.register(engine, { load: options.loadModels ?? true });
  await app.register(metrics);
  await app.register(routing, { ...(options.routingPolicy && { policy: options.routingPolicy }) });
  await app.register(fairness);
  await app.register(experiments);
  await app.register(drafters);
  await app.register(health);
  await app.register(models);
  await app.register(completions);
  return app;
}
