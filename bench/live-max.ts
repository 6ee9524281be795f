/**
 * `node dist/bench/live-max.js [deployed|start ...]`: only the live scenario's full-speed steps, each after its shape's warm-up step (deployed and `postwatch
 * start`) and the rsyslog peer, printed, not written to RESULTS.md: the quick check while working on
 * throughput. POSTWATCH_BENCH_NODE_OPTIONS passes node flags (`--cpu-prof`) to postwatch,
 * POSTWATCH_BENCH_ENV settings (`RECEIVER_BATCH_MAX_EVENTS=64`);
 * POSTWATCH_BENCH_MAIN measures another build (bench/live-pipeline.ts).
 */
import { liveScenario } from "./live.js";
import type { Shape } from "./live-pipeline.js";
import { formatResult } from "./report.js";

const shapes = process.argv.slice(2) as Shape[];
if (shapes.some((shape) => shape !== "deployed" && shape !== "start"))
  throw new Error("usage: live-max.js [deployed|start ...]");
const result = await liveScenario({ fullSpeedOnly: true, shapes: shapes.length > 0 ? shapes : undefined });
process.stdout.write(`${formatResult(result)}\n`);
