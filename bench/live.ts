/**
 * Scenario: the mission under load. postwatch runs as it is deployed (bench/live-pipeline.ts:
 * nats-server, then receiver, detector and alerter as three processes), then as `postwatch start`
 * runs it (one process, its own nats-server). Each step offers lines of the
 * generated mail.log over one TCP connection at a fixed rate, the last as fast as TCP takes them;
 * halfway through each step, seed 002's SASL brute force (from a new address each step, stamped
 * with the current time) is sent in the middle of the traffic. Per step: lines lost, how long after
 * the last line the detector had processed everything, how long the brute force took to reach the
 * webhook, and each service's peak memory. The peer, on the same machine and the same lines: rsyslog
 * receiving them over TCP and writing them to a file, the job that sits in front of postwatch.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fixtureLines } from "../test/helpers/fixtures.js";
import { sample } from "../test/helpers/metrics.js";
import { firingAlerts } from "../test/helpers/webhook-server.js";
import { writeLog } from "./jobs.js";
import {
  BATCH_INTERVAL_MS,
  frame,
  rsyslogLinesPerSecond,
  SETTLE_TIMEOUT_MS,
  sendPaced,
  tcpSink,
  udpSink,
  waitFor,
} from "./live-load.js";
import { type LivePipeline, type Shape, startLivePipeline } from "./live-pipeline.js";
import { megabytes, type ScenarioResult } from "./report.js";

export interface Step {
  shape: Shape;
  transport: "tcp" | "udp";
  /** Lines offered per second; Infinity: as fast as the connection takes them. */
  rate: number;
  lines: number;
}

export const MAX = Number.POSITIVE_INFINITY;
export const MAX_LINES = 300_000;
/**
 * Every shape meets full speed warm, after a step at this rate over TCP: a process's first few
 * seconds of traffic go to V8 compiling its hot paths (postwatch start took 300,000 lines at
 * 72,000-85,000 lines/s cold and 134,000-142,000 after as many lines before), and a monitor runs
 * for days. The deployed shape had its slower steps first anyway; `start` now has this one too.
 */
const WARM_UP_RATE = 20_000;
/** Steps of one shape run on one pipeline, in order; the full-speed ones are measured against the peer. */
const STEPS: readonly Step[] = [
  { shape: "deployed", transport: "tcp", rate: 1_000, lines: 15_000 },
  { shape: "deployed", transport: "tcp", rate: 5_000, lines: 75_000 },
  { shape: "deployed", transport: "tcp", rate: WARM_UP_RATE, lines: 300_000 },
  { shape: "deployed", transport: "udp", rate: 5_000, lines: 75_000 },
  { shape: "deployed", transport: "udp", rate: 20_000, lines: 300_000 },
  { shape: "deployed", transport: "tcp", rate: MAX, lines: MAX_LINES },
  { shape: "start", transport: "tcp", rate: WARM_UP_RATE, lines: 300_000 },
  { shape: "start", transport: "tcp", rate: MAX, lines: MAX_LINES },
];
const isWarmUp = (step: Step) => step.transport === "tcp" && step.rate === WARM_UP_RATE;
const SHAPE_NAMES: Record<Shape, string> = {
  deployed: "deployed",
  start: "`postwatch start`",
  partitioned: "deployed, partitioned",
};
const SEED_ADDRESS = "176.103.49.30";

export interface StepResult {
  /** Lines the receiver's socket took per second, while sending. */
  sentPerSecond: number;
  /** Lines per second from the first sent to the detector done with the last. */
  endToEndPerSecond: number | undefined;
  /** Lines sent that never became events: not received, or dropped by the receiver. */
  lost: number;
  /** How many of the lost the receiver counted (UDP kernel drops, queue-full drops). */
  counted: number;
  drainedAfterMs: number | undefined;
  alertLatencyMs: number | undefined;
  /** Per process (bench/live-pipeline.ts names them). */
  peakResident: Record<string, number>;
  /** CPU seconds each process used during the step (until the detector was done), per 100k lines. */
  cpuPer100k: Record<string, number>;
}

/**
 * `fullSpeedOnly`: only the full-speed steps, each after its shape's warm-up step, and the peer
 * (bench/live-max.ts), for profiling and quick checks; `shapes`: only these shapes' steps.
 */
export async function liveScenario(
  options: { fullSpeedOnly?: boolean; shapes?: readonly Shape[] } = {},
): Promise<ScenarioResult> {
  const steps = STEPS.filter(
    (step) =>
      (!options.fullSpeedOnly || step.rate === MAX || isWarmUp(step)) &&
      (options.shapes ?? [step.shape]).includes(step.shape),
  );
  const dir = mkdtempSync(join(tmpdir(), "postwatch-live-"));
  try {
    const total = steps.reduce((sum, step) => sum + step.lines, 0);
    const file = await writeLog(join(dir, "mail.log"), { lines: total, seed: 1, format: "rfc3339" });
    const load = readFileSync(file, "utf8").split("\n").filter(Boolean);
    const results: StepResult[] = [];
    let offset = 0;
    for (const shape of new Set(steps.map((step) => step.shape))) {
      const pipeline = await startLivePipeline(shape);
      try {
        for (const step of steps.filter((s) => s.shape === shape)) {
          const address = SEED_ADDRESS.replace(/\d+$/, (last) => String(Number(last) + results.length));
          results.push(await runStep(pipeline, step, load.slice(offset, offset + step.lines), address));
          offset += step.lines;
        }
      } finally {
        await pipeline.stop();
      }
    }
    // The peer takes the lines of the last full-speed step.
    const peer = await rsyslogLinesPerSecond(load.slice(total - MAX_LINES).map(frame), dir);
    const fullSpeed = steps.flatMap((step, i) =>
      step.rate === MAX ? [{ step, result: results[i] as StepResult }] : [],
    );
    return {
      title: "Live: postwatch under load, with a brute force in the traffic",
      columns: [
        "shape",
        "transport",
        "offered lines/s",
        "sent lines/s",
        "end to end lines/s",
        "× rsyslog",
        "lines",
        "lost",
        "detector done after (s)",
        "brute force → webhook (s)",
        "CPU s per 100k lines (postwatch; nats-server)",
        "lines per CPU second",
        "peak RSS receiver / detector / alerter (MB)",
      ],
      rows: [
        ...results.map((result, i) => {
          const step = steps[i] as Step;
          return [
            SHAPE_NAMES[step.shape],
            step.transport.toUpperCase(),
            step.rate === MAX ? "max" : step.rate.toLocaleString("en-US"),
            linesPerSecond(result.sentPerSecond),
            linesPerSecond(result.endToEndPerSecond),
            step.rate === MAX ? ratio(result.endToEndPerSecond, peer) : "-",
            step.lines.toLocaleString("en-US"),
            result.lost === 0
              ? "0"
              : `${result.lost.toLocaleString("en-US")} (${result.counted.toLocaleString("en-US")} counted)`,
            secondsOrTimeout(result.drainedAfterMs),
            secondsOrTimeout(result.alertLatencyMs),
            cpuColumn(result.cpuPer100k),
            linesPerSecond(linesPerCpuSecond(result.cpuPer100k)),
            `${Object.values(result.peakResident)
              .map((bytes) => megabytes(bytes / 1024))
              .join(" / ")}${step.shape === "start" ? " (one process)" : ""}`,
          ];
        }),
        [
          "rsyslog imtcp → omfile (peer)",
          "TCP",
          "max",
          "-",
          linesPerSecond(peer),
          "1.00×",
          MAX_LINES.toLocaleString("en-US"),
          "-",
          "-",
          "-",
          "-",
          "-",
          "-",
        ],
      ],
      notes: [
        "deployed: a private nats-server (JetStream, file store) and `postwatch receiver`, `detector` and `alerter` as three processes. `postwatch start`: the three services in one process, with the nats-server it starts itself. Both post to a local webhook; the sender is in the bench process. All of it shares this machine's cores, the sender included.",
        `Each shape meets full speed warm, after its ${WARM_UP_RATE.toLocaleString("en-US")} lines/s TCP step: a fresh process spends its first seconds of traffic with V8 compiling its hot paths, and a monitor runs for days.`,
        `Each step sends its lines over one TCP connection (LF framing, as rsyslog forwards) or as one UDP datagram each, paced in ${BATCH_INTERVAL_MS} ms batches; the 96 lines of seed 002's brute force, stamped with the current time and from a new address each step, go out halfway.`,
        "sent: lines the receiver's socket took per second while the step ran; end to end: lines over the time from the first sent to the detector done with the last.",
        "lost: lines sent that never became events; in brackets, how many of them the receiver counted: UDP datagrams the kernel dropped with the receive buffer full (postwatch_receiver_udp_kernel_drops_total, at the kernel's default buffer: SYSLOG_UDP_RECEIVE_BUFFER_BYTES raises it) and events dropped with the publish queue full. Over TCP, backpressure keeps it at 0.",
        "detector done after: from the last line sent until the detector had processed every event the receiver published (the backlog, when the step outran the pipeline) and, deployed, its consumers had acked every message.",
        "CPU: user + system seconds each process used from the step's start until the detector was done, per 100,000 lines (from /proc); the postwatch processes receiver / detector / alerter, or `postwatch start`'s one (and in brackets its main thread, with the receiver and alerter, and the detector's thread; the rest is V8's compiler and garbage collector threads), then the nats-server. The sender's is not counted. Less noisy than lines/s on a shared machine: it counts work, not waiting.",
        "lines per CPU second: 100,000 over the CPU seconds of every process above (postwatch's and the nats-server's) per 100,000 lines: what one core, fully used, carries in this shape. A line rate over it is the cores the shape needs; on a machine of 2 cores shared with the sender, end to end lines/s stays below twice it.",
        "brute force → webhook: from sending the brute force until its sasl_bruteforce alert reached the webhook, through NATS twice (the webhook takes each alert at once; only Slack and Alertmanager wait ALERTER_GROUP_WAIT_MS to group).",
        `× rsyslog: end to end lines/s over rsyslog's, receiving the same ${MAX_LINES.toLocaleString("en-US")} lines over one TCP connection and writing them to a file (the peer postwatch sits behind), in the same run.`,
        ...fullSpeed.map(
          ({ step, result }) =>
            `At full speed, ${SHAPE_NAMES[step.shape]} processed ${linesPerSecond(result.endToEndPerSecond)} lines/s end to end: ${ratio(result.endToEndPerSecond, peer)} rsyslog.`,
        ),
        "A busy Postfix server logs tens to hundreds of lines a second.",
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines per second of CPU, over postwatch's processes and the nats-server (its threads are in `start`'s process already). */
function linesPerCpuSecond(cpuPer100k: Record<string, number>): number | undefined {
  const { "start main thread": _main, "start detector thread": _detector, ...processes } = cpuPer100k;
  const seconds = Object.values(processes).reduce((sum, value) => sum + value, 0);
  return seconds > 0 ? 100_000 / seconds : undefined;
}

function cpuColumn(cpuPer100k: Record<string, number>): string {
  const {
    "nats-server": nats = 0,
    "start main thread": main,
    "start detector thread": detector,
    ...postwatch
  } = cpuPer100k;
  const threads =
    main === undefined
      ? ""
      : ` (main thread ${main.toFixed(2)}, detector thread ${(detector ?? 0).toFixed(2)})`;
  return `${Object.values(postwatch)
    .map((seconds) => seconds.toFixed(2))
    .join(" / ")}${threads}; ${nats.toFixed(2)}`;
}

export const ratio = (perSecond: number | undefined, peer: number) =>
  perSecond === undefined ? "-" : `${(perSecond / peer).toFixed(2)}×`;
export const linesPerSecond = (perSecond: number | undefined) =>
  perSecond === undefined ? "-" : Math.round(perSecond).toLocaleString("en-US");
export const secondsOrTimeout = (ms: number | undefined) =>
  ms === undefined ? `> ${SETTLE_TIMEOUT_MS / 1000}` : (ms / 1000).toFixed(2);

/** Seed 002's brute force from `address`, as rsyslog forwards it, stamped now (RFC 3339). */
function bruteForceFrames(address: string): string[] {
  const now = new Date().toISOString();
  return fixtureLines("sasl-bruteforce-seed002.log").map((line) =>
    frame(`${now} ${line.slice(16).replaceAll(SEED_ADDRESS, address)}`),
  );
}

export async function runStep(
  pipeline: LivePipeline,
  step: Step,
  lines: string[],
  address: string,
): Promise<StepResult> {
  // Deployed, the detectors' consumers having acked everything says they are done (a batch is acked
  // once what it produced is stored): only the receiver is scraped while polling, since scraping
  // every process 20 times a second would be work counted in their CPU.
  const idle = pipeline.detectorsIdle;
  const scraped = idle === undefined ? pipeline.processes : ["receiver"];
  const before = await counts(pipeline, scraped);
  const cpuBefore = pipeline.cpuSeconds();
  const peakResident = await pipeline.residentBytes();
  const sampler = setInterval(() => {
    pipeline
      .residentBytes()
      .then((now) => {
        for (const [name, bytes] of Object.entries(now))
          peakResident[name] = Math.max(peakResident[name] ?? 0, bytes);
      })
      .catch(() => undefined);
  }, 1000);
  try {
    const sink = await (step.transport === "tcp" ? tcpSink : udpSink)(pipeline.syslogPort);
    const frames = lines.map(frame);
    const injection = bruteForceFrames(address);
    const started = performance.now();
    let injectedAtMs = 0;
    await sendPaced(sink, frames, step.rate, {
      at: Math.floor(frames.length / 2),
      send: async () => {
        await sink.write(injection);
        injectedAtMs = Date.now();
      },
    });
    const sentMs = performance.now() - started;
    await sink.close();
    const sent = frames.length + injection.length;
    const lastSentAt = performance.now();
    const settled = await waitFor(async () => {
      const now = await counts(pipeline, scraped);
      if (!received(before, now, sent)) return undefined;
      return (idle === undefined ? processed(before, now) : await idle()) ? now : undefined;
    });
    const drainedAfterMs = settled === undefined ? undefined : performance.now() - lastSentAt;
    const cpuAfter = pipeline.cpuSeconds();
    const after = settled ?? (await counts(pipeline, scraped));
    const alert = await waitFor(async () =>
      pipeline.webhook.requests.find((r) => firingAlerts([r], "sasl_bruteforce")[0]?.key.value === address),
    );
    return {
      sentPerSecond: (frames.length / sentMs) * 1000,
      endToEndPerSecond: drainedAfterMs === undefined ? undefined : (sent / (sentMs + drainedAfterMs)) * 1000,
      lost: Math.max(0, sent - (after.frames - before.frames)) + (after.dropped - before.dropped),
      counted: after.kernelDrops - before.kernelDrops + (after.dropped - before.dropped),
      drainedAfterMs,
      alertLatencyMs: alert === undefined ? undefined : alert.receivedAtMs - injectedAtMs,
      peakResident,
      cpuPer100k: Object.fromEntries(
        Object.entries(cpuAfter).map(([name, seconds]) => [
          name,
          ((seconds - (cpuBefore[name] ?? 0)) / sent) * 100_000,
        ]),
      ),
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Every line sent was received or counted as dropped by the kernel; every Postfix line was published or dropped (counted). */
function received(before: Counts, now: Counts, sent: number): boolean {
  const delta = (key: keyof Counts) => now[key] - before[key];
  return (
    delta("frames") + delta("kernelDrops") >= sent &&
    delta("published") + delta("dropped") >= delta("postfix")
  );
}

/** The detector processed every event published (`postwatch start`: the bench does not reach its NATS). */
function processed(before: Counts, now: Counts): boolean {
  return now.processed - before.processed >= now.published - before.published;
}

interface Counts {
  /** Frames received, TCP and UDP. */
  frames: number;
  /** UDP datagrams the kernel dropped before the receiver could read them. */
  kernelDrops: number;
  postfix: number;
  published: number;
  dropped: number;
  processed: number;
}

/** Each count summed over the processes `names` (a name reaches `start`'s one): a series comes from the one service that counts it. */
async function counts(pipeline: LivePipeline, names: readonly string[]): Promise<Counts> {
  // One scrape per process: the bench polls, and a scrape is work for the process.
  const texts = await Promise.all(names.map((name) => pipeline.metrics(name)));
  const total = (count: (text: string) => number) => texts.reduce((sum, text) => sum + count(text), 0);
  return {
    frames: total((text) => sumOf(text, "postwatch_receiver_frames_received_total")),
    kernelDrops: total((text) => sample(text, "postwatch_receiver_udp_kernel_drops_total")),
    postfix: total((text) => sample(text, "postwatch_receiver_lines_total", { outcome: "postfix" })),
    published: total((text) => sumOf(text, "postwatch_receiver_events_published_total")),
    dropped: total((text) => sumOf(text, "postwatch_receiver_events_dropped_total")),
    processed: total((text) => sample(text, "postwatch_detector_events_total", { outcome: "processed" })),
  };
}

/** The sum of every series of a labelled counter. */
export function sumOf(text: string, name: string): number {
  let total = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm")))
    total += Number(match[1]);
  return total;
}
