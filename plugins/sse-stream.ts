// A server-sent event stream that respects backpressure. Each event is written to the body
// stream Fastify pipes to the socket; when the client falls behind (the buffers are full), send()
// returns a promise that holds the generation until the client has read ('drain'). A client that
// reads nothing for stallMs is ended: the body is destroyed, which closes the response, and the
// request's generation is aborted like any other client that left (issue 16).

import { PassThrough } from 'node:stream';

export class SseStream {
  readonly body = new PassThrough();
  #stalled = false;

  constructor(readonly stallMs: number) {}

  /** True once the client was ended for not reading. */
  get stalled(): boolean {
    return this.#stalled;
  }

  /** Sends one `data:` event; a promise when the client is behind (see above). Nothing after end. */
  send(data: object | '[DONE]'): Promise<void> | undefined {
    const out = this.body;
    if (out.destroyed || out.writableEnded) return undefined;
    if (out.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)) return undefined;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#stalled = true;
        out.destroy(); // 'close' follows, and with it done()
      }, this.stallMs);
      timer.unref();
      out.once('drain', done);
      out.once('close', done);
    });
  }

  end(): void {
    if (!this.body.destroyed && !this.body.writableEnded) this.body.end();
  }
}
