/** Reading mail logs for the offline commands: files or `-` (stdin), line by line, parsed. */
import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { type LineOutcome, lineToEvent } from "../../../shared/src/pipeline/lines.js";
import { ParserCache } from "../../../shared/src/pipeline/parser-cache.js";
import type { ZoneOffset } from "../../../shared/src/syslog/time.js";

export interface InputStats {
  lines: number;
  events: number;
  notPostfix: number;
  badHeader: number;
  empty: number;
  byKind: Record<string, number>;
}

export const newInputStats = (): InputStats => ({
  lines: 0,
  events: 0,
  notPostfix: 0,
  badHeader: 0,
  empty: 0,
  byKind: {},
});

/** Read size for files: fewer, larger chunks cost less per line than the 64 KiB default. */
const FILE_CHUNK_BYTES = 1 << 20;
const LF = 10;
const CR = 13;

/**
 * Calls `onLine` for every line of `input`, split where readline splits (`\n`, `\r\n`, a lone `\r`),
 * line ends removed, UTF-8 decoded. Synchronous per line and asynchronous only per chunk, which
 * costs a fraction of an async iterator's per-line promise. Each line is decoded on its own, so the
 * substrings parsers cut from it keep only that line alive, never the whole read chunk.
 */
export async function forEachLine(input: Readable, onLine: (line: string) => void): Promise<void> {
  let carry: Buffer | undefined;
  for await (const data of input) {
    const chunk: Buffer = typeof data === "string" ? Buffer.from(data) : (data as Buffer);
    const bytes = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    const end = bytes.lastIndexOf(LF);
    if (end === -1) {
      carry = bytes;
      continue;
    }
    splitLines(bytes, end, onLine);
    carry = end + 1 < bytes.length ? bytes.subarray(end + 1) : undefined;
  }
  if (carry !== undefined && carry.length > 0) splitLines(carry, carry.length, onLine);
}

/**
 * Buffer's own UTF-8 decoder (what `toString("utf8", start, end)` calls once it has checked its
 * arguments): called per line, the checks were a fifth of the cost of reading.
 */
type Utf8Slice = (this: Buffer, start: number, end: number) => string;
const utf8Slice: Utf8Slice =
  (Buffer.prototype as unknown as { utf8Slice?: Utf8Slice }).utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString("utf8", start, end);
  };

/** Emits the lines of `bytes[0, end)`; `bytes[end]` is a line feed, or `end` is the input's end. */
function splitLines(bytes: Buffer, end: number, onLine: (line: string) => void): void {
  const firstCr = bytes.indexOf(CR);
  const hasCr = firstCr !== -1 && firstCr < end;
  for (let start = 0; ; ) {
    const lf = bytes.indexOf(LF, start);
    const stop = lf === -1 || lf > end ? end : lf;
    if (hasCr) splitAtCarriageReturns(utf8Slice.call(bytes, start, stop), onLine);
    else onLine(utf8Slice.call(bytes, start, stop));
    if (stop >= end) return;
    start = stop + 1;
  }
}

/** `a\r` → `a`; `a\rb` → `a`, `b`: the rare line with carriage returns, as readline splits it. */
function splitAtCarriageReturns(line: string, onLine: (line: string) => void): void {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  for (const part of text.split("\r")) onLine(part);
}

/** A log file, or stdin for `-`, read in large chunks. */
export function openLog(path: string): Readable {
  return path === "-" ? process.stdin : createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES });
}

/**
 * Calls `onEvent` with every Postfix event of the inputs in order (with `Date.parse(event.ts)` and
 * the line it came from), counting what is not one. BSD
 * timestamps get their year from the file's modification time (stdin: now), as logrotate leaves it.
 */
export async function forEachEvent(
  paths: readonly string[],
  stats: InputStats,
  onEvent: (event: PostfixEvent, atMs: number, line: string) => void,
  zoneOffset?: ZoneOffset,
): Promise<void> {
  const cache = new ParserCache();
  for (const path of paths.length === 0 ? ["-"] : paths) {
    const referenceTime = path === "-" ? Date.now() : statSync(path).mtimeMs;
    const stream = openLog(path);
    const context = { referenceTime, zoneOffset, fallbackHost: "", cache };
    // Counted in a Map (a string-keyed object is a slow dictionary), copied into byKind at the end.
    const byKind = new Map<string, number>();
    await forEachLine(stream, (line) => {
      stats.lines++;
      const outcome: LineOutcome = lineToEvent(line, context);
      switch (outcome.type) {
        case "event": {
          stats.events++;
          const { event } = outcome;
          byKind.set(event.kind, (byKind.get(event.kind) ?? 0) + 1);
          onEvent(event, outcome.atMs, line);
          break;
        }
        case "not_postfix":
          stats.notPostfix++;
          break;
        case "bad_header":
          stats.badHeader++;
          break;
        case "empty":
          stats.empty++;
          break;
      }
    });
    for (const [kind, count] of byKind) stats.byKind[kind] = (stats.byKind[kind] ?? 0) + count;
  }
}
