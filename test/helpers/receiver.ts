/**
 * A receiver on its own, as `postwatch receiver` runs it, for a test: a private nats-server, syslog
 * on a free loopback port (UDP and TCP unless the overrides say otherwise), and a reader of the
 * event stream to wait on what was published.
 */

import { runOne } from "../../services/cli/src/online.js";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { startTestNats, type TestNats } from "./nats-server.js";
import { freePort } from "./ports.js";
import { readEvents, type StreamReader } from "./stream-reader.js";

export interface TestReceiver {
  nats: TestNats;
  receiver: RunningServices;
  /** The syslog port picked for this receiver. */
  port: number;
  events: StreamReader<PostfixEvent>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** `env` overrides the defaults; `(port) => env` when a setting needs the picked port. */
export async function startTestReceiver(
  env: Record<string, string> | ((port: number) => Record<string, string>) = {},
): Promise<TestReceiver> {
  const nats = await startTestNats();
  const port = await freePort();
  const receiver = await runOne("receiver", {
    ...nats.env,
    SYSLOG_HOST: "127.0.0.1",
    SYSLOG_TCP_PORT: String(port),
    SYSLOG_UDP_PORT: String(port),
    METRICS_HOST: "127.0.0.1",
    METRICS_PORT: "0",
    LOG_LEVEL: "silent",
    ...(typeof env === "function" ? env(port) : env),
  });
  const events = await readEvents(nats.url);
  return {
    nats,
    receiver,
    port,
    events,
    async [Symbol.asyncDispose]() {
      await events.close();
      await receiver.stop();
      await nats[Symbol.asyncDispose]();
    },
  };
}
