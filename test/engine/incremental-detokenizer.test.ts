import t from 'tap';
import { IncrementalDetokenizer } from '../../src/engine/incremental-detokenizer.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { join } from 'node:path';
import { GPT2_VERIFIER, LLAMA_SP_PACK } from '../fixtures/engine-models.js';

const tokenizer = await TextTokenizer.load(GPT2_VERIFIER);
const decode = (ids: readonly number[]) => tokenizer.decode(ids);

/** Is `s` whole characters only: no U+FFFD and no lone surrogate? */
function wellFormed(s: string): boolean {
  return !s.includes('\uFFFD') && !/\p{Cs}/u.test(s);
}

t.test('the byte-level tokenizer round-trips multi-byte text', async (t) => {
  for (const text of ['日本語のテキスト', 'हिन्दी पाठ', 'emoji 👩🏽‍🚀🙂', 'Ελληνικά', 'العربية', 'mixed ascii']) {
    const ids = tokenizer.encode(text);
    t.equal(ids.length, Buffer.byteLength(text), `${text}: one token per UTF-8 byte`);
    t.equal(tokenizer.decode(ids), text);
  }
  t.equal(tokenizer.vocabSize, 257);
  t.equal(tokenizer.eosTokenId, 256);
  t.equal(tokenizer.tokenToId('<|endoftext|>'), 256);
  t.equal(tokenizer.decode([104, 256, 105]), 'hi', 'special tokens are skipped');
  t.equal(tokenizer.decode([]), '');
  t.ok(tokenizer.sameVocabulary(await TextTokenizer.load(GPT2_VERIFIER)));
});

t.test('deltas never split a character and add up to the text', async (t) => {
  for (const text of ['日本語のテキストです。', 'नमस्ते दुनिया', '🙂🚀👩🏽‍🚀 ok', 'Grüße, Ελλάδα, Москва', '漢字とかな混じり文😀']) {
    const detok = new IncrementalDetokenizer(decode);
    const deltas: string[] = [];
    let held = 0;
    for (const id of tokenizer.encode(text)) {
      const delta = detok.push(id);
      if (delta === '') held++;
      else deltas.push(delta);
    }
    deltas.push(detok.flush());
    t.ok(held > 0, `${text}: some tokens ended mid-character and were held (${held})`);
    t.ok(deltas.every(wellFormed), `${text}: every delta is whole characters`);
    t.equal(deltas.join(''), text);
  }
});

t.test('each character is emitted as soon as its last byte arrives', async (t) => {
  const detok = new IncrementalDetokenizer(decode);
  const bytes = [...Buffer.from('aé日😀')];
  const out = bytes.map((b) => detok.push(b));
  t.same(out, ['a', '', 'é', '', '', '日', '', '', '', '😀']);
});

t.test('invalid bytes are emitted as U+FFFD once text follows; a cut character is dropped at the end', async (t) => {
  const detok = new IncrementalDetokenizer(decode);
  t.equal(detok.push(0x80), '', 'a lone continuation byte is held while it may be incomplete');
  t.equal(detok.push(0x41), '\uFFFDA');
  t.equal(detok.push(0xe6), '');
  t.equal(detok.push(0x97), '');
  t.equal(detok.flush(), '', 'two bytes of a three-byte character: dropped');

  const d2 = new IncrementalDetokenizer(decode);
  d2.push(0xff);
  d2.push(0xff);
  t.equal(d2.flush(), '\uFFFD', 'invalid bytes stay visible; only the incomplete tail is dropped');
});

t.test('the prompt\'s last tokens as context keep a SentencePiece first word\'s space', async (t) => {
  const metaspace = await TextTokenizer.load(join(LLAMA_SP_PACK, 'verifier'));
  const spDecode = (ids: readonly number[]) => metaspace.decode(ids);
  const prompt = metaspace.encode('Hello,');
  const completion = metaspace.encode('Hello, world and more').slice(prompt.length);
  t.match(metaspace.decode(completion.slice(0, 1)), /^w/, 'decoded alone, the first word loses its space');
  const streamed = (context: readonly number[]) => {
    const detok = new IncrementalDetokenizer(spDecode, context);
    return completion.map((id) => detok.push(id)).join('') + detok.flush();
  };
  t.equal(streamed(prompt.slice(-5)), ' world and more');
  t.equal(streamed([]), 'world and more', 'without context');
  t.equal(new IncrementalDetokenizer(spDecode, prompt).flush(), '', 'the context itself is never emitted');

  const byteLevel = new IncrementalDetokenizer(decode, tokenizer.encode('日本'));
  t.same([...Buffer.from('語')].map((b) => byteLevel.push(b)), ['', '', '語'], 'byte-level text is unchanged by a context');
});
