// A chat's prompt and the text its language is detected from. The template is FAIRSPEC_CHAT_TEMPLATE's
// when set, else the verifier's tokenizer_config.json `chat_template`; a model with neither (or
// with one @huggingface/jinja cannot parse, which is logged at boot) answers chat requests with
// FS_NO_CHAT_TEMPLATE, and its completions are served as ever.

import { FairspecError } from '../errors.js';
import { ChatTemplate, specialTokenVariables, tokenizerChatTemplate, type ChatMessage } from './chat-template.js';

export class ChatPrompts {
  readonly #template: ChatTemplate | null;
  readonly #missing: string;

  /** `override`: FAIRSPEC_CHAT_TEMPLATE's source; `tokenizerConfig`: the verifier's tokenizer_config.json. */
  constructor(override: string | null, tokenizerConfig: Readonly<Record<string, unknown>>, log?: { warn(fields: object, message: string): void }) {
    const variables = specialTokenVariables(tokenizerConfig);
    const source = override ?? tokenizerChatTemplate(tokenizerConfig);
    let template: ChatTemplate | null = null;
    let missing = "The model has no chat template (no chat_template in its tokenizer_config.json, and FAIRSPEC_CHAT_TEMPLATE is not set); use /v1/completions.";
    if (source !== null) {
      try {
        template = new ChatTemplate(source, variables);
      } catch (err) {
        missing = `The model's chat template cannot be parsed (${(err as Error).message}); set FAIRSPEC_CHAT_TEMPLATE, or use /v1/completions.`;
        log?.warn({ err }, 'the chat template of tokenizer_config.json cannot be parsed: chat completions are refused');
      }
    }
    this.#template = template;
    this.#missing = missing;
  }

  get available(): boolean {
    return this.#template !== null;
  }

  /** The prompt of `messages` (FS_NO_CHAT_TEMPLATE, FS_CHAT_TEMPLATE_FAILED). */
  render(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    if (this.#template === null) throw new FairspecError('FS_NO_CHAT_TEMPLATE', this.#missing, 'messages');
    return this.#template.render(messages, addGenerationPrompt);
  }
}

/** What a chat's language is detected from: the user's messages, else all of them (the template's markup never). */
export function detectionText(messages: readonly ChatMessage[]): string {
  const user = messages.filter((m) => m.role === 'user');
  return (user.length > 0 ? user : messages).map((m) => m.content).join('\n');
}
