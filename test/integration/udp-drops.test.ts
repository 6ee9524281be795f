/**
 * UDP loss the kernel causes is still counted: with a tiny receive buffer and the receiver's event
 * loop blocked while a burst arrives, every datagram is either received or counted in
 * postwatch_receiver_udp_kernel_drops_total, with nothing unaccounted for.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { sample, scrape } from "../helpers/metrics.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";

const BURST = 3000;
const LINE = "<22>Nov  3 14:03:01 mx1 postfix/smtpd[4242]: connect from unknown[203.0.113.7]";

describe("UDP datagrams dropped by the kernel", {
  skip: process.platform !== "linux" && "reads /proc/net/udp",
}, () => {
  let setup: TestReceiver;
  let receiver: RunningServices;
  let port: number;

  before(async () => {
    setup = await startTestReceiver({ SYSLOG_TCP_PORT: "0", SYSLOG_UDP_RECEIVE_BUFFER_BYTES: "4096" });
    ({ receiver, port } = setup);
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
  });

  it("counts every datagram of a burst as received or dropped by the kernel", async () => {
    // spawnSync blocks this process, the receiver's, while the child sends: the 4 KiB buffer overflows.
    const sender = `
      const socket = require("node:dgram").createSocket("udp4");
      let sent = 0;
      const next = () => sent++ < ${BURST} ? socket.send(${JSON.stringify(LINE)}, ${port}, "127.0.0.1", next) : socket.close();
      next();`;
    const result = spawnSync(process.execPath, ["-e", sender], { timeout: 20_000 });
    assert.equal(result.status, 0, String(result.stderr));

    let metrics = "";
    const deadline = Date.now() + 5000;
    for (;;) {
      metrics = await scrape(receiver.metricsPort);
      const received = sample(metrics, "postwatch_receiver_frames_received_total", { transport: "udp" });
      const dropped = sample(metrics, "postwatch_receiver_udp_kernel_drops_total", {});
      if (received + dropped === BURST) break;
      assert.ok(Date.now() < deadline, `received ${received} + dropped ${dropped} != ${BURST}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(
      sample(metrics, "postwatch_receiver_udp_kernel_drops_total", {}) > 0,
      "the burst should overflow a 4 KiB buffer",
    );
  });
});
