/** Reading mail logs for the offline commands: files or `-` (stdin), line by line, parsed. */
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { type LineOutcome, lineToEvent } from "../../../shared/src/pipeline/lines.js";
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

export interface ParsedLine {
  line: string;
  event: PostfixEvent;
}

/**
 * Yields every Postfix event of the inputs in order, counting what is not one. BSD timestamps
 * get their year from the file's modification time (stdin: now), as logrotate leaves it.
 */
export async function* readEvents(
  paths: readonly string[],
  stats: InputStats,
  zoneOffset?: ZoneOffset,
): AsyncGenerator<ParsedLine> {
  for (const path of paths.length === 0 ? ["-"] : paths) {
    const referenceTime = path === "-" ? Date.now() : statSync(path).mtimeMs;
    const stream = path === "-" ? process.stdin : createReadStream(path);
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      stats.lines++;
      const outcome: LineOutcome = lineToEvent(line, { referenceTime, zoneOffset, fallbackHost: "" });
      switch (outcome.type) {
        case "event":
          stats.events++;
          stats.byKind[outcome.event.kind] = (stats.byKind[outcome.event.kind] ?? 0) + 1;
          yield { line, event: outcome.event };
          break;
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
    }
  }
}
