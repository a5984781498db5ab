// What a failed drafter load may tell the admin client. The engine's messages (src/engine/
// model-config.ts, causal-lm.ts, tokenizer.ts, model-pack.ts) are written for the operator's log:
// they name files by absolute path, and the errors they wrap (fs, JSON.parse, onnxruntime, the
// tokenizer library) can quote what the files hold: a JSON syntax error shows the text around it,
// a bad config field its value. Here the message is rewritten at the admin boundary: file names
// relative to the model folder, a wrapped error reduced to its errno code or "not valid JSON",
// quoted config values dropped, any other absolute path hidden, and the whole cut short. The full
// error stays with the caller for the server log.

/** Longest message a failed load gives the client. */
const MAX_CHARS = 1000;
const MAX_QUOTED_CHARS = 64;

/** What a wrapped low-level error may say of itself: its errno code, or that JSON did not parse. */
function summary(cause: unknown): string | null {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  if (cause instanceof SyntaxError) return 'not valid JSON';
  return null;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `err`'s message as a client may read it. `folders`: the model folder's absolute paths (as given
 * and with symbolic links resolved); `modelId`: the id the engine prefixes its messages with.
 */
export function loadErrorMessage(err: Error, folders: readonly string[], modelId: string): string {
  let message = err.message;
  const cause = err.cause;
  const causeText = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
  // The engine appends a wrapped error's message to its own: keep what comes before it.
  if (causeText !== '' && message.includes(causeText)) {
    const head = message.slice(0, message.lastIndexOf(causeText)).replace(/:\s*$/, '');
    const said = summary(cause);
    message = said === null || head.includes(said) ? head : `${head}: ${said}`;
  }
  // model-config.ts ends a bad field's message with the value read from the file.
  message = message.replace(/, got [\s\S]*$/, '');
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) {
    message = message.replace(new RegExp(`${escape(folder)}/`, 'g'), '').replace(new RegExp(escape(folder), 'g'), 'the folder');
  }
  if (message.startsWith(`${modelId}: `)) message = message.slice(modelId.length + 2);
  message = message
    .replace(/(^|[\s'"`(=[])\/[^\s'"`)\],;]*/g, '$1<path>')
    .replace(/"([^"]*)"/g, (quoted, inner: string) => (inner.length > MAX_QUOTED_CHARS ? `"${inner.slice(0, MAX_QUOTED_CHARS - 1)}…"` : quoted));
  return message.length > MAX_CHARS ? `${message.slice(0, MAX_CHARS - 1)}…` : message;
}
