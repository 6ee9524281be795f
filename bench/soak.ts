/**
 * `npm run bench:soak [-- SECONDS [LINES_PER_SECOND]]`: the deployed pipeline (bench/live-pipeline.ts)
 * fed a steady rate over TCP for a long while, to show that memory and lag stay flat rather than
 * creep: every sample reads each service's resident memory and heap, and the detector's backlog.
 * Writes bench/SOAK.md. Defaults: 600 s at 5,000 lines/s (a busy server logs tens to hundreds).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sample } from "../test/helpers/metrics.js";
import { writeLog } from "./jobs.js";
import { frame, sendPaced, tcpSink } from "./live-load.js";
import { type LivePipeline, type Service, startLivePipeline } from "./live-pipeline.js";
import { formatResult, megabytes } from "./report.js";

const SAMPLE_EVERY_MS = 30_000;
const SERVICES: readonly Service[] = ["receiver", "detector", "alerter"];
const RESULTS_FILE = fileURLToPath(new URL("../../bench/SOAK.md", import.meta.url));

const [secondsArg = "600", rateArg = "5000"] = process.argv.slice(2);
const seconds = Number(secondsArg);
const rate = Number(rateArg);
if (!(seconds > 0 && rate > 0)) throw new Error("usage: soak.js [SECONDS] [LINES_PER_SECOND]");

const dir = mkdtempSync(join(tmpdir(), "postwatch-soak-"));
try {
  const lines = seconds * rate;
  const file = await writeLog(join(dir, "mail.log"), { lines, seed: 7, format: "rfc3339" });
  const frames = readFileSync(file, "utf8").split("\n").filter(Boolean).map(frame);
  const pipeline = await startLivePipeline("deployed");
  const rows: string[][] = [];
  try {
    const started = Date.now();
    const record = async () => rows.push(await snapshot(pipeline, (Date.now() - started) / 1000));
    await record();
    const sampler = setInterval(() => void record(), SAMPLE_EVERY_MS);
    const sink = await tcpSink(pipeline.syslogPort);
    await sendPaced(sink, frames, rate);
    await sink.close();
    clearInterval(sampler);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await record();
  } finally {
    await pipeline.stop();
  }
  const section = formatResult({
    title: `Soak: ${lines.toLocaleString("en-US")} lines at ${rate.toLocaleString("en-US")} lines/s over TCP (${seconds} s)`,
    columns: [
      "elapsed (s)",
      "lines received",
      "events processed",
      "detector backlog",
      ...SERVICES.map((service) => `${service} RSS / heap (MB)`),
    ],
    rows,
    notes: [
      `The deployed shape (nats-server and three service processes) on ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, ${new Date().toISOString()}. A sample every ${SAMPLE_EVERY_MS / 1000} s, and one 5 s after the last line.`,
      "Heap is V8's used heap at the sample, garbage not yet collected included: it saws; RSS is what to watch for creep.",
    ],
  });
  process.stdout.write(`${section}\n`);
  writeFileSync(RESULTS_FILE, `# postwatch soak\n\nProduced by \`npm run bench:soak\`.\n\n${section}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function snapshot(pipeline: LivePipeline, elapsedSeconds: number): Promise<string[]> {
  const texts = Object.fromEntries(
    await Promise.all(SERVICES.map(async (service) => [service, await pipeline.metrics(service)] as const)),
  ) as Record<Service, string>;
  const memory = (service: Service) =>
    `${megabytes(sample(texts[service], "process_resident_memory_bytes") / 1024)} / ${megabytes(
      sample(texts[service], "nodejs_heap_size_used_bytes") / 1024,
    )}`;
  return [
    elapsedSeconds.toFixed(0),
    sample(texts.receiver, "postwatch_receiver_frames_received_total", { transport: "tcp" }).toLocaleString(
      "en-US",
    ),
    sample(texts.detector, "postwatch_detector_events_total", { outcome: "processed" }).toLocaleString(
      "en-US",
    ),
    sample(texts.detector, "postwatch_detector_consumer_pending_events").toLocaleString("en-US"),
    ...SERVICES.map(memory),
  ];
}
