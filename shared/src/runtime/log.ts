/**
 * pino JSON logs. Secrets never reach a log line: webhook URLs and NATS credentials are redacted by
 * path, and nothing in the event pipeline carries a password (the parser strips them).
 */
import { type Logger, pino } from "pino";
import { formatLogLine } from "./pretty-log.js";

export type { Logger };

const REDACTED_PATHS = [
  "config.SLACK_WEBHOOK_URL",
  "config.WEBHOOK_URL",
  "config.NATS_URL",
  "config.NATS_CREDS_FILE",
  "config.NATS_TOKEN",
  "config.NATS_PASSWORD",
  "config.NATS_USER",
  "url",
  "headers.authorization",
];

/** `pretty`: compact lines for a person at a terminal (pretty-log.ts); `json`: one object a line. */
export type LogFormat = "json" | "pretty";

/** LOG_FORMAT `auto` is pretty on a terminal and JSON everywhere else (files, pipes, containers). */
export const logFormatFor = (setting: string, stdoutIsTerminal: boolean): LogFormat =>
  setting === "auto" ? (stdoutIsTerminal ? "pretty" : "json") : (setting as LogFormat);

/** `stdoutIsTerminal`: colours for pretty lines; a service thread's stdout is a pipe to its process's. */
export function createLogger(
  options: { level: string; service: string; format?: LogFormat; stdoutIsTerminal?: boolean },
  destination?: pino.DestinationStream,
): Logger {
  const colours = options.stdoutIsTerminal ?? process.stdout.isTTY === true;
  const pretty: pino.DestinationStream | undefined =
    options.format === "pretty"
      ? { write: (line) => process.stdout.write(formatLogLine(line, colours)) }
      : undefined;
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pretty,
  );
}

/** A webhook URL is a credential; logs name only its host so an admin can still tell sinks apart. */
export function describeUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "invalid-url";
  }
}
