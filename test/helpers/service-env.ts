/**
 * The environment of postwatch's services on loopback, as the tests and the live bench run them
 * (each in a process of its own, or all in one): every service gets the same settings and reads
 * the ones it knows.
 */
export function loopbackServiceEnv(options: {
  natsUrl: string;
  /** 0: one the system picks. */
  metricsPort: number;
  /** The receiver's TCP port; UDP is off. */
  syslogPort: number;
  /** The alerter posts each alert here. */
  webhookUrl: string;
}): Record<string, string> {
  return {
    NATS_URL: options.natsUrl,
    METRICS_HOST: "127.0.0.1",
    METRICS_PORT: String(options.metricsPort),
    SYSLOG_HOST: "127.0.0.1",
    SYSLOG_TCP_PORT: String(options.syslogPort),
    SYSLOG_UDP_PORT: "0",
    WEBHOOK_URL: options.webhookUrl,
  };
}
