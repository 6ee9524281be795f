import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadAlerterConfig } from "./config.js";

const NATS = { NATS_URL: "nats://127.0.0.1:4222" };

describe("alerter config", () => {
  it("takes a webhook secret for the generic webhook", () => {
    const config = loadAlerterConfig({
      ...NATS,
      WEBHOOK_URL: "https://siem.example.net/postwatch",
      WEBHOOK_SECRET: "0123456789abcdef0123",
    });
    assert.equal(config.WEBHOOK_SECRET, "0123456789abcdef0123");
  });

  it("refuses a short secret, or one with no webhook to sign, without echoing it", () => {
    assert.throws(
      () =>
        loadAlerterConfig({ ...NATS, WEBHOOK_URL: "https://siem.example.net/", WEBHOOK_SECRET: "short-one" }),
      (error: Error) =>
        /WEBHOOK_SECRET: must be at least 16 characters/.test(error.message) &&
        !error.message.includes("short-one"),
    );
    assert.throws(
      () => loadAlerterConfig({ ...NATS, WEBHOOK_SECRET: "0123456789abcdef0123" }),
      /WEBHOOK_SECRET: signs WEBHOOK_URL's requests: set WEBHOOK_URL too/,
    );
    assert.throws(
      () => loadAlerterConfig({ ...NATS, WEBHOOK_AUTHORIZATION: "Bearer tok-123456" }),
      (error: Error) =>
        /WEBHOOK_AUTHORIZATION: is sent with WEBHOOK_URL's requests/.test(error.message) &&
        !error.message.includes("tok-123456"),
    );
  });
});
