// JSON bodies decoded strictly. Fastify's default parser decodes the bytes with
// Buffer#toString('utf8'), which silently turns invalid UTF-8 into U+FFFD; a prompt with
// replacement characters would then be tokenised and billed as if the client had sent them.
// Here the raw bytes go through a fatal TextDecoder first, and only then through Fastify's
// own JSON parser (which keeps its prototype-poisoning protection).

import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { FairspecError } from '../src/errors.js';

async function jsonBodyPlugin(fastify: FastifyInstance): Promise<void> {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const decoder = new TextDecoder('utf-8', { fatal: true });

  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decoder.decode(body as Buffer);
    } catch {
      done(new FairspecError('FS_INVALID_UTF8', 'The request body is not valid UTF-8.'), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

export default fp(jsonBodyPlugin, { name: 'fairspec-json-body', fastify: '5.x' });
