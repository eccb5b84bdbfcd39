/** A counting semaphore: at most `limit` holders at once, the others wait in order. */
export class Semaphore {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  get current(): number { return this.holders; }

  /** Waits for a free slot; resolves with the function that gives it back (later calls do nothing). */
  async acquire(): Promise<() => void> {
    if (this.holders >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.holders--;
    };
  }

  async with<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try { return await work(); } finally { release(); }
  }
}
