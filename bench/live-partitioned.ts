/**
 * Scenario: the partitioned detector as it is deployed, under the live load. A nats-server, the
 * receiver, N correlate and N evaluate replicas (DETECTOR_STAGE=correlate|evaluate, the default 12
 * event and 12 fact partitions) and the alerter, each a process of its own, for each N; before them
 * the unpartitioned deployed shape (one DETECTOR_STAGE=all detector) on the same lines. Each shape
 * takes lines of a generated log from MAIL_HOSTS mail servers (so that the hosts spread over the
 * event partitions) over one TCP connection, first at a modest rate, then as
 * fast as the connection takes them, with seed 002's brute force halfway (bench/live.ts runStep).
 * Per step: lines/s end to end and, at full speed, its ratio to rsyslog on the same lines in the
 * same run, lost lines, the brute force at the webhook, CPU seconds per 100k lines of every process,
 * how many events and facts each replica read and how many events were delivered twice. From the CPU
 * seconds, each stage's lines/s per CPU core: the sizing rule of docs/deploy.md.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { sample } from "../test/helpers/metrics.js";
import { writeLog } from "./jobs.js";
import { linesPerSecond, MAX, ratio, runStep, type StepResult, secondsOrTimeout, sumOf } from "./live.js";
import { frame, rsyslogLinesPerSecond } from "./live-load.js";
import { type LivePipeline, startLivePipeline } from "./live-pipeline.js";
import { formatResult, megabytes, type ScenarioResult } from "./report.js";

/** Mail servers in the generated log: 24 hosts over 12 event partitions give 2 replicas 12 hosts each, 4 replicas 5 to 7. */
export const MAIL_HOSTS = 24;
export const REPLICAS: readonly number[] = [1, 2, 4];
/**
 * Before full speed, a step at a modest rate, where the receiver's batches hold few events and a
 * detector's cost per message shows. Full speed: fewer lines than bench/live.ts's, so that the
 * partitioned detector's backlog drains within the settle timeout and its CPU counts all its work.
 */
const PACED = { rate: 5_000, lines: 30_000 };
const FULL_SPEED_LINES = 100_000;
const SEED_ADDRESS = "176.103.49.30";
/** Processes of one stage: a stage's replicas, or the unpartitioned detector. */
const STAGES = ["receiver", "detector", "correlate", "evaluate", "alerter", "nats-server"] as const;
type Stage = (typeof STAGES)[number];
const stageOf = (process: string) => process.split(" ")[0] as Stage;

interface Row {
  /** Replicas of each detector stage; undefined: the unpartitioned detector. */
  replicas: number | undefined;
  rate: number;
  lines: number;
  result: StepResult;
  handled: Handled;
}

/** `cluster`: every shape on a 3-node JetStream cluster with R3 streams rather than one nats-server. */
export async function partitionedScenario(
  options: { replicas?: readonly number[]; hosts?: number; cluster?: boolean } = {},
): Promise<ScenarioResult> {
  const replicaCounts = options.replicas ?? REPLICAS;
  const cluster = options.cluster === true;
  const hosts = options.hosts ?? MAIL_HOSTS;
  const dir = mkdtempSync(join(tmpdir(), "postwatch-live-partitioned-"));
  try {
    const file = await writeLog(join(dir, "mail.log"), {
      lines: PACED.lines + FULL_SPEED_LINES,
      seed: 1,
      format: "rfc3339",
      hosts,
    });
    const load = readFileSync(file, "utf8").split("\n").filter(Boolean);
    const steps = [
      { rate: PACED.rate, lines: load.slice(0, PACED.lines) },
      { rate: MAX, lines: load.slice(PACED.lines) },
    ];
    const rows: Row[] = [];
    for (const replicas of [undefined, ...replicaCounts]) {
      const pipeline =
        replicas === undefined
          ? await startLivePipeline("deployed", 1, { cluster })
          : await startLivePipeline("partitioned", replicas, { cluster });
      try {
        for (const { rate, lines } of steps) {
          const address = SEED_ADDRESS.replace(/\d+$/, (last) => String(Number(last) + rows.length));
          const before = await handledByReplica(pipeline);
          const result = await runStep(
            pipeline,
            { shape: pipeline.shape, transport: "tcp", rate, lines: lines.length },
            lines,
            address,
          );
          const handled = since(before, await handledByReplica(pipeline));
          rows.push({ replicas, rate, lines: lines.length, result, handled });
        }
      } finally {
        await pipeline.stop();
      }
    }
    const peer = await rsyslogLinesPerSecond(load.slice(PACED.lines).map(frame), dir);
    return {
      title: `Live: the partitioned detector as deployed, ${hosts} mail servers, over one TCP connection${cluster ? ", on a 3-node JetStream cluster (R3)" : ""}`,
      columns: [
        "detector",
        "offered lines/s",
        "end to end lines/s",
        "× rsyslog",
        "lines",
        "lost",
        "detector done after (s)",
        "brute force → webhook (s)",
        "CPU s per 100k lines: receiver / correlate 1…N / evaluate 1…N / alerter; nats-server",
        "events read per correlate replica",
        "events redelivered",
        "facts read per evaluate replica (of published)",
        "peak RSS, same order (MB)",
      ],
      rows: [
        ...rows.map(({ replicas, rate, lines, result, handled }) => [
          replicas === undefined
            ? "DETECTOR_STAGE=all, 1 process"
            : `${replicas} correlate + ${replicas} evaluate`,
          rate === MAX ? "max" : rate.toLocaleString("en-US"),
          linesPerSecond(result.endToEndPerSecond),
          rate === MAX ? ratio(result.endToEndPerSecond, peer) : "-",
          lines.toLocaleString("en-US"),
          result.lost === 0
            ? "0"
            : `${result.lost.toLocaleString("en-US")} (${result.counted.toLocaleString("en-US")} counted)`,
          secondsOrTimeout(result.drainedAfterMs),
          secondsOrTimeout(result.alertLatencyMs),
          cpuColumn(result.cpuPer100k),
          shares(handled.read, "correlate"),
          Math.max(0, eventsRead(handled) - handled.published).toLocaleString("en-US"),
          replicas === undefined
            ? "-"
            : `${shares(handled.read, "evaluate")} (${handled.factsPublished.toLocaleString("en-US")})`,
          Object.values(result.peakResident)
            .map((bytes) => megabytes(bytes / 1024))
            .join(" / "),
        ]),
        [
          "rsyslog imtcp → omfile (peer)",
          "max",
          linesPerSecond(peer),
          "1.00×",
          FULL_SPEED_LINES.toLocaleString("en-US"),
          ...Array(8).fill("-"),
        ],
      ],
      notes: [
        "Every shape: " +
          (cluster
            ? "a fresh 3-node JetStream cluster on loopback ports (file store; every stream in 3 copies, NATS_STREAM_REPLICAS=3; the nats-server CPU adds up the three nodes)"
            : "a fresh private nats-server (JetStream, file store, one node)") +
          " and postwatch's services each in a process of its own, `postwatch receiver`, `detector` (DETECTOR_STAGE=all, or N of DETECTOR_STAGE=correlate and N of evaluate, EVENT_PARTITIONS=FACT_PARTITIONS=12) and `alerter`, posting to a local webhook; the sender is in the bench process. All of it shares this machine's cores.",
        `The lines: the generated log (seed 1) from ${hosts} mail servers, mx1 … mx${hosts} (\`mixed-log --hosts ${hosts}\`: each story on one server), sent over one TCP connection: ${PACED.lines.toLocaleString("en-US")} lines at ${PACED.rate.toLocaleString("en-US")} lines/s, then the next ${FULL_SPEED_LINES.toLocaleString("en-US")} as fast as the connection takes them (the peer takes the same); the 96 lines of seed 002's brute force, stamped with the current time, go out halfway through each step. The same lines for every shape.`,
        "end to end: lines over the time from the first sent until every event the receiver published was read by the detector and, partitioned, every fact the correlate replicas published by the evaluate replicas, and every durable consumer of the events and facts streams had acked all it was given. lost: lines sent that never became events (TCP backpressure keeps it at 0).",
        "CPU: user + system seconds each process used from the step's start until the detector was done, per 100,000 lines sent (from /proc/<pid>/stat), in the order receiver, the detector or the correlate replicas then the evaluate replicas, alerter; then the nats-server. RSS: each postwatch process's peak, same order.",
        "events read per correlate replica: postwatch_detector_events_total{outcome=processed}, and its share; events redelivered: those read beyond the events the receiver published (batches JetStream delivered again, their ack wait passed while they queued behind others). facts read per evaluate replica: postwatch_detector_facts_total{outcome=processed}, in brackets the facts the correlate replicas published (postwatch_detector_facts_published_total: a fact goes to every fact partition owning one of its keys, a successful login to all 12). A replica's share follows its partitions' hosts (FNV-1a of the host name) and keys: about 1/N, not exactly.",
        ...rows.map(
          ({ replicas, rate, result }) =>
            `Lines/s per CPU core (100,000 / CPU seconds per 100k lines, a stage's replicas added up), ${replicas === undefined ? "DETECTOR_STAGE=all" : `${replicas} + ${replicas} replicas`}, ${rate === MAX ? "full speed" : `${rate.toLocaleString("en-US")} lines/s`}: ${perCore(result.cpuPer100k)}.`,
        ),
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Handled {
  /** Events the receiver published. */
  published: number;
  /** Per correlate replica (or the unpartitioned detector), events read; per evaluate replica, facts read. */
  read: Record<string, number>;
  /** Facts the correlate replicas published. */
  factsPublished: number;
}

async function handledByReplica(pipeline: LivePipeline): Promise<Handled> {
  const handled: Handled = { published: 0, read: {}, factsPublished: 0 };
  for (const name of pipeline.processes) {
    const text = await pipeline.metrics(name);
    const stage = stageOf(name);
    if (stage === "receiver") handled.published += sumOf(text, "postwatch_receiver_events_published_total");
    if (stage !== "correlate" && stage !== "evaluate" && stage !== "detector") continue;
    handled.factsPublished += sumOf(text, "postwatch_detector_facts_published_total");
    handled.read[name] =
      stage === "evaluate"
        ? sample(text, "postwatch_detector_facts_total", { outcome: "processed" })
        : sample(text, "postwatch_detector_events_total", { outcome: "processed" });
  }
  return handled;
}

function since(before: Handled, after: Handled): Handled {
  return {
    published: after.published - before.published,
    factsPublished: after.factsPublished - before.factsPublished,
    read: Object.fromEntries(
      Object.entries(after.read).map(([name, count]) => [name, count - (before.read[name] ?? 0)]),
    ),
  };
}

const eventsRead = (handled: Handled) =>
  Object.entries(handled.read)
    .filter(([name]) => stageOf(name) !== "evaluate")
    .reduce((sum, [, count]) => sum + count, 0);

/** `count (share%)` per replica of `stage` (the unpartitioned detector counts as a correlate one). */
function shares(handled: Record<string, number>, stage: "correlate" | "evaluate"): string {
  const own = Object.entries(handled).filter(
    ([name]) => stageOf(name) === stage || (stage === "correlate" && name === "detector"),
  );
  const total = own.reduce((sum, [, count]) => sum + count, 0);
  return own
    .map(
      ([, count]) =>
        `${count.toLocaleString("en-US")} (${total === 0 ? 0 : Math.round((count / total) * 100)}%)`,
    )
    .join(" / ");
}

function cpuColumn(cpuPer100k: Record<string, number>): string {
  const { "nats-server": nats = 0, ...postwatch } = cpuPer100k;
  return `${Object.values(postwatch)
    .map((seconds) => seconds.toFixed(2))
    .join(" / ")}; ${nats.toFixed(2)}`;
}

/** Lines/s one core gives each stage: 100,000 lines over the stage's CPU seconds per 100k lines. */
export function linesPerCore(cpuPer100k: Record<string, number>): Partial<Record<Stage, number>> {
  const seconds: Partial<Record<Stage, number>> = {};
  for (const [name, used] of Object.entries(cpuPer100k)) {
    const stage = stageOf(name);
    seconds[stage] = (seconds[stage] ?? 0) + used;
  }
  return Object.fromEntries(
    Object.entries(seconds).map(([stage, used]) => [stage, used > 0 ? 100_000 / used : Infinity]),
  );
}

function perCore(cpuPer100k: Record<string, number>): string {
  return Object.entries(linesPerCore(cpuPer100k))
    .map(
      ([stage, perSecond]) =>
        `${stage} ${Number.isFinite(perSecond) ? Math.round(perSecond).toLocaleString("en-US") : "∞"}`,
    )
    .join(", ");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      replicas: { type: "string", default: REPLICAS.join(",") },
      hosts: { type: "string", default: String(MAIL_HOSTS) },
      cluster: { type: "boolean", default: false },
    },
  });
  const replicas = values.replicas.split(",").map(Number);
  const hosts = Number(values.hosts);
  if (
    !replicas.every((n) => Number.isInteger(n) && n >= 1 && n <= 12) ||
    !Number.isInteger(hosts) ||
    hosts < 1
  )
    throw new Error("usage: live-partitioned.js [--replicas 1,2,4 (each 1 to 12)] [--hosts 24] [--cluster]");
  process.stdout.write(
    `${formatResult(await partitionedScenario({ replicas, hosts, cluster: values.cluster }))}\n`,
  );
}
