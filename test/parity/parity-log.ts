/** The log both sides read in a parity test, and postwatch's events for it. */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { finished } from "node:stream/promises";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import {
  DEFAULT_START_MS,
  type LogFormat,
  type MixedLogOptions,
  writeMixedLog,
} from "../generator/mixed-log.js";

/** Big enough for every story kind to occur many times, small enough that pflogsumm prints exact counts. */
export const PARITY_LINES = 20_000;
/** Seed 003: the compromised-account scenario, with the virus and security-issue bounces. */
export const PARITY_SEED = 3;

export interface ParityLog {
  file: string;
  lines: number;
  remove(): Promise<void>;
}

export async function writeParityLog(format: LogFormat): Promise<ParityLog> {
  const dir = await mkdtemp(join(tmpdir(), "postwatch-parity-"));
  const file = join(dir, `mixed-${format}.log`);
  const options: MixedLogOptions = {
    lines: PARITY_LINES,
    seed: PARITY_SEED,
    format,
    scenario: "compromised-account",
  };
  const out = createWriteStream(file);
  await writeMixedLog(out, options);
  out.end();
  await finished(out);
  return { file, lines: options.lines, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every Postfix event postwatch reads from the file, through the path the services use. */
export async function postwatchEvents(file: string): Promise<PostfixEvent[]> {
  // BSD lines carry no year: a reference just after the generated days gives them the generator's.
  const context = { referenceTime: DEFAULT_START_MS + 7 * 86_400_000, fallbackHost: "" };
  const events: PostfixEvent[] = [];
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    const outcome = lineToEvent(line, context);
    if (outcome.type === "event") events.push(outcome.event);
  }
  return events;
}
