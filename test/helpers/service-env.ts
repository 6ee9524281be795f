/**
 * The environment of one postwatch service in a process of its own on loopback, as the image test
 * and the live bench run receiver, detector and alerter side by side: every service gets the same
 * settings and reads the ones it knows.
 */
export function loopbackServiceEnv(options: {
  natsUrl: string;
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
