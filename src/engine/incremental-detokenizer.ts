// Streams text token by token without ever splitting a character.
//
// A byte-level token can end in the middle of a multi-byte UTF-8 character (and a SentencePiece
// token's leading space depends on its left neighbour), so a token cannot be decoded on its own.
// This keeps two offsets into the token ids, as Hugging Face text-generation-inference and vLLM
// do: text is decoded over the window [prefixOffset, end) and only the part past the already
// emitted window [prefixOffset, readOffset) is emitted, and only once it no longer ends in
// U+FFFD, the replacement character TextDecoder produces for an incomplete byte sequence.
//
// The window starts over the prompt's last tokens (`context`), as vLLM's detokenizer does: a
// SentencePiece-style decoder (Metaspace, or Replace + Strip) drops the leading space of the first
// token it decodes, so the completion's first word would lose its space if decoded on its own.

const REPLACEMENT = '\uFFFD';

export class IncrementalDetokenizer {
  readonly #decode: (ids: readonly number[]) => string;
  readonly #ids: number[] = [];
  #prefixOffset = 0;
  #readOffset = 0;

  /** `context`: the tokens before the first one pushed (the prompt's last few); never emitted. */
  constructor(decode: (ids: readonly number[]) => string, context: readonly number[] = []) {
    this.#decode = decode;
    this.#ids.push(...context);
    this.#readOffset = context.length;
  }

  /** Adds one token; returns the newly completed text ('' while a character is incomplete). */
  push(tokenId: number): string {
    this.#ids.push(tokenId);
    const prefixText = this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset));
    const newText = this.#decode(this.#ids.slice(this.#prefixOffset));
    if (newText.length <= prefixText.length || newText.endsWith(REPLACEMENT)) return '';
    this.#prefixOffset = this.#readOffset;
    this.#readOffset = this.#ids.length;
    return newText.slice(prefixText.length);
  }

  /**
   * Text still held back at the end of generation. A trailing incomplete character (the output was
   * cut mid-character) is dropped rather than emitted as U+FFFD: it carries no text. TextDecoder
   * turns an incomplete final sequence into exactly one U+FFFD, so at most one is dropped; earlier
   * ones stand for invalid bytes the model did produce.
   */
  flush(): string {
    const prefixText = this.#decode(this.#ids.slice(this.#prefixOffset, this.#readOffset));
    const newText = this.#decode(this.#ids.slice(this.#prefixOffset));
    this.#prefixOffset = this.#readOffset = this.#ids.length;
    const end = newText.endsWith(REPLACEMENT) ? newText.length - 1 : newText.length;
    return newText.slice(prefixText.length, Math.max(end, prefixText.length));
  }
}
