// What POST /v1/completions and POST /v1/chat/completions share: a route whose work is
// CompletionService's (src/completion-service.ts) and whose wire format is the caller's. It ties
// a request's connection to an AbortSignal (a client that goes away, stream or not, aborts its
// generation within one engine step; so do the drain deadline and FAIRSPEC_REQUEST_TIMEOUT_MS)
// and writes the reply. The order is the service's: plan (cheap checks), admit (429 / 503 at
// once), tokenize (off the event loop), run. A stream holds its generation while the client is
// not reading (sse-stream.ts), and every stream ends with `data: [DONE]`, an error event before
// it when the generation failed.

import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { ChoiceResult, CompletionParams, CompletionPlan, CompletionService, LogprobEntry } from '../src/completion-service.js';
import { AbortedError, FairspecError } from '../src/errors.js';
import { userKey } from '../src/experiments/assignment.js';
import { NO_DRAFTER, type MetricLabels } from '../src/metrics/metrics-recorder.js';
import type { Slot } from '../src/request-queue.js';
import { logFields, usage } from './completions-format.js';
import { summarizeRequest } from '../src/speculative-summary.js';
import { toOpenAIError } from './errors.js';
import { SseStream } from './sse-stream.js';
import { checkUnknownFields } from './unknown-fields.js';

/** The part of a request body this file reads; each route's schema has these fields. */
export interface GenerationBody {
  user?: string | undefined;
  stream?: boolean | null | undefined;
  stream_options?: { include_usage?: boolean | undefined } | null | undefined;
}

/** One route's wire format on both sides of the service. */
export interface GenerationFormat<Body extends GenerationBody> {
  /** The validated body to service parameters; throws FairspecError naming the field at fault. */
  params(body: Body, service: CompletionService): CompletionParams;
  /** The JSON reply. */
  json(plan: CompletionPlan, results: readonly ChoiceResult[]): object;
  /** The events of one stream. */
  chunks(plan: CompletionPlan, includeUsage: boolean): StreamChunks;
}

export interface StreamChunks {
  text(index: number, text: string, logprobs?: readonly LogprobEntry[]): object;
  /** A choice's last chunk. */
  end(result: ChoiceResult): object;
  /** The usage chunk: no choices, the usage and the aggregate speculative stats. */
  usage(results: readonly ChoiceResult[]): object;
}

interface Run {
  service: CompletionService;
  plan: CompletionPlan;
  slot: Slot;
  signal: AbortSignal;
  arrivedAt: number;
  /** True once the response closed before it was complete. */
  clientGone: () => boolean;
  /** True once FAIRSPEC_REQUEST_TIMEOUT_MS passed since arrival. */
  timedOut: () => boolean;
}

export function generationRoute<Body extends GenerationBody>(
  fastify: FastifyInstance,
  url: string,
  schema: FastifySchema & { body: { properties: Record<string, unknown> } },
  format: GenerationFormat<Body>,
): void {
  const { fairspec } = fastify;
  const getService = (): CompletionService => {
    const service = fairspec.loaded?.completions;
    if (!service) throw new FairspecError('FS_NOT_READY', 'The model is not loaded yet.');
    return service;
  };
  // Per request: when it arrived (reply.elapsedTime is 0 without a logger) and its metric labels.
  const arrivals = new WeakMap<FastifyRequest, number>();
  const labels = new WeakMap<FastifyRequest, MetricLabels>();

  fastify.post(
    url,
    {
      schema,
      // Counted when the response closes: after it finished, or when the client left first (499).
      // Fastify's onResponse runs on 'finish' only, so it would miss the clients that went away.
      onRequest: async (request, reply) => {
        const arrivedAt = performance.now();
        arrivals.set(request, arrivedAt);
        reply.raw.once('close', () => {
          const status = reply.raw.writableEnded ? reply.statusCode : 499;
          const l = labels.get(request) ?? fairspec.metrics.labels(null, NO_DRAFTER);
          fairspec.metrics.observeRequest(l, status, (performance.now() - arrivedAt) / 1000);
        });
      },
    },
    async (request, reply) => {
      const body = request.body as Body;
      const arrivedAt = arrivals.get(request) ?? performance.now();
      checkUnknownFields(request, schema.body, fastify.config.strictRequests);
      const service = getService();
      const params = format.params(body, service);
      params.userKey = userKey({ user: body.user, header: request.headers['x-fairspec-user'], requestId: request.id }).key;
      const plan = service.plan(params);
      labels.set(request, plan.labels);

      // One signal per request: the client went away (the response closed before it was
      // complete), the drain deadline passed (fastify.abortInFlight after SIGTERM), or the
      // whole-request limit did.
      const controller = new AbortController();
      let clientGone = false;
      let timedOut = false;
      const onShutdown = (): void => controller.abort();
      fastify.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
      const deadline = setTimeout(
        () => {
          timedOut = true;
          controller.abort();
        },
        Math.max(0, fastify.config.requestTimeoutMs - (performance.now() - arrivedAt)),
      );
      deadline.unref();
      reply.raw.once('close', () => {
        clearTimeout(deadline);
        fastify.shutdownSignal.removeEventListener('abort', onShutdown);
        if (!reply.raw.writableEnded) {
          clientGone = true;
          controller.abort();
        }
      });
      const slot = service.admit(plan, controller.signal);
      const run: Run = { service, plan, slot, signal: controller.signal, arrivedAt, clientGone: () => clientGone, timedOut: () => timedOut };
      try {
        await service.tokenize(plan, controller.signal);
      } catch (err) {
        slot.release();
        throw abortReason(err, run);
      }
      if (body.stream === true) return stream(reply, run, format.chunks(plan, body.stream_options?.include_usage === true), body, fastify.config.idleTimeoutMs);

      const results = await service.run(plan, run.slot, { signal: run.signal, arrivedAt }).catch((err: unknown) => {
        throw abortReason(err, run);
      });
      request.log.info(completionLog(body.user, plan, results), 'completion');
      return reply.type('application/json; charset=utf-8').send(format.json(plan, results));
    },
  );
}

/** An aborted run whose client is still there was stopped by the whole-request limit or the drain deadline. */
function abortReason(err: unknown, run: Run): unknown {
  if (err instanceof AbortedError && !run.clientGone()) {
    if (run.timedOut()) {
      const seconds = Math.round((performance.now() - run.arrivedAt) / 1000);
      return new FairspecError(
        'FS_REQUEST_TIMEOUT',
        `The request ran past this server's time limit (after ${seconds} s, queueing included); ask for fewer tokens or choices, or retry later.`,
      );
    }
    return new FairspecError('FS_SHUTTING_DOWN', 'The server shut down before the completion finished.');
  }
  return err;
}

function stream(reply: FastifyReply, run: Run, chunk: StreamChunks, body: GenerationBody, stallMs: number): FastifyReply {
  const sse = new SseStream(stallMs);
  const includeUsage = body.stream_options?.include_usage === true;

  reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no');
  reply.send(sse.body);

  run.service
    .run(run.plan, run.slot, {
      signal: run.signal,
      arrivedAt: run.arrivedAt,
      onText: (index, text, logprobs) => sse.send(chunk.text(index, text, logprobs)),
      onChoiceEnd: (result) => sse.send(chunk.end(result)),
    })
    .then((results) => {
      reply.log.info(completionLog(body.user, run.plan, results), 'completion');
      if (includeUsage) void sse.send(chunk.usage(results));
      void sse.send('[DONE]');
      sse.end();
    })
    .catch((err: unknown) => {
      if (run.clientGone()) {
        if (sse.stalled) reply.log.info({ stallMs }, 'stream client stopped reading: ended');
        sse.body.destroy();
        return;
      }
      // The headers are out: the error travels as an event, which OpenAI's clients raise as
      // APIError, and the stream still ends as every stream does.
      const { status, body: error } = toOpenAIError(abortReason(err, run) as Parameters<typeof toOpenAIError>[0]);
      if (status >= 500 && error.error.code === 'internal_error') reply.log.error({ err }, 'stream failed');
      void sse.send(error);
      void sse.send('[DONE]');
      sse.end();
    });
  return reply;
}

function completionLog(user: string | undefined, plan: CompletionPlan, results: readonly ChoiceResult[]) {
  return logFields(user, { usage: usage(plan, results), speculative: summarizeRequest(results.map((r) => r.speculative)) });
}
