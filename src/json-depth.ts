// How deeply a JSON text nests, found by a scan of its characters before anything parses it.
// JSON.parse itself copes with any depth, but every recursive walk over the result afterwards
// (schema validators, error renderers, JSON.stringify of a value in a message) overflows the
// stack on a few thousand levels; a body nested past any legitimate request's depth is refused
// before it is parsed.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * true when `text` opens more than `max` objects or arrays inside one another (brackets inside
 * strings do not count). Malformed text is not judged here: the parser rejects it next.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
