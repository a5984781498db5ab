// openapi/openapi.json is generated from the route schemas (npm run openapi); this fails when
// the checked-in file is stale, and checks the spec with a real OpenAPI parser.

import { readFile } from 'node:fs/promises';
import t from 'tap';
import SwaggerParser from '@apidevtools/swagger-parser';
import { generateSpec, SPEC_PATH } from '../../openapi/generate.js';
import { buildTestApp } from '../helpers/build-app.js';

const generated = await generateSpec();

t.test('the checked-in openapi/openapi.json is up to date (run npm run openapi)', async (t) => {
  const checkedIn = await readFile(SPEC_PATH, 'utf8');
  t.equal(checkedIn, generated);
});

t.test('the spec is valid OpenAPI 3.1 and documents the API', async (t) => {
  const spec = (await SwaggerParser.validate(JSON.parse(generated))) as any;
  t.equal(spec.openapi, '3.1.0');
  t.same(Object.keys(spec.paths).sort(), [
    '/detokenize',
    '/healthz',
    '/metrics',
    '/readyz',
    '/tokenize',
    '/v1/chat/completions',
    '/v1/completions',
    '/v1/drafters',
    '/v1/drafters/{name}',
    '/v1/experiments',
    '/v1/experiments/{id}',
    '/v1/models',
    '/v1/models/{model}',
    '/v1/routing',
  ]);
  const post = spec.paths['/v1/completions'].post;
  t.same(Object.keys(post.responses['200'].content).sort(), ['application/json', 'text/event-stream']);
  for (const status of ['400', '404', '413', '415', '429', '500', '503']) t.ok(post.responses[status], `documents ${status}`);
  const props = post.requestBody.content['application/json'].schema.properties;
  for (const field of ['model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'top_k', 'n', 'stop', 'seed', 'stream', 'stream_options', 'user', 'language', 'speculative']) {
    t.ok(props[field], `request field ${field}`);
  }
  const speculative = post.responses['200'].content['application/json'].schema.properties.speculative.properties;
  t.ok(speculative.experiment && speculative.arm, 'the speculative object documents experiment and arm');
  for (const field of ['echo', 'logprobs', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'repetition_penalty', 'min_tokens', 'ignore_eos', 'min_p']) {
    t.ok(props[field], `request field ${field}`);
  }
  t.ok(post.responses['200'].content['application/json'].schema.properties.choices.items.properties.logprobs, 'choices document logprobs');
});

t.test('chat completions, tokenize and detokenize are documented (issue 17)', async (t) => {
  const spec = (await SwaggerParser.validate(JSON.parse(generated))) as any;
  const chat = spec.paths['/v1/chat/completions'].post;
  t.same(Object.keys(chat.responses['200'].content).sort(), ['application/json', 'text/event-stream']);
  for (const status of ['400', '404', '429', '500', '503']) t.ok(chat.responses[status], `chat documents ${status}`);
  const props = chat.requestBody.content['application/json'].schema.properties;
  for (const field of ['model', 'messages', 'max_completion_tokens', 'max_tokens', 'logprobs', 'top_logprobs', 'stream', 'speculative', 'repetition_penalty']) {
    t.ok(props[field], `chat request field ${field}`);
  }
  t.same(props.messages.items.properties.role.enum, ['system', 'developer', 'user', 'assistant']);
  t.ok(chat.responses['200'].content['application/json'].schema.properties.speculative, 'the speculative object');
  t.same(Object.keys(spec.paths['/tokenize'].post.responses['200'].content['application/json'].schema.properties).sort(), ['count', 'max_model_len', 'tokens']);
  t.ok(spec.paths['/detokenize'].post.requestBody.content['application/json'].schema.properties.tokens);
  t.ok(spec.paths['/v1/models'].get.responses['200'].content['application/json'].schema.properties.data.items.properties.max_model_len);
});

t.test('the admin API is documented as bearer-protected, with its 401 and 403', async (t) => {
  const spec = (await SwaggerParser.validate(JSON.parse(generated))) as any;
  t.same(spec.components.securitySchemes.adminToken, { type: 'http', scheme: 'bearer', description: 'FAIRSPEC_ADMIN_TOKEN' });
  const operations = [
    spec.paths['/v1/experiments'].post,
    spec.paths['/v1/experiments'].get,
    spec.paths['/v1/experiments/{id}'].get,
    spec.paths['/v1/experiments/{id}'].delete,
    spec.paths['/v1/drafters'].get,
    spec.paths['/v1/drafters/{name}'].put,
  ];
  for (const op of operations) {
    t.same(op.security, [{ adminToken: [] }], `${op.summary}: needs the admin token`);
    t.ok(op.responses['401'] && op.responses['403'], `${op.summary}: documents 401 and 403`);
  }
  t.ok(spec.paths['/v1/experiments'].post.requestBody.content['application/json'].schema.properties.arms, 'the experiment body schema');
  const swap = spec.paths['/v1/drafters/{name}'].put;
  t.ok(swap.requestBody.content['application/json'].schema.properties.path, 'the drafter swap body schema');
  for (const status of ['200', '400', '404', '503']) t.ok(swap.responses[status], `the drafter swap documents ${status}`);
  t.notOk(spec.paths['/v1/routing'].get.security, 'GET /v1/routing is public, like /metrics');
});

t.test('the spec does not depend on the loaded pack or the configuration', async (t) => {
  const app = await buildTestApp(t, { maxN: 2, maxTokens: 10 });
  t.equal(`${JSON.stringify(app.swagger(), null, 2)}\n`, generated);
});

t.test('Swagger UI is served at /docs', async (t) => {
  const app = await buildTestApp(t, {}, { loadModels: false });
  const res = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(res.statusCode, 200);
  t.match(res.body, /swagger/i);
  const json = await app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(json.json().openapi, '3.1.0');
});
