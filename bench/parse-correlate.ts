/**
 * Scenario: postwatch over a 1,000,000-line generated mail.log, beside fail2ban-regex (postfix-sasl
 * filter), pflogsumm and `grep -c postfix/` on the same file in the same run. Three postwatch jobs,
 * each its own process (bench/measure.ts): parse + correlate (what the clause names),
 * report (pflogsumm's job: totals and top lists) and replay (parse + correlate + every detection
 * rule). The machine is shared, so the ratios within one run are the claim, not the absolute
 * numbers; every tool gets the best of RUNS runs. Peak RSS on a 250,000-line prefix beside the
 * 1,000,000-line file shows whether memory grows with the file.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFail2banSasl, runPflogsumm } from "../test/parity/peers.js";
import { runWithDeadline } from "./child-process.js";
import { best, measurePostwatch, PEER_DEADLINE_MS, RUNS, writeLog } from "./jobs.js";
import type { Job } from "./measure.js";
import { megabytes, perSecond, type ScenarioResult, seconds } from "./report.js";

const FULL_LINES = 1_000_000;
const SMALL_LINES = 250_000;
/** fail2ban-regex gets this long on the full file before it is measured on a prefix instead. */
const FAIL2BAN_FULL_FILE_MS = 180_000;
const FAIL2BAN_PREFIX_LINES = 100_000;

const JOBS: readonly { job: Job; tool: string; does: string }[] = [
  {
    job: "parse-correlate",
    tool: "postwatch parse + correlate",
    does: "chunked line reader, lineToEvent (syslog header, Postfix message → typed event) and the Correlator (smtpd sessions, queue IDs → one message summary each), streaming; nothing after it",
  },
  {
    job: "report",
    tool: "postwatch report",
    does: "`postwatch report`'s path (services/cli/src/offline.ts `reportCommand`): parse + correlate, then ReportBuilder's pflogsumm Grand Totals, sender accounts and failing clients, streamed, and the report formatted: pflogsumm's job",
  },
  {
    job: "replay",
    tool: "postwatch replay (parse + correlate + detect)",
    does: "`postwatch replay`'s path (offline.ts `replay`): parse + correlate, then DetectionEngine with the default rules, ticked once per second of event time as the live detector ticks once per wall second",
  },
];

interface Timed {
  tool: string;
  lines: number;
  ms: number;
  maxRssKb?: number;
  smallRssKb?: number;
}

export async function parseCorrelateScenario(): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(tmpdir(), "postwatch-bench-"));
  try {
    // Baseline traffic: the 250k and 100k files are exact prefixes of the 1M file (same seed).
    const logOf = (lines: number) =>
      writeLog(join(dir, `mail-${lines}.log`), { lines, seed: 1, format: "rfc3339" });
    const full = await logOf(FULL_LINES);
    const small = await logOf(SMALL_LINES);
    const notes: string[] = [];
    const postwatch: Timed[] = [];
    for (const { job, tool } of JOBS) {
      const run = await best(() => measurePostwatch(job, full, FULL_LINES));
      const smallRun = await measurePostwatch(job, small, SMALL_LINES);
      postwatch.push({
        tool,
        lines: FULL_LINES,
        ms: run.ms,
        maxRssKb: run.maxRssKb,
        smallRssKb: smallRun.maxRssKb,
      });
    }
    const fail2ban = await best(() => measureFail2ban(full, () => logOf(FAIL2BAN_PREFIX_LINES), notes));
    const pflogsumm: Timed = await best(async () => ({
      tool: "pflogsumm",
      lines: FULL_LINES,
      ms: (await runPflogsumm(full, PEER_DEADLINE_MS)).wallMs,
    }));
    const grep: Timed = await best(async () => ({
      tool: "grep -c postfix/",
      lines: FULL_LINES,
      ms: (await runWithDeadline("grep", ["-c", "postfix/", full], { timeoutMs: PEER_DEADLINE_MS })).wallMs,
    }));
    const peers = [fail2ban, pflogsumm, grep];
    const rows = [...postwatch, ...peers];
    notes.push(
      `Every tool runs as its own process on the same file, timed from spawn to exit (Node start-up included for postwatch), best of ${RUNS} runs. "× peer" is the row's lines/s over the peer's.`,
      ...JOBS.map(({ tool, does }) => `${tool}: ${does}.`),
      ...postwatch.map(
        (p) =>
          `${p.tool}: ${ratio(p, fail2ban)} fail2ban-regex (target ≥ 10×), ${ratio(p, pflogsumm)} pflogsumm (target > 1×); peak RSS ${megabytes(p.smallRssKb ?? 0)} MB at ${SMALL_LINES.toLocaleString("en-US")} lines, ${megabytes(p.maxRssKb ?? 0)} MB at ${FULL_LINES.toLocaleString("en-US")}.`,
      ),
    );
    return {
      title: `Throughput: ${FULL_LINES.toLocaleString("en-US")}-line mixed mail.log`,
      columns: [
        "tool",
        "lines",
        "seconds",
        "lines/s",
        "× fail2ban-regex",
        "× pflogsumm",
        "× grep",
        `peak RSS ${SMALL_LINES / 1000}k (MB)`,
        `peak RSS ${FULL_LINES / 1_000_000}M (MB)`,
      ],
      rows: rows.map((t) => [
        t.tool,
        t.lines.toLocaleString("en-US"),
        seconds(t.ms),
        perSecond(t.lines, t.ms),
        ...peers.map((peer) => ratio(t, peer)),
        t.smallRssKb === undefined ? "-" : megabytes(t.smallRssKb),
        t.maxRssKb === undefined ? "-" : megabytes(t.maxRssKb),
      ]),
      notes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The full file if fail2ban-regex finishes it in time; otherwise a prefix, said so in the notes. */
async function measureFail2ban(full: string, prefix: () => Promise<string>, notes: string[]): Promise<Timed> {
  try {
    const run = await runFail2banSasl(full, FAIL2BAN_FULL_FILE_MS);
    return { tool: "fail2ban-regex postfix[mode=auth]", lines: run.lines, ms: run.wallMs };
  } catch (error) {
    if (!(error as Error).message.includes("still running")) throw error;
  }
  const note = `fail2ban-regex did not finish ${FULL_LINES.toLocaleString("en-US")} lines in ${FAIL2BAN_FULL_FILE_MS / 1000} s: it was measured on the first ${FAIL2BAN_PREFIX_LINES.toLocaleString("en-US")} lines.`;
  if (!notes.includes(note)) notes.push(note);
  const run = await runFail2banSasl(await prefix(), PEER_DEADLINE_MS);
  return { tool: "fail2ban-regex postfix[mode=auth] (prefix)", lines: run.lines, ms: run.wallMs };
}

/** How many times the row's lines/s is the peer's, e.g. `2.31×`. */
function ratio(row: Timed, peer: Timed): string {
  return `${(row.lines / row.ms / (peer.lines / peer.ms)).toFixed(2)}×`;
}
