/**
 * Scenario: postwatch's parse + correlate + detect over a 1,000,000-line generated mail.log, beside
 * fail2ban-regex (postfix-sasl filter), pflogsumm and `grep -c postfix/` on the same file in the
 * same run. The machine is shared, so the ratios within one run are the claim, not the absolute
 * numbers. Peak RSS on a 250,000-line prefix beside the 1,000,000-line file shows whether memory
 * grows with the file.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { type MixedLogOptions, writeMixedLog } from "../test/generator/mixed-log.js";
import { runFail2banSasl, runPflogsumm } from "../test/parity/peers.js";
import { runWithDeadline } from "./child-process.js";
import { megabytes, perSecond, type ScenarioResult, seconds } from "./report.js";

const FULL_LINES = 1_000_000;
const SMALL_LINES = 250_000;
/** fail2ban-regex gets this long on the full file before it is measured on a prefix instead. */
const FAIL2BAN_FULL_FILE_MS = 180_000;
const FAIL2BAN_PREFIX_LINES = 100_000;
const PEER_DEADLINE_MS = 600_000;
const MEASURE_REPLAY = fileURLToPath(new URL("./measure-replay.js", import.meta.url));

interface Timed {
  tool: string;
  lines: number;
  ms: number;
  maxRssKb?: number;
}

export async function parseCorrelateScenario(): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(tmpdir(), "postwatch-bench-"));
  try {
    // Baseline traffic: the 250k and 100k files are exact prefixes of the 1M file (same seed).
    const logOf = (lines: number) =>
      writeLog(join(dir, `mail-${lines}.log`), { lines, seed: 1, format: "rfc3339" });
    const full = await logOf(FULL_LINES);
    const notes: string[] = [];
    const postwatch = await measurePostwatch(full, FULL_LINES);
    const postwatchSmall = await measurePostwatch(await logOf(SMALL_LINES), SMALL_LINES);
    const fail2ban = await measureFail2ban(full, () => logOf(FAIL2BAN_PREFIX_LINES), notes);
    const pflogsumm = await runPflogsumm(full, PEER_DEADLINE_MS);
    const grep = await runWithDeadline("grep", ["-c", "postfix/", full], { timeoutMs: PEER_DEADLINE_MS });
    const timings: Timed[] = [
      postwatch,
      postwatchSmall,
      fail2ban,
      { tool: "pflogsumm", lines: FULL_LINES, ms: pflogsumm.wallMs },
      { tool: "grep -c postfix/", lines: FULL_LINES, ms: grep.wallMs },
    ];
    const postwatchRate = postwatch.lines / postwatch.ms;
    notes.push(
      "Every tool runs as its own process on the same file, timed from spawn to exit (Node start-up included for postwatch).",
      "postwatch = `postwatch replay`'s code path (services/cli/src/offline.ts `replay`): chunked line reader, lineToEvent, Correlator, DetectionEngine with the default rules, ticked once per second of event time as the live detector ticks once per second.",
      `postwatch vs fail2ban-regex: ${ratio(postwatchRate, fail2ban)} (target ≥ 10×); vs pflogsumm: ${ratio(postwatchRate, timings[3] as Timed)} (target > 1×).`,
      `Peak RSS ${megabytes(postwatchSmall.maxRssKb ?? 0)} MB at ${SMALL_LINES.toLocaleString("en-US")} lines, ${megabytes(postwatch.maxRssKb ?? 0)} MB at ${FULL_LINES.toLocaleString("en-US")} lines (flat memory would keep these close).`,
    );
    return {
      title: `Parse + correlate + detect: ${FULL_LINES.toLocaleString("en-US")}-line mixed mail.log`,
      columns: ["tool", "lines", "seconds", "lines/s", "postwatch ×", "peak RSS (MB)"],
      rows: timings.map((t) => [
        t.tool,
        t.lines.toLocaleString("en-US"),
        seconds(t.ms),
        perSecond(t.lines, t.ms),
        ratio(postwatchRate, t),
        t.maxRssKb === undefined ? "-" : megabytes(t.maxRssKb),
      ]),
      notes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeLog(file: string, options: MixedLogOptions): Promise<string> {
  const out = createWriteStream(file);
  await writeMixedLog(out, options);
  out.end();
  await finished(out);
  return file;
}

async function measurePostwatch(file: string, lines: number): Promise<Timed> {
  const run = await runWithDeadline(process.execPath, [MEASURE_REPLAY, file], {
    timeoutMs: PEER_DEADLINE_MS,
  });
  const measured = JSON.parse(run.stdout) as { lines: number; maxRssKb: number };
  if (measured.lines !== lines) throw new Error(`postwatch read ${measured.lines} lines of ${lines}`);
  return {
    tool: `postwatch (${lines.toLocaleString("en-US")} lines)`,
    lines,
    ms: run.wallMs,
    maxRssKb: measured.maxRssKb,
  };
}

/** The full file if fail2ban-regex finishes it in time; otherwise a prefix, said so in the notes. */
async function measureFail2ban(full: string, prefix: () => Promise<string>, notes: string[]): Promise<Timed> {
  try {
    const run = await runFail2banSasl(full, FAIL2BAN_FULL_FILE_MS);
    return { tool: "fail2ban-regex postfix[mode=auth]", lines: run.lines, ms: run.wallMs };
  } catch (error) {
    if (!(error as Error).message.includes("still running")) throw error;
  }
  notes.push(
    `fail2ban-regex did not finish ${FULL_LINES.toLocaleString("en-US")} lines in ${FAIL2BAN_FULL_FILE_MS / 1000} s: it was measured on the first ${FAIL2BAN_PREFIX_LINES.toLocaleString("en-US")} lines.`,
  );
  const run = await runFail2banSasl(await prefix(), PEER_DEADLINE_MS);
  return { tool: "fail2ban-regex postfix[mode=auth] (prefix)", lines: run.lines, ms: run.wallMs };
}

/** How many times postwatch's lines/s is the tool's, e.g. `2.31×`. */
function ratio(postwatchLinesPerMs: number, tool: Timed): string {
  return `${(postwatchLinesPerMs / (tool.lines / tool.ms)).toFixed(2)}×`;
}
