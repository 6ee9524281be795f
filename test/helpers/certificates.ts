/** Test-only X.509 material, made with openssl: nothing here is ever used outside a test. */
import { execFileSync } from "node:child_process";

/** A CA, and a server and a client certificate signed by it, made with openssl for this test only. */
export function makeCertificates(dir: string): void {
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
  for (const name of ["server", "client"]) {
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${name === "server" ? "localhost" : "mx-tls"}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    );
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${name}.pem`,
    );
  }
}
