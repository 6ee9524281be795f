/**
 * A SASL brute force as syslog frames (RSYSLOG_ForwardFormat: a full timestamp, so a test chooses
 * each line's clock), one SMTP session per guess: the shape of seed 002's failures.
 */
export interface BruteForceOptions {
  count: number;
  attacker: string;
  host?: string;
  /** Time of the first line; default: now. */
  startMs?: number;
  /** Between lines; default 2 s. */
  spacingMs?: number;
  firstPid?: number;
}

export function bruteForceLines(options: BruteForceOptions): string[] {
  const {
    count,
    attacker,
    host = "mx1",
    startMs = Date.now(),
    spacingMs = 2000,
    firstPid = 32_451,
  } = options;
  return Array.from({ length: count }, (_, i) =>
    syslogFrame(
      startMs + i * spacingMs,
      host,
      "postfix/smtpd",
      firstPid + i,
      `warning: unknown[${attacker}]: SASL PLAIN authentication failed: `,
    ),
  );
}

/** One `<PRI>TIMESTAMP HOST TAG[PID]: MSG` frame at mail.info. */
export function syslogFrame(atMs: number, host: string, tag: string, pid: number, message: string): string {
  return `<22>${new Date(atMs).toISOString()} ${host} ${tag}[${pid}]: ${message}`;
}
