import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeCertificates } from "../../../test/helpers/certificates.js";
import { filesVersion, readTlsCredentials, watchTlsCredentials } from "./tls-credentials.js";

describe("TLS credentials", () => {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-tls-credentials-"));
  const files = { certFile: join(dir, "server.pem"), keyFile: join(dir, "server.key") };

  before(() => makeCertificates(dir));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a certificate with its key, and tells when it expires", () => {
    const credentials = readTlsCredentials(files);
    const certificate = new X509Certificate(readFileSync(files.certFile));
    assert.equal(credentials.notAfterMs, Date.parse(certificate.validTo));
    assert.equal(credentials.subject, "CN=localhost");
    assert.equal(credentials.context.ca, undefined);
  });

  it("names the file it cannot use", () => {
    assert.throws(
      () => readTlsCredentials({ ...files, certFile: join(dir, "nope.pem") }),
      /cannot read .*nope\.pem/,
    );
    assert.throws(
      () => readTlsCredentials({ ...files, keyFile: join(dir, "client.key") }),
      /client\.key is not the key of .*server\.pem/,
    );
    assert.throws(
      () => readTlsCredentials({ ...files, certFile: join(dir, "server.key") }),
      /is not a PEM certificate/,
    );
  });

  it("hands over renewed files, reports a bad change, and tries again when they change again", async () => {
    const live = mkdtempSync(join(tmpdir(), "postwatch-tls-watch-"));
    const watched = { certFile: join(live, "tls.crt"), keyFile: join(live, "tls.key") };
    const install = (pem: string, key: string) => {
      copyFileSync(join(dir, pem), watched.certFile);
      copyFileSync(join(dir, key), watched.keyFile);
    };
    install("server.pem", "server.key");
    const seen: string[] = [];
    const stop = watchTlsCredentials(
      watched,
      20,
      (credentials) => seen.push(`ok ${credentials.subject}`),
      (error) =>
        seen.push(`failed ${error.message.includes("is not the key of") ? "key mismatch" : error.message}`),
    );
    const settle = () => new Promise((resolve) => setTimeout(resolve, 120));
    try {
      await settle();
      assert.deepEqual(seen, [], "nothing changed");
      const before = filesVersion(watched);
      writeFileSync(watched.keyFile, readFileSync(join(dir, "client.key"))); // half-done renewal
      await settle();
      install("client.pem", "client.key");
      await settle();
      assert.notEqual(filesVersion(watched), before);
      assert.deepEqual(seen, ["failed key mismatch", "ok CN=mx-tls"]);
    } finally {
      stop();
      rmSync(live, { recursive: true, force: true });
    }
  });
});
