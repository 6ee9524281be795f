/**
 * Log lines for a person at a terminal: `14:39:20 INFO  receiver: listening for syslog over TCP  port=5514`.
 * pino hands over its JSON line with secrets already redacted (log.ts), so this only reshapes it.
 * Two records get a shape of their own: an alert prints as `postwatch replay` prints it, and a
 * `banner` (what the process serves, and where) as an aligned block under its line.
 */
import { Alert } from "../contracts/alerts.js";
import { formatAlert } from "../report/alert-text.js";

const LEVELS: Record<string, { label: string; color: number }> = {
  trace: { label: "TRACE", color: 90 },
  debug: { label: "DEBUG", color: 90 },
  info: { label: "INFO ", color: 32 },
  warn: { label: "WARN ", color: 33 },
  error: { label: "ERROR", color: 31 },
  fatal: { label: "FATAL", color: 31 },
};

/** Fields shown in the line's head rather than as key=value. */
const HEAD_FIELDS = new Set(["level", "time", "service", "component", "msg", "banner"]);

/** `color`: ANSI colours for the level, for a terminal. */
export function formatLogLine(line: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const alert = Alert.safeParse(record.alert);
  if (alert.success) return `${formatAlert(alert.data)}\n`;
  const level = LEVELS[String(record.level)] ?? { label: String(record.level), color: 0 };
  const label = color ? `\x1b[${level.color}m${level.label}\x1b[0m` : level.label;
  const clock = typeof record.time === "string" ? record.time.slice(11, 19) : "";
  const fields = Object.entries(record)
    .filter(([key]) => !HEAD_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  const head = `${clock} ${label} ${record.component ?? record.service}: ${record.msg ?? ""}`;
  return `${head}${fields.length > 0 ? `  ${fields.join(" ")}` : ""}\n${bannerBlock(record.banner)}`;
}

function bannerBlock(banner: unknown): string {
  if (typeof banner !== "object" || banner === null) return "";
  const entries = Object.entries(banner as Record<string, unknown>);
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, text]) => `  ${label.padEnd(width)}  ${String(text)}\n`).join("");
}
