/**
 * Syslog over TLS (RFC 5425): rsyslog's gtls driver speaks octet-counted frames over a TLS stream.
 * The receiver must read them with its certificate, and, when a CA is configured, refuse a client
 * that shows no certificate signed by it; with SYSLOG_TLS_PERMITTED_PEERS, also one whose
 * certificate names no permitted host; a certificate renewed in place is served to new connections
 * without a restart.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { makeCertificates } from "../helpers/certificates.js";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import type { StreamReader } from "../helpers/stream-reader.js";

const line = (host: string) =>
  `<22>Nov  3 14:03:01 ${host} postfix/submission/smtpd[4242]: connect from unknown[203.0.113.7]`;

/** One octet-counted frame from `host`, with the client certificate `<certificate>.pem` if given. */
function sendTls(port: number, dir: string, certificate?: string, host = "mx-tls"): Promise<void> {
  const frame = line(host);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: readFileSync(join(dir, "ca.pem")),
        ...(certificate
          ? {
              cert: readFileSync(join(dir, `${certificate}.pem`)),
              key: readFileSync(join(dir, `${certificate}.key`)),
            }
          : {}),
      },
      () => socket.end(`${Buffer.byteLength(frame)} ${frame}`),
    );
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
}

/** A receiver with only a TLS listener, client certificates required (the CA in `dir`). */
const startTlsReceiver = (dir: string, env: Record<string, string> = {}) =>
  startTestReceiver((picked) => ({
    SYSLOG_UDP_PORT: "0",
    SYSLOG_TCP_PORT: "0",
    SYSLOG_TLS_PORT: String(picked),
    SYSLOG_TLS_CERT_FILE: join(dir, "server.pem"),
    SYSLOG_TLS_KEY_FILE: join(dir, "server.key"),
    SYSLOG_TLS_CA_FILE: join(dir, "ca.pem"),
    ...env,
  }));

describe("syslog over TLS", () => {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-tls-"));
  let setup: TestReceiver;
  let receiver: RunningServices;
  let port: number;
  let events: StreamReader<PostfixEvent>;

  before(async () => {
    makeCertificates(dir);
    setup = await startTlsReceiver(dir);
    ({ receiver, port, events } = setup);
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads octet-counted frames from a client with a certificate signed by the CA", async () => {
    await sendTls(port, dir, "client");
    const [event] = await events.waitFor((m) => m.length >= 1, 5000, "the event sent over TLS");
    assert.equal(event?.data.kind, "connect");
    assert.equal(event?.data.host, "mx-tls");
    assert.equal(event?.data.service, "submission");
  });

  it("refuses a client without a certificate when a CA is configured", async () => {
    const before = await fetch(`http://127.0.0.1:${receiver.metricsPort}/metrics`).then((r) => r.text());
    const count = (text: string) =>
      Number(/^postwatch_receiver_lines_total\{outcome="postfix"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    await sendTls(port, dir).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterwards = await fetch(`http://127.0.0.1:${receiver.metricsPort}/metrics`).then((r) => r.text());
    assert.equal(count(afterwards), count(before), "nothing from an unauthenticated client is read");
  });
});

describe("syslog over TLS with SYSLOG_TLS_PERMITTED_PEERS", () => {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-tls-peers-"));
  let setup: TestReceiver;

  before(async () => {
    makeCertificates(dir, [
      // The name is in the subjectAltName; the common name is not what is checked then.
      { file: "mx2", commonName: "not-checked", dnsNames: ["mx2.mail.example.org"] },
      { file: "intranet", commonName: "intranet.example.org", dnsNames: ["intranet.example.org"] },
    ]);
    setup = await startTlsReceiver(dir, { SYSLOG_TLS_PERMITTED_PEERS: "mx-tls, *.mail.example.org" });
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads permitted peers (common name, wildcard subjectAltName) and refuses, counted, one the CA signed but the list does not name", async () => {
    await sendTls(setup.port, dir, "intranet", "intranet").catch(() => undefined);
    await sendTls(setup.port, dir, "client", "mx-tls");
    await sendTls(setup.port, dir, "mx2", "mx2");
    await setup.events.waitFor((m) => m.length >= 2, 5000, "the permitted peers' lines");
    const text = await waitForMetrics(
      setup.receiver.metricsPort,
      (t) =>
        sample(t, "postwatch_receiver_connections_refused_total", {
          transport: "tls",
          reason: "peer_not_permitted",
        }) === 1,
      5000,
      "the intranet host refused",
    );
    assert.equal(sample(text, "postwatch_receiver_lines_total", { outcome: "postfix" }), 2);
    assert.deepEqual(setup.events.messages.map((m) => m.data.host).sort(), ["mx-tls", "mx2"]);
  });
});

describe("syslog over TLS: a renewed certificate", () => {
  const first = mkdtempSync(join(tmpdir(), "postwatch-tls-first-"));
  const renewed = mkdtempSync(join(tmpdir(), "postwatch-tls-renewed-"));
  const live = mkdtempSync(join(tmpdir(), "postwatch-tls-live-"));
  let setup: TestReceiver;

  /** The SHA-256 fingerprint of the certificate a new connection is served. */
  const servedCertificate = () =>
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port: setup.port, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? "");
        socket.end();
      });
      socket.on("error", reject);
    });
  const fingerprintOf = (dir: string) =>
    new X509Certificate(readFileSync(join(dir, "server.pem"))).fingerprint256;
  const install = (dir: string) => {
    copyFileSync(join(dir, "server.pem"), join(live, "tls.crt"));
    copyFileSync(join(dir, "server.key"), join(live, "tls.key"));
  };
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sample(await scrape(setup.receiver.metricsPort), name, labels);

  before(async () => {
    makeCertificates(first);
    makeCertificates(renewed);
    install(first);
    setup = await startTestReceiver((picked) => ({
      SYSLOG_UDP_PORT: "0",
      SYSLOG_TCP_PORT: "0",
      SYSLOG_TLS_PORT: String(picked),
      SYSLOG_TLS_CERT_FILE: join(live, "tls.crt"),
      SYSLOG_TLS_KEY_FILE: join(live, "tls.key"),
      SYSLOG_TLS_RELOAD_SECONDS: "1",
    }));
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
    for (const dir of [first, renewed, live]) rmSync(dir, { recursive: true, force: true });
  });

  it("serves the renewed certificate to new connections without a restart, and exports its expiry", async () => {
    assert.equal(await servedCertificate(), fingerprintOf(first));
    const notAfter = (dir: string) =>
      Date.parse(new X509Certificate(readFileSync(join(dir, "server.pem"))).validTo) / 1000;
    assert.equal(
      await metric("postwatch_receiver_tls_certificate_expiry_timestamp_seconds"),
      notAfter(first),
    );

    install(renewed);
    await waitForMetrics(
      setup.receiver.metricsPort,
      (t) => sample(t, "postwatch_receiver_tls_reloads_total", { result: "ok" }) === 1,
      5000,
      "the renewed files loaded",
    );
    assert.equal(await servedCertificate(), fingerprintOf(renewed));
    assert.equal(
      await metric("postwatch_receiver_tls_certificate_expiry_timestamp_seconds"),
      notAfter(renewed),
    );
  });

  it("keeps serving the working certificate when the new files cannot be used", async () => {
    writeFileSync(join(live, "tls.crt"), "not a certificate\n");
    await waitForMetrics(
      setup.receiver.metricsPort,
      (t) => sample(t, "postwatch_receiver_tls_reloads_total", { result: "failed" }) === 1,
      5000,
      "the bad files refused",
    );
    assert.equal(await servedCertificate(), fingerprintOf(renewed));
  });
});
