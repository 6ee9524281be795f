/**
 * Collects items for a short wait (or until a batch is full) and hands each batch to one flush at
 * a time, in arrival order. The alerter uses it so an attack wave, say a password spray from fifty
 * addresses, reaches Slack as one grouped message rather than fifty, within Slack's rate limit.
 */
export class Batcher<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly waitMs: number,
    private readonly maxItems: number,
    private readonly flush: (items: T[]) => Promise<void>,
    /** A failed flush must not stop the ones after it. */
    private readonly onError: (error: unknown) => void,
  ) {}

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.maxItems) this.release();
    else this.timer ??= setTimeout(() => this.release(), this.waitMs);
  }

  /** Flushes what is collected now and resolves once every flush so far has finished. */
  async drain(): Promise<void> {
    this.release();
    await this.flushing;
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.flushing = this.flushing.then(() => this.flush(batch)).catch(this.onError);
  }
}
