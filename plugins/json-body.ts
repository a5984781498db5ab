// JSON bodies decoded strictly. Fastify's default parser decodes the bytes with
// Buffer#toString('utf8'), which silently turns invalid UTF-8 into U+FFFD; a prompt with
// replacement characters would then be tokenised and billed as if the client had sent them.
// Here the raw bytes go through a fatal TextDecoder first, and only then through Fastify's
// own JSON parser (which keeps its prototype-poisoning protection). A body nested deeper than
// MAX_JSON_DEPTH is refused before it is parsed (src/json-depth.ts says why), on every route.
//
// Decoding and parsing a body near the 1 MiB limit takes 3-15 ms of the event loop (non-ASCII
// text the most). Several such bodies that arrive together would run back to back and stall
// every other request, /healthz included (issue 16), so large bodies are parsed one per turn of
// the event loop, with pending I/O served between them.

import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { FairspecError } from '../src/errors.js';
import { nestsDeeperThan } from '../src/json-depth.js';

/** Objects and arrays inside one another; the deepest request (a prompt of token arrays, an experiment's arms) needs 3. */
export const MAX_JSON_DEPTH = 32;

/** Bodies from this size on wait for their turn. */
const LARGE_BODY_BYTES = 64 * 1024;

async function jsonBodyPlugin(fastify: FastifyInstance): Promise<void> {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const decoder = new TextDecoder('utf-8', { fatal: true });

  // One job per setImmediate: an immediate queued from the check phase runs in the next loop
  // iteration, after the poll phase has taken in new I/O.
  const waiting: Array<() => void> = [];
  const runNext = (): void => {
    waiting.shift()?.();
    if (waiting.length > 0) setImmediate(runNext);
  };
  const inTurn = (job: () => void): void => {
    waiting.push(job);
    if (waiting.length === 1) setImmediate(runNext);
  };

  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const parse = (): void => {
      let text: string;
      try {
        text = decoder.decode(body as Buffer);
      } catch {
        done(new FairspecError('FS_INVALID_UTF8', 'The request body is not valid UTF-8.'), undefined);
        return;
      }
      if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
        done(new FairspecError('FS_JSON_TOO_DEEP', `The JSON body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`), undefined);
        return;
      }
      parseJson(request, text, done);
    };
    if ((body as Buffer).length < LARGE_BODY_BYTES) parse();
    else inTurn(parse);
  });
}

export default fp(jsonBodyPlugin, { name: 'fairspec-json-body', fastify: '5.x' });
