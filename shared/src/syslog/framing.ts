/**
 * Stream framing for syslog over TCP (RFC 6587): octet counting (`LEN SP MSG`) or LF-terminated
 * frames, chosen per frame by the first byte as rsyslog and Vector do (1-9 → octet counting).
 * A pure incremental state machine: push bytes, get frames and typed errors. Every error path
 * advances past the bad bytes, so a hostile stream can never make it spin or grow without bound.
 *
 * A lying octet count (too short or too long) shows where its frame should end: what follows cannot
 * start a frame. That frame is dropped and counted, and reading resumes at the next `LEN SP <PRI`
 * whose own count ends where a frame starts (or at a `<` after an LF): one bad frame costs that
 * frame only, not the rest of the connection, which may never send the LF a line-framed resync
 * would wait for. Counts are trusted otherwise, since a frame's text is what the mail
 * server logged, SMTP clients' words included, and must never be split on what it contains.
 */

export type FramingErrorCode = "oversize_frame" | "bad_octet_count" | "truncated_frame";

export interface FramingResult {
  frames: Buffer[];
  errors: FramingErrorCode[];
}

export interface FramerOptions {
  /** Longest frame accepted; longer ones are discarded whole and counted. */
  maxFrameBytes: number;
}

const LF = 0x0a;
const SPACE = 0x20;
/** `LEN SP`: ten digits already exceed any sane maxFrameBytes. */
const MAX_LENGTH_DIGITS = 10;

const LESS_THAN = 0x3c;
/** `LEN SP <`: the most bytes a frame's start needs to be recognised. */
const MAX_HEADER_BYTES = MAX_LENGTH_DIGITS + 2;

type State =
  | { mode: "start" }
  | { mode: "octets"; remaining: number }
  | { mode: "discard_octets"; remaining: number }
  | { mode: "discard_line" }
  /** After a lying count: looking for the next frame start that checks out. */
  | { mode: "resync" };

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;

export class SyslogFramer {
  private buffered: Buffer = Buffer.alloc(0);
  private state: State = { mode: "start" };
  /** Set by the first octet-counted frame: from then on, only `LEN SP` may follow a frame. */
  private octetCounted = false;

  constructor(private readonly options: FramerOptions) {}

  push(chunk: Buffer): FramingResult {
    const result: FramingResult = { frames: [], errors: [] };
    let data = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let offset = 0;
    while (offset < data.length) {
      const consumed = this.step(data, offset, result);
      if (consumed === 0) break;
      offset += consumed;
    }
    data = data.subarray(offset);
    // Copy the tail so one small pending frame does not pin a large socket chunk in memory.
    this.buffered = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
    return result;
  }

  /** Whether a frame has begun and not ended (discarded ones included): slow senders are timed by it. */
  get inFrame(): boolean {
    return this.state.mode !== "start" || this.buffered.length > 0;
  }

  /** Bytes held for an incomplete frame; a closing connection reports them as a truncated frame. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  /**
   * At end of stream: the unterminated tail of an LF-framed stream is still a message (a sender may
   * omit the last LF); an octet-counted frame cut short is reported, not delivered half. When its
   * count lied long, what is buffered holds the frames sent after it: those that check out are read.
   */
  end(): FramingResult {
    const result: FramingResult = { frames: [], errors: [] };
    const data = this.buffered;
    if (!this.octetCounted) {
      if (this.state.mode === "start" && data.length > 0) result.frames.push(data);
      else if (this.state.mode === "octets") result.errors.push("truncated_frame");
    } else if (data.length > 0 || this.state.mode === "octets") {
      result.errors.push("truncated_frame");
      let offset = this.resync(data, 0, 1, result);
      while (offset < data.length) {
        const consumed = this.step(data, offset, result);
        if (consumed === 0) break;
        offset += consumed;
      }
    }
    this.buffered = Buffer.alloc(0);
    this.state = { mode: "start" };
    return result;
  }

  /** Consumes from `data[offset]`; returns how many bytes, or 0 when it needs more input. */
  private step(data: Buffer, offset: number, result: FramingResult): number {
    const available = data.length - offset;
    switch (this.state.mode) {
      case "octets": {
        const { remaining } = this.state;
        if (available < remaining) return 0;
        const end = offset + remaining;
        // A count ending exactly where a read ended cannot be checked: that frame is taken as counted.
        if (end < data.length && this.startsFrame(data, end) === "no") {
          result.errors.push("bad_octet_count");
          // The frame's own first byte cannot start the next one: search from the byte after it.
          return this.resync(data, offset, offset + 1, result);
        }
        result.frames.push(data.subarray(offset, end));
        this.state = { mode: "start" };
        return remaining;
      }
      case "resync":
        return this.resync(data, offset, offset, result);
      case "discard_octets": {
        const consumed = Math.min(available, this.state.remaining);
        this.state =
          this.state.remaining === consumed
            ? { mode: "start" }
            : { mode: "discard_octets", remaining: this.state.remaining - consumed };
        return consumed;
      }
      case "discard_line": {
        const lf = data.indexOf(LF, offset);
        if (lf === -1) return available;
        this.state = { mode: "start" };
        return lf - offset + 1;
      }
      case "start": {
        const first = data[offset] as number;
        if (first >= 0x31 && first <= 0x39) return this.readOctetCount(data, offset, result);
        return this.readLine(data, offset, result);
      }
    }
  }

  private readOctetCount(data: Buffer, offset: number, result: FramingResult): number {
    let length = 0;
    let i = offset;
    while (i < data.length && i - offset < MAX_LENGTH_DIGITS) {
      const byte = data[i] as number;
      if (byte === SPACE) {
        const header = i - offset + 1;
        if (length > this.options.maxFrameBytes) {
          result.errors.push("oversize_frame");
          this.state = { mode: "discard_octets", remaining: length };
        } else {
          this.state = { mode: "octets", remaining: length };
        }
        this.octetCounted = true;
        return header;
      }
      if (byte < 0x30 || byte > 0x39) break;
      length = length * 10 + (byte - 0x30);
      i++;
    }
    if (i === data.length && i - offset < MAX_LENGTH_DIGITS) return 0;
    result.errors.push("bad_octet_count");
    // Not `LEN SP`. In an octet-counted stream, find the next frame; otherwise the sender is not
    // speaking octet counting here: drop up to the next LF.
    if (this.octetCounted) return this.resync(data, offset, offset + 1, result);
    this.state = { mode: "discard_line" };
    return i - offset;
  }

  /**
   * Skips to the first frame start at or after `from` that checks out, consuming from `offset`.
   * With none in `data`, keeps only a tail that may hold the beginning of one.
   */
  private resync(data: Buffer, offset: number, from: number, result: FramingResult): number {
    for (let i = from; i < data.length; i++) {
      const found = this.startsFrame(data, i, true);
      if (found === "no") continue;
      this.state = found === "yes" ? { mode: "start" } : { mode: "resync" };
      if (i > offset) return i - offset;
      // Nothing to skip: read the frame here (or wait for the rest of its header).
      return found === "yes" ? this.readOctetCount(data, offset, result) : 0;
    }
    this.state = { mode: "resync" };
    return Math.max(0, data.length - MAX_HEADER_BYTES - offset);
  }

  /**
   * Whether `data` at `at` can start the frame after one just read: a digit, `<` or an LF. With
   * `strict`, for resync, whether it is `LEN SP <` whose count ends at the data's end, beyond it,
   * or where another frame can start, or `<` just after an LF; `more` when the data ends too soon
   * to tell.
   */
  private startsFrame(data: Buffer, at: number, strict = false): "yes" | "no" | "more" {
    // A digit is the sender's next header, even a broken one: the frame before it stands, and
    // that header is dealt with as the start of its own frame.
    if (!strict)
      return data[at] === LF || data[at] === LESS_THAN || (isDigit(data[at]) && data[at] !== 0x30)
        ? "yes"
        : "no";
    // An LF-framed line may follow as well: framing is chosen per frame.
    if (data[at] === LESS_THAN && data[at - 1] === LF) return "yes";
    if (!isDigit(data[at]) || data[at] === 0x30 || isDigit(data[at - 1])) return "no";
    let i = at;
    let length = 0;
    while (i < data.length && isDigit(data[i]) && i - at < MAX_LENGTH_DIGITS) {
      length = length * 10 + ((data[i] as number) - 0x30);
      i++;
    }
    if (i === data.length) return "more";
    if (data[i] !== SPACE || length > this.options.maxFrameBytes) return "no";
    if (i + 1 === data.length) return "more";
    if (data[i + 1] !== LESS_THAN) return "no";
    const end = i + 1 + length;
    return end >= data.length || this.startsFrame(data, end) === "yes" ? "yes" : "no";
  }

  private readLine(data: Buffer, offset: number, result: FramingResult): number {
    const limit = Math.min(data.length, offset + this.options.maxFrameBytes + 1);
    const lf = data.indexOf(LF, offset);
    if (lf !== -1 && lf < limit) {
      result.frames.push(data.subarray(offset, lf));
      return lf - offset + 1;
    }
    if (data.length - offset <= this.options.maxFrameBytes) return 0;
    result.errors.push("oversize_frame");
    // An octet-counted stream may never send an LF: look for its next frame instead.
    if (this.octetCounted) return this.resync(data, offset, offset + 1, result);
    this.state = { mode: "discard_line" };
    return this.options.maxFrameBytes;
  }
}
