/** Helpers the throughput scenarios share: the generated log, best-of-N runs, a postwatch job in its own process. */
import { createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { type MixedLogOptions, writeMixedLog } from "../test/generator/mixed-log.js";
import { runWithDeadline } from "./child-process.js";
import type { Job, Measurement } from "./measure.js";

/** Runs per tool; the fastest counts (the machine is shared, and noise only ever slows a run). */
export const RUNS = 2;
export const PEER_DEADLINE_MS = 600_000;
const MEASURE = fileURLToPath(new URL("./measure.js", import.meta.url));

export async function best<T extends { ms: number }>(run: () => Promise<T>): Promise<T> {
  let fastest = await run();
  for (let i = 1; i < RUNS; i++) {
    const next = await run();
    if (next.ms < fastest.ms) fastest = next;
  }
  return fastest;
}

export async function writeLog(file: string, options: MixedLogOptions): Promise<string> {
  const out = createWriteStream(file);
  await writeMixedLog(out, options);
  out.end();
  await finished(out);
  return file;
}

/** One postwatch job over `file` in a process of its own (bench/measure.ts): wall time from spawn to exit. */
export async function measurePostwatch(
  job: Job,
  file: string,
  lines: number,
): Promise<{ ms: number; maxRssKb: number }> {
  const run = await runWithDeadline(process.execPath, [MEASURE, job, file], { timeoutMs: PEER_DEADLINE_MS });
  const measured = JSON.parse(run.stdout) as Measurement;
  if (measured.lines !== lines) throw new Error(`postwatch ${job} read ${measured.lines} lines of ${lines}`);
  return { ms: run.wallMs, maxRssKb: measured.maxRssKb };
}
