/** One syslog message after framing and header parsing, before any Postfix knowledge is applied. */
export interface SyslogRecord {
  /** Wire or file format the header was read as. */
  format: "rfc3164" | "rfc5424" | "rfc3339" | "bare";
  /** PRI facility and severity; absent for file lines, which carry no PRI. */
  facility?: number;
  severity?: number;
  /** Event time in ms since the epoch (UTC). */
  timestamp: number;
  /** HOSTNAME; empty when the line carries none (some forum posts strip it). */
  hostname: string;
  /** The tag (3164: `postfix/submission/smtpd`) or APP-NAME (5424: only `postfix`). */
  appName: string;
  /** PID from `tag[pid]` or PROCID; null when absent or `-`. */
  pid: number | null;
  /** The message after `tag[pid]: ` (3164) or after the structured data (5424), trailing CR/LF removed. */
  message: string;
}
