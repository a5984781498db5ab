// Each contender of the peer bench in a process of its own, as a user runs it: transformers.js in
// its script, fairspec's server in its process with its node options. In one shared process every
// arm's calls also pay for the garbage the arm before it left (each decoding step of any arm hands
// V8 megabytes of key/value tensors, and which call the collector stops depends on the order of
// the arms); bench/README.md, "Layouts", has what each layout measured.
//
// The bench process forks itself once per host (`--host NAME`, the same options); a host loads
// its arms, says `ready`, and runs one call at a time when asked, returning the outcome with the
// time it spent inside onnxruntime and collecting garbage. Calls stay strictly sequential: the
// parent waits for each reply before the next call, so only one process computes at a time.

import { fork, type ChildProcess } from 'node:child_process';

export interface HostCounters {
  ortMs: number;
  ortPasses: number;
  gcMs: number;
}

/** Parent -> host. `key` names one of the host's generators. */
export type HostRequest =
  | { type: 'call'; id: number; key: string; req: unknown }
  | { type: 'counters'; id: number }
  | { type: 'close'; id: number };

/** Host -> parent. */
export type HostReply =
  | { type: 'ready'; info: Record<string, unknown> }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string }
  | { type: 'failed'; message: string };

/** The parent's handle on one host process. */
export class HostProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #exited: Error | null = null;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    child.on('message', (m: HostReply) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const job = this.#pending.get(m.id);
      if (!job) return;
      this.#pending.delete(m.id);
      if (m.type === 'result') job.resolve(m.value);
      else job.reject(new Error(m.message));
    });
    child.on('exit', (code, signal) => {
      this.#exited = new Error(`bench host ${name} exited (${signal ?? `code ${code}`})`);
      for (const job of this.#pending.values()) job.reject(this.#exited);
      this.#pending.clear();
    });
  }

  /** Forks `script` with `args` and `--host name` (and node options `nodeFlags`); resolves with the host's ready info. */
  static start(name: string, script: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<{ host: HostProcess; info: Record<string, unknown> }> {
    // The parent's execArgv carries tsx's loader, so the host runs the same TypeScript.
    const execArgv = [...process.execArgv, ...nodeFlags.filter((f) => !process.execArgv.includes(f))];
    const child = fork(script, [...args, '--host', name], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const onMessage = (m: HostReply): void => {
        if (m.type === 'ready') {
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve({ host: new HostProcess(name, child), info: m.info });
        } else if (m.type === 'failed') {
          reject(new Error(`bench host ${name}: ${m.message}`));
        }
      };
      const onExit = (code: number | null): void => reject(new Error(`bench host ${name} exited before it was ready (code ${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  call<T>(key: string, req: unknown): Promise<T> {
    return this.#ask({ type: 'call', id: this.#nextId++, key, req }) as Promise<T>;
  }

  /** The host's onnxruntime and garbage-collection totals so far. */
  counters(): Promise<HostCounters> {
    return this.#ask({ type: 'counters', id: this.#nextId++ }) as Promise<HostCounters>;
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    await this.#ask({ type: 'close', id: this.#nextId++ }).catch(() => undefined);
    await exited;
  }

  #ask(message: HostRequest): Promise<unknown> {
    if (this.#exited) return Promise.reject(this.#exited);
    return new Promise((resolve, reject) => {
      this.#pending.set(message.id, { resolve, reject });
      this.#child.send(message);
    });
  }
}

/**
 * The host side: answers the parent's requests with `generators` until told to close. `counters`
 * reads the host's running totals; `close` runs `closers` and exits.
 */
export function serveHost(
  info: Record<string, unknown>,
  generators: ReadonlyMap<string, (req: never) => Promise<unknown>>,
  counters: () => Promise<HostCounters>,
  closers: readonly (() => Promise<void>)[],
): void {
  const send = (m: HostReply): void => {
    process.send!(m);
  };
  process.on('message', (m: HostRequest) => {
    void (async () => {
      try {
        if (m.type === 'call') {
          const generate = generators.get(m.key);
          if (!generate) throw new Error(`no generator ${m.key}`);
          send({ type: 'result', id: m.id, value: await generate(m.req as never) });
        } else if (m.type === 'counters') {
          send({ type: 'result', id: m.id, value: await counters() });
        } else {
          for (const close of [...closers].reverse()) await close().catch(() => undefined);
          send({ type: 'result', id: m.id, value: null });
          process.disconnect();
        }
      } catch (err) {
        send({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  send({ type: 'ready', info });
}

/** A host that could not load its arms tells the parent why, then exits. */
export function failHost(err: unknown): void {
  process.send!({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies HostReply);
  process.disconnect();
}
