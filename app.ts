// The HTTP layer's one entry: builds fairspec's parts (src/fairspec.ts, the composition root),
// decorates the Fastify instance with them once, and registers the plugins (one per capability,
// in plugins/) that adapt them to HTTP. Error handling and body parsing come first, then
// draining, the OpenAPI collector before any route, and the routes.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './src/config.js';
import { createFairspec, type Fairspec, type RoutingPolicyOptions } from './src/fairspec.js';
import errors from './plugins/errors.js';
import jsonBody from './plugins/json-body.js';
import drain from './plugins/drain.js';
import docs from './plugins/docs.js';
import metrics from './plugins/metrics.js';
import routing from './plugins/routing.js';
import experiments from './plugins/experiments.js';
import drafters from './plugins/drafters.js';
import health from './plugins/health.js';
import models from './plugins/models.js';
import completions from './plugins/completions.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    fairspec: Fairspec;
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

  const fairspec = await createFairspec(config, {
    loadModels: options.loadModels ?? true,
    log: app.log,
    ...(options.routingPolicy && { routingPolicy: options.routingPolicy }),
  });
  app.decorate('config', config);
  app.decorate('fairspec', fairspec);
  // Drain: refuse new work from the moment close() starts; queued and running requests finish.
  app.addHook('preClose', async () => fairspec.stopAdmitting());
  app.addHook('onClose', async () => fairspec.close());

  await app.register(errors);
  await app.register(jsonBody);
  await app.register(drain);
  await app.register(docs);
  await app.register(metrics);
  await app.register(routing);
  await app.register(experiments);
  await app.register(drafters);
  await app.register(health);
  await app.register(models);
  await app.register(completions);
  return app;
}
