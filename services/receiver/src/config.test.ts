import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadReceiverConfig } from "./config.js";

const NATS = { NATS_URL: "nats://127.0.0.1:4222" };

describe("receiver config", () => {
  it("allows every source and 1024 connections per listener by default", () => {
    const config = loadReceiverConfig(NATS);
    assert.deepEqual(config.SYSLOG_ALLOWED_SOURCES, []);
    assert.equal(config.SYSLOG_MAX_CONNECTIONS, 1024);
    assert.equal(config.SYSLOG_MAX_CONNECTIONS_PER_SOURCE, 32);
    assert.equal(config.SYSLOG_IDLE_TIMEOUT_SECONDS, 3600);
    assert.equal(config.SYSLOG_FRAME_TIMEOUT_SECONDS, 30);
  });

  it("reads the allowed sources as ranges", () => {
    const config = loadReceiverConfig({ ...NATS, SYSLOG_ALLOWED_SOURCES: "10.0.0.0/8, ::1" });
    assert.deepEqual(
      config.SYSLOG_ALLOWED_SOURCES.map((r) => `${r.address}/${r.prefix}`),
      ["10.0.0.0/8", "::1/128"],
    );
  });

  it("fails fast naming the variable and the item it cannot read", () => {
    assert.throws(
      () => loadReceiverConfig({ ...NATS, SYSLOG_ALLOWED_SOURCES: "10.0.0.0/8, mx1.example.org" }),
      /SYSLOG_ALLOWED_SOURCES: "mx1\.example\.org" is not an IP address or CIDR range/,
    );
    assert.throws(
      () =>
        loadReceiverConfig({
          ...NATS,
          SYSLOG_TLS_CA_FILE: "/ca.pem",
          SYSLOG_TLS_PERMITTED_PEERS: "mx1, mx*",
        }),
      /SYSLOG_TLS_PERMITTED_PEERS: "mx\*" is not a host name/,
    );
    assert.throws(
      () => loadReceiverConfig({ ...NATS, SYSLOG_TLS_PERMITTED_PEERS: "mx1.example.org" }),
      /SYSLOG_TLS_PERMITTED_PEERS: needs SYSLOG_TLS_CA_FILE/,
    );
    assert.throws(
      () => loadReceiverConfig({ ...NATS, SYSLOG_MAX_CONNECTIONS: "0" }),
      /SYSLOG_MAX_CONNECTIONS: must be > 0/,
    );
    assert.throws(
      () => loadReceiverConfig({ ...NATS, SYSLOG_PREFERRED_SOURCES: "mx1" }),
      /SYSLOG_PREFERRED_SOURCES: "mx1" is not an IP address/,
    );
    assert.throws(
      () => loadReceiverConfig({ ...NATS, SYSLOG_IDLE_TIMEOUT_SECONDS: "-1" }),
      /SYSLOG_IDLE_TIMEOUT_SECONDS: must be 0 \(never\) or more/,
    );
    assert.throws(
      () => loadReceiverConfig({ ...NATS, SYSLOG_FRAME_TIMEOUT_SECONDS: "soon" }),
      /SYSLOG_FRAME_TIMEOUT_SECONDS: must be a number of seconds/,
    );
    assert.throws(
      () => loadReceiverConfig({ ...NATS, SYSLOG_MAX_CONNECTIONS_PER_SOURCE: "0" }),
      /SYSLOG_MAX_CONNECTIONS_PER_SOURCE: must be > 0/,
    );
  });
});
