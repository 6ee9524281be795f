/**
 * Child entry for the throughput scenario: `node dist/bench/measure.js JOB FILE` runs one of
 * postwatch's jobs over FILE and prints one JSON line with what it did and its peak RSS. A process
 * of its own, so the RSS is that job's alone.
 *
 * - `read`, `header`, `parse`: the stages parse + correlate is built from, each one including the
 *   ones before it (the chunked line reader; then the syslog header; then the Postfix message made
 *   a typed event), so that the differences between their times show where a line's time goes.
 * - `parse-correlate`: the chunked line reader, lineToEvent and the Correlator (sessions, queue IDs,
 *   message summaries): the parsing and correlation every other job stands on, nothing after it.
 * - `report`: `postwatch report`'s path: parse, correlate, pflogsumm's Grand Totals and the top
 *   lists, streamed through ReportBuilder; the report is formatted (and its size counted).
 * - `replay`: `postwatch replay`'s path: parse, correlate and the default detection rules on event
 *   time.
 */

import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { forEachEvent, forEachLine, newInputStats, openLog } from "../services/cli/src/input.js";
import { parseSyslogLine } from "../shared/src/syslog/parse.js";
import { SyslogCache } from "../shared/src/syslog/syslog-cache.js";

const JOBS = ["read", "header", "parse", "parse-correlate", "report", "replay"] as const;
export type Job = (typeof JOBS)[number];

export interface Measurement {
  job: Job;
  ms: number;
  lines: number;
  events: number;
  /**
   * read: characters; header: records; parse: events; parse-correlate: message summaries; report:
   * characters of the report; replay: alerts. Each is used, so no stage can be optimised away.
   */
  output: number;
  maxRssKb: number;
}

async function read(file: string) {
  const stats = newInputStats();
  let characters = 0;
  await forEachLine(openLog(file), (line) => {
    stats.lines++;
    characters += line.length;
  });
  return { stats, output: characters };
}

async function header(file: string) {
  const stats = newInputStats();
  const options = { referenceTime: statSync(file).mtimeMs };
  const cache = new SyslogCache();
  let records = 0;
  await forEachLine(openLog(file), (line) => {
    stats.lines++;
    if (parseSyslogLine(line, options, cache) !== null) records++;
  });
  return { stats, output: records };
}

async function parse(file: string) {
  const stats = newInputStats();
  await forEachEvent([file], stats, () => {});
  return { stats, output: stats.events };
}

// Each job loads only the modules it runs (the report, the rule engine and the schemas behind them
// took a tenth of a second to load), so no job's time includes another's start-up.

async function parseCorrelate(file: string) {
  const { Correlator } = await import("../shared/src/postfix/correlate.js");
  const stats = newInputStats();
  const correlator = new Correlator();
  let summaries = 0;
  const count = (events: readonly { kind: string }[]) => {
    for (const event of events) if (event.kind === "message") summaries++;
  };
  await forEachEvent([file], stats, (event, atMs) => count(correlator.push(event, atMs)));
  count(correlator.sweep(Number.POSITIVE_INFINITY));
  return { stats, output: summaries };
}

async function report(file: string) {
  const { formatReport, ReportBuilder } = await import("../shared/src/report/report.js");
  const stats = newInputStats();
  const builder = new ReportBuilder();
  await forEachEvent([file], stats, (event, atMs) => builder.add(event, atMs));
  return { stats, output: formatReport(builder.finish()).length };
}

async function replayJob(file: string) {
  const { replay } = await import("../services/cli/src/offline.js");
  const result = await replay([file]);
  return { stats: result.stats, output: result.alerts.length };
}

const RUN: Record<Job, typeof report> = {
  read,
  header,
  parse,
  "parse-correlate": parseCorrelate,
  report,
  replay: replayJob,
};

const [job, file] = process.argv.slice(2);
if (file === undefined || !JOBS.includes(job as Job))
  throw new Error(`usage: measure.js ${JOBS.join("|")} FILE`);
const started = performance.now();
const { stats, output } = await RUN[job as Job](file);
const measurement: Measurement = {
  job: job as Job,
  ms: performance.now() - started,
  lines: stats.lines,
  events: stats.events,
  output,
  maxRssKb: process.resourceUsage().maxRSS,
};
process.stdout.write(`${JSON.stringify(measurement)}\n`);
