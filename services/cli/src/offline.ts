/** The offline commands: parse, replay, trace, report. Same parsing and detection as the services, no NATS. */
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import { redactSecrets } from "../../../shared/src/postfix/secrets.js";
import { formatAlert } from "../../../shared/src/report/alert-text.js";
import { formatReport, ReportBuilder } from "../../../shared/src/report/report.js";
import { formatTrace, type LoggedEvent, traceQueueId } from "../../../shared/src/report/trace.js";
import { DetectionPipeline, EventTimeReplay } from "../../detector/src/pipeline.js";
import { loadRules } from "../../detector/src/rules/index.js";
import { forEachEvent, newInputStats } from "./input.js";

type Write = (text: string) => void;

export async function parseCommand(paths: readonly string[], write: Write): Promise<number> {
  const stats = newInputStats();
  await forEachEvent(paths, stats, (event) => write(`${JSON.stringify(event)}\n`));
  return 0;
}

export interface ReplayResult {
  alerts: Alert[];
  /** The event time each alert (same index) was raised at. */
  raisedAtMs: number[];
  stats: ReturnType<typeof newInputStats> & { engine: ReturnType<DetectionPipeline["stats"]>["engine"] };
}

/** Runs the detector's pipeline over logs on event time, as the live detector would have. */
export async function replay(paths: readonly string[], ruleOverrides: unknown = {}): Promise<ReplayResult> {
  const stats = newInputStats();
  const pipeline = new DetectionPipeline({ rules: loadRules(ruleOverrides) });
  const run = new EventTimeReplay(pipeline);
  await forEachEvent(paths, stats, (event, atMs) => run.push(event, atMs));
  const alerts = run.finish();
  return { alerts, raisedAtMs: run.raisedAtMs, stats: { ...stats, engine: pipeline.stats().engine } };
}

export async function replayCommand(
  paths: readonly string[],
  options: { json: boolean; rules: unknown },
  write: Write,
): Promise<number> {
  const result = await replay(paths, options.rules);
  if (options.json) {
    write(`${JSON.stringify({ alerts: result.alerts, stats: result.stats }, null, 2)}\n`);
    return 0;
  }
  for (const alert of result.alerts) write(`${formatAlert(alert)}\n`);
  const firing = result.alerts.filter((a) => a.state === "firing").length;
  write(
    `\n${result.stats.lines} lines, ${result.stats.events} Postfix events, ${result.stats.notPostfix} other programs, ` +
      `${result.stats.badHeader} without a syslog header; ${firing} alerts fired, ${result.alerts.length - firing} resolved\n`,
  );
  return 0;
}

export async function traceCommand(queueId: string, paths: readonly string[], write: Write): Promise<number> {
  const entries: LoggedEvent[] = [];
  // Raw lines are printed back: redact them like everything else that leaves the parser.
  await forEachEvent(paths, newInputStats(), (event, _atMs, line) =>
    entries.push({ event, line: redactSecrets(line) }),
  );
  const result = traceQueueId(entries, queueId);
  if (result.entries.length === 0) {
    write(`queue ID ${queueId} does not appear in ${paths.join(", ") || "stdin"}\n`);
    return 1;
  }
  write(formatTrace(result));
  return 0;
}

export async function reportCommand(
  paths: readonly string[],
  options: { top: number },
  write: Write,
): Promise<number> {
  // Streamed: memory is bounded by what the report counts, not by the length of the log.
  const builder = new ReportBuilder();
  await forEachEvent(paths, newInputStats(), (event, atMs) => builder.add(event, atMs));
  write(formatReport(builder.finish(), { top: options.top }));
  return 0;
}
