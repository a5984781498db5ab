// Chat templates (issue 17): the model's own from tokenizer_config.json (a string, or named
// templates), the override, the special tokens as variables, and the clear errors of a model
// without one and of a template that refuses the messages.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { ChatPrompts, detectionText } from '../../src/chat/chat-prompts.js';
import { ChatTemplate, specialTokenVariables, tokenizerChatTemplate } from '../../src/chat/chat-template.js';

const shipped = JSON.parse(readFileSync(new URL('../../models/default/verifier/tokenizer_config.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const messages = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'How do I install it?' },
];

t.test("the shipped pack's template: a <|role|> line and the content per message, then the reply's opener", async (t) => {
  const prompts = new ChatPrompts(null, shipped);
  t.ok(prompts.available);
  t.equal(prompts.render(messages), '<|system|>\nAnswer briefly.\n<|user|>\nHow do I install it?\n<|assistant|>\n');
  t.equal(prompts.render(messages, false), '<|system|>\nAnswer briefly.\n<|user|>\nHow do I install it?\n', 'without the generation prompt');
  for (const drafter of ['drafter-baseline', 'drafter-scdf']) {
    const config = JSON.parse(readFileSync(new URL(`../../models/default/${drafter}/tokenizer_config.json`, import.meta.url), 'utf8'));
    t.equal(config.chat_template, shipped['chat_template'], `${drafter} carries the same template`);
  }
});

t.test('tokenizer_config.json: a string, or the template named default; else none', async (t) => {
  t.equal(tokenizerChatTemplate({ chat_template: 'x' }), 'x');
  t.equal(tokenizerChatTemplate({ chat_template: [{ name: 'tool_use', template: 'a' }, { name: 'default', template: 'b' }] }), 'b');
  t.equal(tokenizerChatTemplate({ chat_template: [{ name: 'tool_use', template: 'a' }] }), null);
  t.equal(tokenizerChatTemplate({}), null);
});

t.test('special tokens are variables of the template', async (t) => {
  const config = { bos_token: '<s>', eos_token: { content: '</s>', lstrip: false }, pad_token: null, model_max_length: 8 };
  t.same(specialTokenVariables(config), { bos_token: '<s>', eos_token: '</s>' });
  const prompts = new ChatPrompts(null, { ...config, chat_template: "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}" });
  t.equal(prompts.render(messages), '<s>[system] Answer briefly.</s>[user] How do I install it?</s>');
});

t.test('FAIRSPEC_CHAT_TEMPLATE overrides the model\'s, and serves a model without one', async (t) => {
  const override = '{% for m in messages %}{{ m.role | upper }}: {{ m.content }}\n{% endfor %}';
  t.equal(new ChatPrompts(override, shipped).render(messages.slice(1)), 'USER: How do I install it?\n');
  t.ok(new ChatPrompts(override, {}).available);
});

t.test('no template: FS_NO_CHAT_TEMPLATE, also when the model\'s cannot be parsed (logged)', async (t) => {
  t.throws(() => new ChatPrompts(null, {}).render(messages), { code: 'FS_NO_CHAT_TEMPLATE', param: 'messages', message: /no chat template/ });
  const warnings: string[] = [];
  const broken = new ChatPrompts(null, { chat_template: '{% for m in messages %}' }, { warn: (_, message) => void warnings.push(message) });
  t.notOk(broken.available);
  t.throws(() => broken.render(messages), { code: 'FS_NO_CHAT_TEMPLATE', message: /cannot be parsed/ });
  t.equal(warnings.length, 1);
});

t.test('a template that refuses the messages: FS_CHAT_TEMPLATE_FAILED with its reason', async (t) => {
  const strict = new ChatTemplate("{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}ok");
  t.throws(() => strict.render(messages, true), { code: 'FS_CHAT_TEMPLATE_FAILED', message: /must start with a user message/ });
  t.equal(strict.render(messages.slice(1), true), 'ok');
});

t.test('the language is detected on the user messages', async (t) => {
  t.equal(detectionText([...messages, { role: 'assistant', content: 'Run npm install.' }, { role: 'user', content: 'Thanks' }]), 'How do I install it?\nThanks');
  t.equal(detectionText([{ role: 'system', content: 'Sois bref.' }]), 'Sois bref.', 'no user message: all of them');
});
