/**
 * Micro-batching: requests that arrive while a batch is committing wait and go together in the
 * next transaction, so one fsync covers many gifts. Under light load a batch is one gift and adds
 * no delay; under heavy load batches grow up to `max`.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: { max: number; concurrency: number; onBatch?: (size: number, ms: number) => void },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Resolves when nothing is queued or committing. */
  async drained(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private pump() {
    while (this.inFlight < this.opts.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.max);
      this.inFlight++;
      const started = performance.now();
      this.run(batch.map((b) => b.item))
        .then(
          (outs) => {
            for (const [i, b] of batch.entries()) b.resolve(outs[i] as O);
            this.opts.onBatch?.(batch.length, performance.now() - started);
          },
          (err) => {
            for (const b of batch) b.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0) for (const r of this.idle.splice(0)) r();
        });
    }
  }
}
