/**
 * Child entry for the throughput scenario: `node dist/bench/measure.js JOB FILE` runs one of
 * postwatch's jobs over FILE and prints one JSON line with what it did and its peak RSS. A process
 * of its own, so the RSS is that job's alone.
 *
 * - `parse-correlate`: the chunked line reader, lineToEvent and the Correlator (sessions, queue IDs,
 *   message summaries): the parsing and correlation every other job stands on, nothing after it.
 * - `report`: `postwatch report`'s path: parse, correlate, pflogsumm's Grand Totals and the top
 *   lists, streamed through ReportBuilder; the report is formatted (and its size counted).
 * - `replay`: `postwatch replay`'s path: parse, correlate and the default detection rules on event
 *   time.
 */
import { performance } from "node:perf_hooks";
import { forEachEvent, newInputStats } from "../services/cli/src/input.js";
import { replay } from "../services/cli/src/offline.js";
import { Correlator } from "../shared/src/postfix/correlate.js";
import { formatReport, ReportBuilder } from "../shared/src/report/report.js";

const JOBS = ["parse-correlate", "report", "replay"] as const;
export type Job = (typeof JOBS)[number];

export interface Measurement {
  job: Job;
  ms: number;
  lines: number;
  events: number;
  /** parse-correlate: message summaries; report: characters of the report; replay: alerts. */
  output: number;
  maxRssKb: number;
}

async function parseCorrelate(file: string) {
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
  const stats = newInputStats();
  const builder = new ReportBuilder();
  await forEachEvent([file], stats, (event, atMs) => builder.add(event, atMs));
  return { stats, output: formatReport(builder.finish()).length };
}

async function replayJob(file: string) {
  const result = await replay([file]);
  return { stats: result.stats, output: result.alerts.length };
}

const RUN: Record<Job, typeof report> = { "parse-correlate": parseCorrelate, report, replay: replayJob };

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
