/**
 * Lying octet counts against the real receiver and nats-server: a count too short and one too long
 * in a stream of 1,000 frames cost those two frames only, each counted; a count that lies long at
 * the end of a burst holds the frames behind it until the stream ends (or its frame is overdue),
 * and they are read then.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sample, waitForMetrics } from "../helpers/metrics.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import { sendRaw } from "../helpers/syslog-client.js";

const line = (host: string, n: number) =>
  `<22>Nov  3 14:03:01 ${host} postfix/smtpd[${n}]: connect from unknown[203.0.113.7]`;
/** Octet-counted, with the count off by `lie` bytes. */
const frame = (text: string, lie = 0) => `${Buffer.byteLength(text) + lie} ${text}`;

describe("chaos: lying octet counts", () => {
  let setup: TestReceiver;
  const pids = (host: string) =>
    setup.events.messages.filter((m) => m.data.host === host).map((m) => m.data.pid);
  const badCounts = (text: string) =>
    sample(text, "postwatch_receiver_framing_errors_total", { transport: "tcp", reason: "bad_octet_count" });

  before(async () => {
    setup = await startTestReceiver({ SYSLOG_UDP_PORT: "0", SYSLOG_FRAME_TIMEOUT_SECONDS: "2" });
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
  });

  it("loses only the frames whose count lied, and counts each", async () => {
    const lies: Record<number, number> = { 300: -20, 700: 30 };
    const wire = Array.from({ length: 1000 }, (_, n) => frame(line("mx-lies", n), lies[n] ?? 0)).join("");
    await sendRaw(setup.port, wire);
    const expected = Array.from({ length: 1000 }, (_, n) => n).filter((n) => !(n in lies));
    await setup.events.waitFor(() => pids("mx-lies").length === expected.length, 10_000, "998 lines");
    assert.deepEqual(pids("mx-lies"), expected);
    await waitForMetrics(setup.receiver.metricsPort, (t) => badCounts(t) === 2, 5000, "two bad counts");
  });

  it("reads the frames a count lying long held back, once the sender stops", async () => {
    const wire = [
      frame(line("mx-tail", 1)),
      frame(line("mx-tail", 2), 500),
      frame(line("mx-tail", 3)),
      frame(line("mx-tail", 4)),
    ];
    await sendRaw(setup.port, wire.join(""));
    await setup.events.waitFor(() => pids("mx-tail").length === 3, 10_000, "three lines");
    assert.deepEqual(pids("mx-tail"), [1, 3, 4]);
  });

  it("reads them too when the sender stays connected and the frame is overdue", async () => {
    const wire = [frame(line("mx-open", 1)), frame(line("mx-open", 2), 500), frame(line("mx-open", 3))];
    const socket = await sendRaw(setup.port, wire.join(""), { keepOpen: true });
    await setup.events.waitFor(() => pids("mx-open").length === 2, 10_000, "two lines");
    assert.deepEqual(pids("mx-open"), [1, 3]);
    socket?.destroy();
  });
});
