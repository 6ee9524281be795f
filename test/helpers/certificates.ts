/** Test-only X.509 material, made with openssl: nothing here is ever used outside a test. */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificate {
  /** Files `<file>.pem` and `<file>.key` in the directory. */
  file: string;
  commonName: string;
  /** subjectAltName DNS entries, if any. */
  dnsNames?: readonly string[];
}

const DEFAULT_CERTIFICATES: readonly TestCertificate[] = [
  { file: "server", commonName: "localhost" },
  { file: "client", commonName: "mx-tls" },
];

/**
 * A CA (`ca.pem`) and certificates signed by it: by default a server certificate for localhost and
 * a client certificate for mx-tls; `extra` adds more.
 */
export function makeCertificates(dir: string, extra: readonly TestCertificate[] = []): void {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=postwatch test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  for (const { file, commonName, dnsNames } of [...DEFAULT_CERTIFICATES, ...extra]) {
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${commonName}`,
      "-keyout",
      `${file}.key`,
      "-out",
      `${file}.csr`,
    );
    const extensions: string[] = [];
    if (dnsNames?.length) {
      writeFileSync(
        join(dir, `${file}.ext`),
        `subjectAltName=${dnsNames.map((name) => `DNS:${name}`).join(",")}\n`,
      );
      extensions.push("-extfile", `${file}.ext`);
    }
    openssl(
      "x509",
      "-req",
      "-in",
      `${file}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${file}.pem`,
      ...extensions,
    );
  }
}
