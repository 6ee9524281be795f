/**
 * Lines scheduled by the stories in flight, earliest first. Stories write their lines ahead of time
 * (a deferred retry minutes later); the heap interleaves them the way concurrent Postfix processes do,
 * and holds only the stories in flight, never the whole log.
 */
export interface ScheduledLine {
  /** Microseconds since the epoch. */
  atUs: number;
  /** Tie-break: lines written at the same microsecond keep the order they were written in. */
  seq: number;
  /** The mail server that logs it (syslog's host field). */
  host: string;
  /** Syslog tag with pid, e.g. `postfix/smtpd[1234]`. */
  tag: string;
  message: string;
}

export class LineHeap {
  readonly #items: ScheduledLine[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): ScheduledLine | undefined {
    return this.#items[0];
  }

  push(line: ScheduledLine): void {
    const items = this.#items;
    items.push(line);
    let child = items.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!earlier(items[child] as ScheduledLine, items[parent] as ScheduledLine)) break;
      [items[child], items[parent]] = [items[parent] as ScheduledLine, items[child] as ScheduledLine];
      child = parent;
    }
  }

  pop(): ScheduledLine | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < items.length && earlier(items[left] as ScheduledLine, items[smallest] as ScheduledLine))
        smallest = left;
      if (right < items.length && earlier(items[right] as ScheduledLine, items[smallest] as ScheduledLine))
        smallest = right;
      if (smallest === parent) return top;
      [items[parent], items[smallest]] = [items[smallest] as ScheduledLine, items[parent] as ScheduledLine];
      parent = smallest;
    }
  }
}

function earlier(a: ScheduledLine, b: ScheduledLine): boolean {
  return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
}
