/**
 * A deterministic, realistic Postfix mail.log: `generateMixedLog({ lines, seed })` yields exactly
 * `lines` lines, the same ones for the same options on every machine, streaming (a million lines
 * never sit in memory). CLI: `node dist/test/generator/mixed-log.js --lines N --seed S
 * [--format rfc3339|bsd] [--scenario baseline|compromised-account] [--hosts H] > mail.log`.
 *
 * Ground truth (attacker IPs, the compromised account, legitimate users) is GROUND_TRUTH.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { MAIL_HOST } from "./cast.js";
import { LineHeap } from "./line-heap.js";
import { Prng } from "./prng.js";
import { MailTraffic, type Scenario } from "./traffic.js";

export { GROUND_TRUTH } from "./cast.js";
export type { Scenario } from "./traffic.js";

export type LogFormat = "rfc3339" | "bsd";

export interface MixedLogOptions {
  lines: number;
  seed: number;
  /** rfc3339: Debian's mail.log (`2026-11-03T14:03:01.731011+00:00`); bsd: `Nov  3 14:03:01`. */
  format?: LogFormat;
  scenario?: Scenario;
  /** First story's time; 2026-11-03T00:00:00Z by default. */
  startMs?: number;
  /**
   * Mail servers logging to one syslog host: 1 (the default) is `mx1` alone; H > 1 deals the stories
   * out to `mx1` … `mxH` in turn, each story's lines on one server (its queue IDs and sessions are
   * that server's), the traffic itself the same as with one server.
   */
  hosts?: number;
}

export const DEFAULT_START_MS = Date.UTC(2026, 10, 3);
/** Mean gap between new SMTP sessions or jobs: about 1.4 lines a second, two days per million lines. */
const MEAN_STORY_GAP_US = 1_000_000;

export function* generateMixedLog(options: MixedLogOptions): Generator<string> {
  const prefix = timestampFormatter(options.format ?? "rfc3339");
  const hosts = options.hosts ?? 1;
  if (!Number.isInteger(hosts) || hosts < 1) throw new Error("hosts must be a whole number ≥ 1");
  const heap = new LineHeap();
  // A story writes all its lines while it starts, so they all go to the server it was dealt.
  let host = MAIL_HOST;
  const traffic = new MailTraffic(
    new Prng(options.seed),
    options.scenario ?? "baseline",
    (atUs, seq, tag, message) => heap.push({ atUs, seq, host, tag, message }),
  );
  let nowUs = (options.startMs ?? DEFAULT_START_MS) * 1000;
  let written = 0;
  let stories = 0;
  while (written < options.lines) {
    const next = heap.peek();
    // Every scheduled line up to `now` goes out before the next story starts, so time never runs backwards.
    if (next !== undefined && next.atUs <= nowUs) {
      heap.pop();
      written++;
      yield `${prefix(next.atUs)} ${next.host} ${next.tag}: ${next.message}`;
      continue;
    }
    if (hosts > 1) host = `mx${1 + (stories++ % hosts)}`;
    traffic.startStory(nowUs, written / options.lines);
    nowUs += Math.max(1, Math.round(traffic.rng.exponential(MEAN_STORY_GAP_US)));
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Formats microsecond times in UTC; the seconds part is cached because consecutive lines share it. */
function timestampFormatter(format: LogFormat): (atUs: number) => string {
  let cachedSecond = Number.NaN;
  let cachedText = "";
  return (atUs) => {
    const second = Math.floor(atUs / 1_000_000);
    if (second !== cachedSecond) {
      const date = new Date(second * 1000);
      cachedSecond = second;
      cachedText =
        format === "rfc3339"
          ? date.toISOString().slice(0, 19)
          : `${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, " ")} ${date.toISOString().slice(11, 19)}`;
    }
    if (format === "bsd") return cachedText;
    return `${cachedText}.${String(atUs % 1_000_000).padStart(6, "0")}+00:00`;
  };
}

/** Writes the log to `out` in large chunks, honouring back-pressure. */
export async function writeMixedLog(out: Writable, options: MixedLogOptions): Promise<void> {
  let chunk: string[] = [];
  for (const line of generateMixedLog(options)) {
    chunk.push(line);
    if (chunk.length === 4096) {
      if (!out.write(`${chunk.join("\n")}\n`)) await once(out, "drain");
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join("\n")}\n`);
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      lines: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      format: { type: "string", default: "rfc3339" },
      scenario: { type: "string", default: "baseline" },
      hosts: { type: "string", default: "1" },
    },
  });
  const lines = Number(values.lines);
  const seed = Number(values.seed);
  const hosts = Number(values.hosts);
  if (!Number.isInteger(lines) || lines < 0 || !Number.isInteger(seed))
    throw new Error("--lines and --seed must be whole numbers");
  if (!Number.isInteger(hosts) || hosts < 1) throw new Error("--hosts must be a whole number ≥ 1");
  if (values.format !== "rfc3339" && values.format !== "bsd")
    throw new Error("--format must be rfc3339 or bsd");
  if (values.scenario !== "baseline" && values.scenario !== "compromised-account")
    throw new Error("--scenario must be baseline or compromised-account");
  await writeMixedLog(process.stdout, {
    lines,
    seed,
    format: values.format,
    scenario: values.scenario,
    hosts,
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`mixed-log: ${error.message}\n`);
    process.exitCode = 2;
  });
}
