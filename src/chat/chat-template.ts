// A model's chat template: the Jinja program in tokenizer_config.json's `chat_template` that turns
// a list of messages into the prompt the model was trained on (the Hugging Face convention),
// run by @huggingface/jinja as transformers.js runs it. The template sees `messages`,
// `add_generation_prompt`, the tokenizer's special tokens (`bos_token`, `eos_token`, ...) and
// `raise_exception`, with which templates refuse conversations they do not support.

import { Template } from '@huggingface/jinja';
import { FairspecError } from '../errors.js';

export interface ChatMessage {
  role: string;
  content: string;
}

/** Parses a template's source; throws the parser's error. */
export function parseChatTemplate(source: string): Template {
  return new Template(source);
}

/**
 * The template of a tokenizer_config.json: `chat_template` as a string, or as a list of named
 * templates (then the one named 'default'); null when it has none.
 */
export function tokenizerChatTemplate(config: Readonly<Record<string, unknown>>): string | null {
  const value = config['chat_template'];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((t): t is { name: string; template: string } => t?.name === 'default' && typeof t?.template === 'string');
    return named?.template ?? null;
  }
  return null;
}

/** The special tokens of a tokenizer_config.json as the template variables it names (bos_token: '<s>', ...). */
export function specialTokenVariables(config: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.endsWith('_token')) continue;
    const content = typeof value === 'string' ? value : (value as { content?: unknown } | null)?.content;
    if (typeof content === 'string') out[key] = content;
  }
  return out;
}

export class ChatTemplate {
  readonly #template: Template;

  constructor(
    source: string,
    readonly variables: Readonly<Record<string, string>> = {},
  ) {
    this.#template = parseChatTemplate(source);
  }

  /** The prompt of `messages`; FS_CHAT_TEMPLATE_FAILED when the template refuses them or fails. */
  render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      return this.#template.render({ ...this.variables, messages, add_generation_prompt: addGenerationPrompt });
    } catch (err) {
      throw new FairspecError('FS_CHAT_TEMPLATE_FAILED', `The chat template cannot render these messages: ${(err as Error).message}`, 'messages');
    }
  }
}
