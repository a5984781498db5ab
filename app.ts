// The HTTP layer's one entry: builds fairspec's parts (src/fairspec.ts, the composition root),
// decorates the Fastify instance with them once, and registers the plugins (one per capability,
// in plugins/) that adapt them to HTTP. Error handling and body parsing come first, then the
// Host check, draining, the OpenAPI collector before any route, and the routes.
//
// Every phase in which the server waits on a client has a limit (issue 16): the headers
// (FAIRSPEC_HEADERS_TIMEOUT_MS) and the whole request (FAIRSPEC_BODY_TIMEOUT_MS; Node answers
// 408 and closes the connection), an idle keep-alive connection and an unread stream
// (FAIRSPEC_IDLE_TIMEOUT_MS); a completion's own time is FAIRSPEC_REQUEST_TIMEOUT_MS
// (plugins/completions.ts). There is no socket inactivity timeout: a non-streaming completion is
// silent while it generates.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './src/config.js';
import { createFairspec, type Fairspec, type RoutingPolicyOptions } from './src/fairspec.js';
import errors from './plugins/errors.js';
import jsonBody from './plugins/json-body.js';
import allowedHosts from './plugins/allowed-hosts.js';
import drain from './plugins/drain.js';
import docs from './plugins/docs.js';
import metrics from './plugins/metrics.js';
import routing from './plugins/routing.js';
import experiments from './plugins/experiments.js';
import drafters from './plugins/drafters.js';
import health from './plugins/health.js';
import models from './plugins/models.js';
import completions from './plugins/completions.js';
import chatCompletions from './plugins/chat-completions.js';
import tokenize from './plugins/tokenize.js';

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
    requestTimeout: config.bodyTimeoutMs,
    keepAliveTimeout: config.idleTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.bodyTimeoutMs,
      // How often Node looks for connections past those two limits (its default is 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    // Requests arriving while draining reach our handlers, which answer in OpenAI's error shape.
    return503OnClosing: false,
    ajv: {
      // Wrong JSON types are errors, not coerced ("10" is not an integer); unknown fields are
      // not silently dropped: a schema that allows them leaves them to its route (plugins/unknown-fields.ts).
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

  // In dependency order: errors and body parsing first, the OpenAPI collector before any route.
  for (const plugin of [errors, jsonBody, allowedHosts, drain, docs, metrics, routing, experiments, drafters, health, models, completions, chatCompletions, tokenize]) await app.register(plugin);
  return app;
}
