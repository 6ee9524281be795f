/**
 * Syslog over TLS (RFC 5425): rsyslog's gtls driver speaks octet-counted frames over a TLS stream.
 * The receiver must read them with its certificate, and, when a CA is configured, refuse a client
 * that shows no certificate signed by it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { makeCertificates } from "../helpers/certificates.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import type { StreamReader } from "../helpers/stream-reader.js";

const LINE = "<22>Nov  3 14:03:01 mx-tls postfix/submission/smtpd[4242]: connect from unknown[203.0.113.7]";

function sendTls(port: number, dir: string, withClientCertificate: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: readFileSync(join(dir, "ca.pem")),
        ...(withClientCertificate
          ? { cert: readFileSync(join(dir, "client.pem")), key: readFileSync(join(dir, "client.key")) }
          : {}),
      },
      () => socket.end(`${Buffer.byteLength(LINE)} ${LINE}`),
    );
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
}

describe("syslog over TLS", () => {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-tls-"));
  let setup: TestReceiver;
  let receiver: RunningServices;
  let port: number;
  let events: StreamReader<PostfixEvent>;

  before(async () => {
    makeCertificates(dir);
    setup = await startTestReceiver((picked) => ({
      SYSLOG_UDP_PORT: "0",
      SYSLOG_TCP_PORT: "0",
      SYSLOG_TLS_PORT: String(picked),
      SYSLOG_TLS_CERT_FILE: join(dir, "server.pem"),
      SYSLOG_TLS_KEY_FILE: join(dir, "server.key"),
      SYSLOG_TLS_CA_FILE: join(dir, "ca.pem"),
    }));
    ({ receiver, port, events } = setup);
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads octet-counted frames from a client with a certificate signed by the CA", async () => {
    await sendTls(port, dir, true);
    const [event] = await events.waitFor((m) => m.length >= 1, 5000, "the event sent over TLS");
    assert.equal(event?.data.kind, "connect");
    assert.equal(event?.data.host, "mx-tls");
    assert.equal(event?.data.service, "submission");
  });

  it("refuses a client without a certificate when a CA is configured", async () => {
    const before = await fetch(`http://127.0.0.1:${receiver.metricsPort}/metrics`).then((r) => r.text());
    const count = (text: string) =>
      Number(/^postwatch_receiver_lines_total\{outcome="postfix"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    await sendTls(port, dir, false).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterwards = await fetch(`http://127.0.0.1:${receiver.metricsPort}/metrics`).then((r) => r.text());
    assert.equal(count(afterwards), count(before), "nothing from an unauthenticated client is read");
  });
});
