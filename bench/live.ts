/**
 * Scenario: the mission under load. postwatch runs as it is deployed (bench/live-pipeline.ts:
 * nats-server, then receiver, detector and alerter as three processes). Each step offers lines of the
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
import { type DeployedPipeline, type Service, startDeployedPipeline } from "./live-pipeline.js";
import { megabytes, type ScenarioResult } from "./report.js";

interface Step {
  transport: "tcp" | "udp";
  /** Lines offered per second; Infinity: as fast as the connection takes them. */
  rate: number;
  lines: number;
}

/** The last step is the full-speed one the peer is measured against. */
const STEPS: readonly Step[] = [
  { transport: "tcp", rate: 1_000, lines: 15_000 },
  { transport: "tcp", rate: 5_000, lines: 75_000 },
  { transport: "tcp", rate: 20_000, lines: 300_000 },
  { transport: "udp", rate: 5_000, lines: 75_000 },
  { transport: "udp", rate: 20_000, lines: 300_000 },
  { transport: "tcp", rate: Number.POSITIVE_INFINITY, lines: 300_000 },
];
const SEED_ADDRESS = "176.103.49.30";

interface StepResult {
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
  peakResident: Record<Service, number>;
}

export async function liveScenario(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-live-"));
  try {
    const total = STEPS.reduce((sum, step) => sum + step.lines, 0);
    const file = await writeLog(join(dir, "mail.log"), { lines: total, seed: 1, format: "rfc3339" });
    const load = readFileSync(file, "utf8").split("\n").filter(Boolean);
    const pipeline = await startDeployedPipeline();
    const results: StepResult[] = [];
    try {
      let offset = 0;
      for (const [index, step] of STEPS.entries()) {
        const address = SEED_ADDRESS.replace(/\d+$/, (last) => String(Number(last) + index));
        results.push(await runStep(pipeline, step, load.slice(offset, offset + step.lines), address));
        offset += step.lines;
      }
    } finally {
      await pipeline.stop();
    }
    const maxStep = STEPS[STEPS.length - 1] as Step;
    const peer = await rsyslogLinesPerSecond(load.slice(total - maxStep.lines).map(frame), dir);
    const max = results[results.length - 1] as StepResult;
    return {
      title: "Live: the deployed pipeline under load, with a brute force in the traffic",
      columns: [
        "transport",
        "offered lines/s",
        "sent lines/s",
        "end to end lines/s",
        "lines",
        "lost",
        "detector done after (s)",
        "brute force → webhook (s)",
        "peak RSS receiver / detector / alerter (MB)",
      ],
      rows: [
        ...results.map((result, i) => {
          const step = STEPS[i] as Step;
          return [
            step.transport.toUpperCase(),
            Number.isFinite(step.rate) ? step.rate.toLocaleString("en-US") : "max",
            linesPerSecond(result.sentPerSecond),
            linesPerSecond(result.endToEndPerSecond),
            step.lines.toLocaleString("en-US"),
            result.lost === 0
              ? "0"
              : `${result.lost.toLocaleString("en-US")} (${result.counted.toLocaleString("en-US")} counted)`,
            secondsOrTimeout(result.drainedAfterMs),
            secondsOrTimeout(result.alertLatencyMs),
            (["receiver", "detector", "alerter"] as const)
              .map((service) => megabytes(result.peakResident[service] / 1024))
              .join(" / "),
          ];
        }),
        [
          "TCP",
          "max (rsyslog imtcp → file, peer)",
          "-",
          linesPerSecond(peer),
          maxStep.lines.toLocaleString("en-US"),
          "-",
          "-",
          "-",
          "-",
        ],
      ],
      notes: [
        "postwatch runs as deployed: a private nats-server (JetStream, file store) and `postwatch receiver`, `detector` and `alerter` as three processes, posting to a local webhook; the sender is in the bench process. All of it shares this machine's cores, the sender included.",
        `Each step sends its lines over one TCP connection (LF framing, as rsyslog forwards) or as one UDP datagram each, paced in ${BATCH_INTERVAL_MS} ms batches; the 96 lines of seed 002's brute force, stamped with the current time and from a new address each step, go out halfway.`,
        "sent: lines the receiver's socket took per second while the step ran; end to end: lines over the time from the first sent to the detector done with the last.",
        "lost: lines sent that never became events; in brackets, how many of them the receiver counted: UDP datagrams the kernel dropped with the receive buffer full (postwatch_receiver_udp_kernel_drops_total, at the kernel's default buffer: SYSLOG_UDP_RECEIVE_BUFFER_BYTES raises it) and events dropped with the publish queue full. Over TCP, backpressure keeps it at 0.",
        "detector done after: from the last line sent until the detector had processed every event the receiver published (the backlog, when the step outran the pipeline).",
        "brute force → webhook: from sending the brute force until its sasl_bruteforce alert reached the webhook, through NATS twice (the webhook takes each alert at once; only Slack and Alertmanager wait ALERTER_GROUP_WAIT_MS to group).",
        `At max rate postwatch processed ${linesPerSecond(max.endToEndPerSecond)} lines/s end to end: ${max.endToEndPerSecond === undefined ? "-" : (max.endToEndPerSecond / peer).toFixed(2)}× rsyslog receiving the same lines over TCP and writing them to a file, the peer it sits behind. A busy Postfix server logs tens to hundreds of lines a second.`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const linesPerSecond = (perSecond: number | undefined) =>
  perSecond === undefined ? "-" : Math.round(perSecond).toLocaleString("en-US");
const secondsOrTimeout = (ms: number | undefined) =>
  ms === undefined ? `> ${SETTLE_TIMEOUT_MS / 1000}` : (ms / 1000).toFixed(2);

/** Seed 002's brute force from `address`, as rsyslog forwards it, stamped now (RFC 3339). */
function bruteForceFrames(address: string): string[] {
  const now = new Date().toISOString();
  return fixtureLines("sasl-bruteforce-seed002.log").map((line) =>
    frame(`${now} ${line.slice(16).replaceAll(SEED_ADDRESS, address)}`),
  );
}

async function runStep(
  pipeline: DeployedPipeline,
  step: Step,
  lines: string[],
  address: string,
): Promise<StepResult> {
  const before = await counts(pipeline);
  const peakResident = await pipeline.residentBytes();
  const sampler = setInterval(() => {
    pipeline
      .residentBytes()
      .then((now) => {
        for (const service of Object.keys(now) as Service[])
          peakResident[service] = Math.max(peakResident[service], now[service]);
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
      const now = await counts(pipeline);
      return caughtUp(before, now, sent) ? now : undefined;
    });
    const drainedAfterMs = settled === undefined ? undefined : performance.now() - lastSentAt;
    const after = settled ?? (await counts(pipeline));
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
    };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Every line sent was received or counted as dropped by the kernel; every Postfix line was published or dropped (counted); the detector
 * processed every event published.
 */
function caughtUp(before: Counts, now: Counts, sent: number): boolean {
  const delta = (key: keyof Counts) => now[key] - before[key];
  return (
    delta("frames") + delta("kernelDrops") >= sent &&
    delta("published") + delta("dropped") >= delta("postfix") &&
    delta("processed") >= delta("published")
  );
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

async function counts(pipeline: DeployedPipeline): Promise<Counts> {
  const [receiver, detector] = await Promise.all([
    pipeline.metrics("receiver"),
    pipeline.metrics("detector"),
  ]);
  return {
    frames: sumOf(receiver, "postwatch_receiver_frames_received_total"),
    kernelDrops: sample(receiver, "postwatch_receiver_udp_kernel_drops_total"),
    postfix: sample(receiver, "postwatch_receiver_lines_total", { outcome: "postfix" }),
    published: sumOf(receiver, "postwatch_receiver_events_published_total"),
    dropped: sumOf(receiver, "postwatch_receiver_events_dropped_total"),
    processed: sample(detector, "postwatch_detector_events_total", { outcome: "processed" }),
  };
}

/** The sum of every series of a labelled counter. */
function sumOf(text: string, name: string): number {
  let total = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm")))
    total += Number(match[1]);
  return total;
}
