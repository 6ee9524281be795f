/**
 * A batch envelope, `{"batch":<version>,"<field>":[item,item,…]}`, written item by item straight
 * into UTF-8 bytes, the form NATS sends. Building the envelope as a string and encoding it costs a
 * join (a copy of every item) and a transcoding pass (another copy) per batch, on the receiver's
 * busiest thread; here each item is transcoded once, into a buffer the writer keeps for its next
 * batch, and the payload is one copy of the bytes written.
 */

/** What a new writer's buffer holds before it first grows: a typical event batch fits. */
const INITIAL_BYTES = 64 * 1024;
/** UTF-8 takes at most three bytes for each UTF-16 code unit. */
const MAX_BYTES_PER_CHAR = 3;

export class BatchWriter {
  private buffer: Buffer;
  private readonly opening: string;
  private bytes = 0;
  private itemCount = 0;
  private charCount = 0;

  /**
   * `field` and `version` are the envelope's: `events` and EVENT_BATCH_VERSION, say. `initialBytes`
   * is the buffer to start with; it doubles when an item needs more.
   */
  constructor(field: string, version: number, initialBytes = INITIAL_BYTES) {
    this.opening = `{"batch":${version},${JSON.stringify(field)}:[`;
    this.buffer = Buffer.allocUnsafe(Math.max(initialBytes, this.opening.length + 2));
    this.start();
  }

  /** Items in the batch being written. */
  get items(): number {
    return this.itemCount;
  }

  /** Characters (UTF-16 code units) of the items and their separators, for a caller's bound. */
  get chars(): number {
    return this.charCount;
  }

  /** Appends one item, already serialised as JSON. */
  append(json: string): void {
    const separator = this.itemCount > 0 ? 1 : 0;
    this.reserve(separator + json.length * MAX_BYTES_PER_CHAR + 2);
    if (separator === 1) this.buffer[this.bytes++] = 0x2c; // ,
    this.bytes += this.buffer.write(json, this.bytes);
    this.itemCount++;
    this.charCount += json.length + separator;
  }

  /** The envelope's bytes, closed; the writer starts the next batch, empty. */
  take(): Uint8Array {
    this.buffer[this.bytes++] = 0x5d; // ]
    this.buffer[this.bytes++] = 0x7d; // }
    const payload = new Uint8Array(this.bytes);
    payload.set(this.buffer.subarray(0, this.bytes));
    this.start();
    return payload;
  }

  private start(): void {
    this.bytes = this.buffer.write(this.opening, 0, "latin1");
    this.itemCount = 0;
    this.charCount = 0;
  }

  /** Room for `more` bytes, and the two that close the envelope, by doubling. */
  private reserve(more: number): void {
    const needed = this.bytes + more;
    if (needed <= this.buffer.length) return;
    let length = this.buffer.length * 2;
    while (length < needed) length *= 2;
    const grown = Buffer.allocUnsafe(length);
    this.buffer.copy(grown, 0, 0, this.bytes);
    this.buffer = grown;
  }
}

/**
 * A whole batch's payload from items already serialised, in a writer used once and sized for them
 * (a fact batch of a few items must not cost a 64 KiB buffer), so that it never grows.
 */
export function encodeBatch(field: string, version: number, serialisedItems: readonly string[]): Uint8Array {
  // The envelope's own characters (at most 16 and the field's name), a separator per item, the items.
  let chars = 16 + field.length + serialisedItems.length;
  for (const item of serialisedItems) chars += item.length;
  const writer = new BatchWriter(field, version, chars * MAX_BYTES_PER_CHAR);
  for (const item of serialisedItems) writer.append(item);
  return writer.take();
}
