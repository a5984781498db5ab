// Entry point: validate the configuration, load the pack, listen. SIGTERM/SIGINT stop new
// work and drain what is running; past FAIRSPEC_DRAIN_TIMEOUT_MS in-flight generations are
// aborted; a second signal exits at once.
//
// With FAIRSPEC_SHUTDOWN_LINGER_MS the server first stops admitting (GET /readyz 503, completions
// 503 for a load balancer to retry elsewhere), waits for its last generation, and stays up that
// long before it closes: Prometheus then scrapes the experiment counters after their last
// increment, so the cluster read-out (src/cluster/cluster-readout.ts) loses nothing to a
// restart. The drain deadline counts from the signal.
//
// Start node with --no-memory-reducer (src/server-node-flags.ts; `npm start` and the Dockerfile do).
// The language detector's tables keep the heap at about 190 MB of live data. After a few idle
// seconds V8's memory reducer sets the old generation's limit just above that, and under load the
// next ones then come every few hundred milliseconds, each marking the 190 MB: plain decoding
// measured 0.5-0.7x of its speed for minutes after an idle spell (bench/README.md, "Layouts").
// The flag cannot be set from here: V8 creates the reducer before any JavaScript runs.

import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './src/config.js';
import { errorCode } from './src/error-codes.js';
import { SERVER_NODE_FLAGS } from './src/server-node-flags.js';

/** Stops admitting, waits for the last generation, then `ms` more while /metrics is still served. */
async function linger(app: Awaited<ReturnType<typeof buildApp>>, ms: number): Promise<void> {
  if (ms <= 0) return;
  const { fairspec } = app;
  fairspec.stopAdmitting();
  await fairspec.requestQueue.idle();
  app.log.info({ ms, incarnation: fairspec.incarnation }, 'last generation done; lingering for a final scrape');
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fairspec: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const app = await buildApp(config);
  await app.listen({ port: config.port, host: config.host });
  const missing = SERVER_NODE_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  if (missing.length > 0) app.log.warn({ missing }, 'node was started without the options server.ts asks for: decoding slows down after idle spells');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    const { requestQueue: queue } = app.fairspec;
    app.log.info({ signal, running: queue.running, queued: queue.waiting }, 'draining');
    const deadline = setTimeout(() => {
      app.log.warn('drain deadline passed: aborting in-flight generations');
      app.abortInFlight();
      setTimeout(() => process.exit(1), 5000).unref();
    }, config.drainTimeoutMs);
    deadline.unref();
    linger(app, config.shutdownLingerMs)
      .then(() => app.close())
      .then(
        () => {
          clearTimeout(deadline);
          app.log.info('drained; bye');
          process.exit(0);
        },
        (err: unknown) => {
          app.log.error({ err }, 'error while closing');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  const code = errorCode(err);
  if (err instanceof ConfigError) {
    // A setting that only the loaded pack can check (an experiment arm's drafter).
    process.stderr.write(`fairspec: ${err.message}\n`);
    process.exit(2);
  }
  if (code !== null) {
    // A missing or broken pack or routing.json is an operator error: say what and where, no stack.
    process.stderr.write(
      `fairspec: cannot load the model pack (${code}): ${(err as Error).message}\n` +
        'fairspec: FAIRSPEC_PACK must name a pack folder (verifier/, drafter-*/, routing.json)\n',
    );
  } else {
    process.stderr.write(`fairspec: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
