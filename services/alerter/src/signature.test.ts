import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { SIGNATURE_HEADER, signatureHeaders, TIMESTAMP_HEADER } from "./signature.js";

describe("webhook signatures", () => {
  const secret = "0123456789abcdef-test-secret";
  const body = JSON.stringify({
    rule: "sasl_bruteforce",
    key: { type: "client_ip", value: "176.103.49.30" },
  });

  it("signs the timestamp and the body, as the documented openssl check computes it", () => {
    const headers = signatureHeaders(secret, body, 1_764_000_000_123);
    assert.equal(headers[TIMESTAMP_HEADER], "1764000000");
    // docs/contracts.md: printf '%s.%s' "$timestamp" "$body" | openssl dgst -sha256 -hmac "$secret"
    const expected = execFileSync("openssl", ["dgst", "-sha256", "-hmac", secret], {
      input: `1764000000.${body}`,
      encoding: "utf8",
    })
      .trim()
      .split(" ")
      .pop();
    assert.equal(headers[SIGNATURE_HEADER], `sha256=${expected}`);
  });

  it("changes with the body, the time and the secret", () => {
    const base = signatureHeaders(secret, body, 1_764_000_000_000)[SIGNATURE_HEADER];
    assert.notEqual(signatureHeaders(secret, `${body} `, 1_764_000_000_000)[SIGNATURE_HEADER], base);
    assert.notEqual(signatureHeaders(secret, body, 1_764_000_001_000)[SIGNATURE_HEADER], base);
    assert.notEqual(signatureHeaders(`${secret}x`, body, 1_764_000_000_000)[SIGNATURE_HEADER], base);
  });
});
