// Tokenisation off the event loop. Encoding is synchronous JavaScript and grows with the prompt
// (the default pack's tokenizer took 2.4 s for a 1 MiB prompt on the project machine): on the
// server's own thread a few long prompts at once would stall every other request, /healthz
// included (issue 16). A worker thread holds its own copy of the tokenizer and encodes one text
// at a time, in order; a job whose signal fired before its turn is dropped unrun.
//
// The worker is started on the first encode() and unref'd, so an engine that is never closed
// does not keep the process alive. If it dies, the jobs in flight reject and the next encode()
// starts a new one.

import { Worker } from 'node:worker_threads';

// Plain JavaScript (an eval worker): it runs the same under tsx and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.module).then(({ Tokenizer }) => {
  const tokenizer = new Tokenizer(workerData.json, workerData.config);
  parentPort.on('message', ({ id, text, addSpecialTokens }) => {
    try {
      const ids = Uint32Array.from(tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids);
      parentPort.postMessage({ id, ids }, [ids.buffer]);
    } catch (err) {
      parentPort.postMessage({ id, error: String(err && err.message || err) });
    }
  });
  parentPort.postMessage({ ready: true });
});
`;

interface Job {
  resolve: (ids: number[]) => void;
  reject: (err: Error) => void;
}

type Reply = { ready: true } | { id: number; ids: Uint32Array } | { id: number; error: string };

export class TokenizerWorker {
  readonly #data: { module: string; json: object; config: Record<string, unknown> };
  #worker: Worker | null = null;
  #jobs = new Map<number, Job>();
  #nextId = 0;
  #closed = false;

  /** `json`, `config`: tokenizer.json and tokenizer_config.json, as TextTokenizer got them. */
  constructor(json: object, config: Record<string, unknown>) {
    this.#data = { module: import.meta.resolve('@huggingface/tokenizers'), json, config };
  }

  /** Token ids of `text` (as TextTokenizer.encode); rejects with the signal's reason if it fires first. */
  encode(text: string, signal?: AbortSignal, addSpecialTokens = true): Promise<number[]> {
    if (this.#closed) return Promise.reject(new Error('tokenizer worker: closed'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const id = this.#nextId++;
    const worker = this.#start();
    return new Promise<number[]>((resolve, reject) => {
      const onAbort = (): void => {
        // The worker may already be encoding it; its reply is then ignored.
        if (this.#jobs.delete(id)) reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      this.#jobs.set(id, {
        resolve: (ids) => (done(), resolve(ids)),
        reject: (err) => (done(), reject(err)),
      });
      worker.postMessage({ id, text, addSpecialTokens });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = null;
    this.#fail(new Error('tokenizer worker: closed'));
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.#data });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      if ('ready' in reply) return;
      const job = this.#jobs.get(reply.id);
      if (!job) return; // aborted meanwhile
      this.#jobs.delete(reply.id);
      if ('error' in reply) job.reject(new Error(`tokenizer: ${reply.error}`));
      else job.resolve(Array.from(reply.ids));
    });
    const onDeath = (err: Error): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      this.#fail(err);
    };
    worker.on('error', onDeath);
    worker.on('exit', (code) => onDeath(new Error(`tokenizer worker exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #fail(err: Error): void {
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    for (const job of jobs) job.reject(err);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
