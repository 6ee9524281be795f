/**
 * Stream framing for syslog over TCP (RFC 6587): octet counting (`LEN SP MSG`) or LF-terminated
 * frames, chosen per frame by the first byte as rsyslog and Vector do (1-9 → octet counting).
 * A pure incremental state machine: push bytes, get frames and typed errors. Every error path
 * advances past the bad bytes, so a hostile stream can never make it spin or grow without bound.
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

type State =
  | { mode: "start" }
  | { mode: "octets"; remaining: number }
  | { mode: "discard_octets"; remaining: number }
  | { mode: "discard_line" };

export class SyslogFramer {
  private buffered: Buffer = Buffer.alloc(0);
  private state: State = { mode: "start" };

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
   * omit the last LF); an octet-counted frame cut short is reported, not delivered half.
   */
  end(): FramingResult {
    const result: FramingResult = { frames: [], errors: [] };
    if (this.state.mode === "start" && this.buffered.length > 0) result.frames.push(this.buffered);
    else if (this.state.mode === "octets") result.errors.push("truncated_frame");
    this.buffered = Buffer.alloc(0);
    this.state = { mode: "start" };
    return result;
  }

  /** Consumes from `data[offset]`; returns how many bytes, or 0 when it needs more input. */
  private step(data: Buffer, offset: number, result: FramingResult): number {
    const available = data.length - offset;
    switch (this.state.mode) {
      case "octets": {
        if (available < this.state.remaining) return 0;
        result.frames.push(data.subarray(offset, offset + this.state.remaining));
        const consumed = this.state.remaining;
        this.state = { mode: "start" };
        return consumed;
      }
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
        return header;
      }
      if (byte < 0x30 || byte > 0x39) break;
      length = length * 10 + (byte - 0x30);
      i++;
    }
    if (i === data.length && i - offset < MAX_LENGTH_DIGITS) return 0;
    // Not `LEN SP`: the sender is not speaking octet counting here. Drop up to the next LF to resync.
    result.errors.push("bad_octet_count");
    this.state = { mode: "discard_line" };
    return i - offset;
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
    this.state = { mode: "discard_line" };
    return this.options.maxFrameBytes;
  }
}
