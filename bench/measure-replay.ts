/**
 * Child entry for the parse-correlate scenario: `node dist/bench/measure-replay.js FILE` runs
 * `postwatch replay`'s code path (read, parse, correlate, detect) over FILE and prints one JSON line
 * with what it did and its peak RSS. A process of its own, so the RSS is postwatch's alone.
 */
import { performance } from "node:perf_hooks";
import { replay } from "../services/cli/src/offline.js";

const [file] = process.argv.slice(2);
if (file === undefined) throw new Error("usage: measure-replay.js FILE");
const started = performance.now();
const result = await replay([file]);
const measurement = {
  ms: performance.now() - started,
  lines: result.stats.lines,
  events: result.stats.events,
  alerts: result.alerts.length,
  maxRssKb: process.resourceUsage().maxRSS,
};
process.stdout.write(`${JSON.stringify(measurement)}\n`);
