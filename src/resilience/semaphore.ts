/**
 * A counting semaphore (a bulkhead): at most `limit` holders at once, the
 * others queue first come, first served. Used to cap the sends in flight.
 */
export class Semaphore {
  private held = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('semaphore limit must be at least 1');
  }

  get inUse(): number {
    return this.held;
  }

  get waiting(): number {
    return this.queue.length;
  }

  acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next waiter, so `held` stays the same.
    if (next) next();
    else this.held = Math.max(0, this.held - 1);
  }
}
