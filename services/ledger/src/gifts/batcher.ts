/**
 * Micro-batching: requests that arrive while a batch is committing wait and go together in the
 * next transaction, so one fsync covers many gifts. Under light load a batch is one gift and adds
 * no delay; under heavy load batches grow up to `max`.
 *
 * Batches in flight at the same time never share a key (an account): a batch that would wait on
 * another's row locks gains nothing from starting early, and taking its requests into the next
 * batch instead makes that batch larger. A hot club therefore commits as one large batch after
 * another, while gifts spread over many clubs commit in parallel batches.
 */
export interface BatcherOptions<I> {
  max: number;
  concurrency: number;
  /** What an item locks; items whose keys are locked by a batch in flight wait for the next one. */
  keysOf?: (item: I) => string[];
  onBatch?: (size: number, ms: number) => void;
}

interface Pending<I, O> {
  item: I;
  keys: string[];
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private readonly busy = new Map<string, number>();
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: BatcherOptions<I>,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, keys: this.opts.keysOf?.(item) ?? [], resolve, reject });
      this.pump();
    });
  }

  /** Resolves when nothing is queued or committing. */
  async drained(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  /** Takes, in arrival order, up to `max` queued items that touch no key a batch in flight holds. */
  private take(): Pending<I, O>[] {
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    for (const p of this.queue) {
      if (batch.length < this.opts.max && !p.keys.some((k) => this.busy.has(k))) batch.push(p);
      else rest.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private hold(batch: Pending<I, O>[], delta: 1 | -1) {
    for (const p of batch) {
      for (const k of p.keys) {
        const n = (this.busy.get(k) ?? 0) + delta;
        if (n > 0) this.busy.set(k, n);
        else this.busy.delete(k);
      }
    }
  }

  private pump() {
    while (this.inFlight < this.opts.concurrency && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.inFlight++;
      this.hold(batch, 1);
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
          this.hold(batch, -1);
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0) for (const r of this.idle.splice(0)) r();
        });
    }
  }
}
