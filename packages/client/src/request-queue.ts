import { CrowncastError } from './errors.js';

export interface Queued<M> {
  message: M;
  resolve(reply: unknown): void;
  reject(err: Error): void;
}

/**
 * Requests made while the socket is down wait here and go out after the reconnect, oldest first.
 * Bounded: when full the oldest is refused (`QUEUE_FULL`), since the newest intent matters most.
 */
export class RequestQueue<M> {
  private items: Queued<M>[] = [];

  constructor(private readonly max: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: Queued<M>): void {
    if (this.max <= 0) {
      item.reject(new CrowncastError('QUEUE_FULL', 'requests cannot wait: the queue is disabled'));
      return;
    }
    if (this.items.length >= this.max) {
      this.items.shift()?.reject(new CrowncastError('QUEUE_FULL', 'dropped: too many requests waiting'));
    }
    this.items.push(item);
  }

  drain(): Queued<M>[] {
    const out = this.items;
    this.items = [];
    return out;
  }
}
