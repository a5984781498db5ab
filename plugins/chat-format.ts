// OpenAI's chat completions wire format on both sides of CompletionService: messages rendered with
// the chat template into one prompt (detected on the user's messages), and the service's results
// to a chat.completion or to chat.completion.chunk events.

import { randomUUID } from 'node:crypto';
import type { ChatPrompts } from '../src/chat/chat-prompts.js';
import { detectionText } from '../src/chat/chat-prompts.js';
import type { ChatMessage } from '../src/chat/chat-template.js';
import type { ChoiceResult, CompletionParams, CompletionPlan, LogprobEntry } from '../src/completion-service.js';
import { FairspecError } from '../src/errors.js';
import { summarizeRequest } from '../src/speculative-summary.js';
import type { ChatCompletionChunkBody, ChatCompletionRequestBody, ChatCompletionResponseBody, ChatMessageBody } from '../src/wire/chat.js';
import type { ChatLogprobsBody } from '../src/wire/logprobs.js';
import { sharedParams, usage } from './completions-format.js';

/** The messages with their content as one text each (text parts joined with newlines, as vLLM). */
export function toMessages(messages: readonly ChatMessageBody[]): ChatMessage[] {
  return messages.map((m) => ({
    ...(m.name !== undefined && { name: m.name }),
    role: m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((part) => part.text).join('\n'),
  }));
}

/** `maxTokens`: the server's cap, which a chat without max_completion_tokens may use up to the context. */
export function toChatParams(body: ChatCompletionRequestBody, chat: ChatPrompts, maxTokens: number): CompletionParams {
  if (body.top_logprobs != null && body.logprobs !== true) {
    throw new FairspecError('FS_INVALID_PARAM', "'top_logprobs' needs 'logprobs': true.", 'top_logprobs');
  }
  const messages = toMessages(body.messages);
  const asked = body.max_completion_tokens ?? body.max_tokens;
  return {
    ...sharedParams(body),
    prompts: [chat.render(messages, body.add_generation_prompt ?? true)],
    detectTexts: [detectionText(messages)],
    promptField: 'messages',
    addSpecialTokens: false,
    maxTokens: asked ?? maxTokens,
    ...(asked == null && { fitMaxTokens: true }),
    ...(body.logprobs === true && { logprobs: body.top_logprobs ?? 0 }),
  };
}

interface ChatMeta {
  id: string;
  created: number;
  model: string;
}

export function chatMeta(model: string): ChatMeta {
  return { id: `chatcmpl-${randomUUID().replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model };
}

export function chatLogprobs(entries: readonly LogprobEntry[]): ChatLogprobsBody {
  const bytes = (token: string) => [...Buffer.from(token, 'utf8')];
  return {
    content: entries.map((e) => ({
      token: e.token,
      logprob: e.logprob ?? 0,
      bytes: bytes(e.token),
      top_logprobs: (e.top ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: bytes(a.token) })),
    })),
  };
}

export function toChatCompletion(meta: ChatMeta, plan: CompletionPlan, results: readonly ChoiceResult[]): ChatCompletionResponseBody {
  return {
    ...meta,
    object: 'chat.completion',
    choices: results.map((r) => ({
      index: r.index,
      message: { role: 'assistant', content: r.text },
      logprobs: r.logprobs ? chatLogprobs(r.logprobs) : null,
      finish_reason: r.finishReason,
      speculative: r.speculative,
    })),
    usage: usage(plan, results),
    speculative: summarizeRequest(results.map((r) => r.speculative)),
  };
}

/** Stream chunks of one response: a choice's first delta carries its role. With include_usage every chunk carries `usage: null`. */
export function chatChunks(meta: ChatMeta, plan: CompletionPlan, includeUsage: boolean) {
  const chunk = (choices: ChatCompletionChunkBody['choices'], extra: Partial<ChatCompletionChunkBody> = {}): ChatCompletionChunkBody => ({
    ...meta,
    object: 'chat.completion.chunk',
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const started = new Set<number>();
  const role = (index: number): { role?: 'assistant' } => (started.has(index) ? {} : (started.add(index), { role: 'assistant' }));
  return {
    text: (index: number, text: string, logprobs?: readonly LogprobEntry[]) =>
      chunk([{ index, delta: { ...role(index), content: text }, logprobs: logprobs ? chatLogprobs(logprobs) : null, finish_reason: null }]),
    end: (r: ChoiceResult) => chunk([{ index: r.index, delta: role(r.index), logprobs: null, finish_reason: r.finishReason, speculative: r.speculative }]),
    usage: (results: readonly ChoiceResult[]) => chunk([], { usage: usage(plan, results), speculative: summarizeRequest(results.map((r) => r.speculative)) }),
  };
}
