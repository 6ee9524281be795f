/**
 * The syslog listener's TLS credentials, read again when their files change. cert-manager and ACME
 * clients renew certificates in place (Kubernetes swaps a mounted Secret's files), and a receiver
 * that kept the old certificate would refuse every TLS sender the day it expired. The files are
 * polled (a Secret update is a symlink swap that file watchers miss); a bad new file keeps the
 * working credentials and says why.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { SecureContextOptions } from "node:tls";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Client certificates must be signed by this CA (SYSLOG_TLS_CA_FILE). */
  caFile?: string;
}

export interface TlsCredentials {
  context: SecureContextOptions;
  /** The server certificate's notAfter, for the expiry gauge. */
  notAfterMs: number;
  subject: string;
}

/** Reads and checks the files; throws an Error naming the file it cannot use. */
export function readTlsCredentials(files: TlsFiles): TlsCredentials {
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const cert = read(files.certFile);
  const key = read(files.keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`${files.certFile} is not a PEM certificate: ${(error as Error).message}`);
  }
  if (!certificate.checkPrivateKey(privateKeyOf(key, files.keyFile)))
    throw new Error(`${files.keyFile} is not the key of ${files.certFile}`);
  return {
    context: { cert, key, ...(files.caFile ? { ca: read(files.caFile) } : {}) },
    notAfterMs: Date.parse(certificate.validTo),
    subject: certificate.subject.replaceAll("\n", ", "),
  };
}

function privateKeyOf(pem: Buffer, path: string) {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${path} is not a PEM private key: ${(error as Error).message}`);
  }
}

/** What identifies the files' current contents without reading them: inode, size, mtime. */
export function filesVersion(files: TlsFiles): string {
  return [files.certFile, files.keyFile, files.caFile]
    .filter((path): path is string => path !== undefined)
    .map((path) => {
      try {
        const stat = statSync(path);
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      } catch {
        return "missing";
      }
    })
    .join("|");
}

/**
 * Checks the files every `intervalMs` and hands over new credentials when they changed; a change
 * that cannot be used goes to `onError` and is tried again only when the files change again.
 * Returns the function that stops watching.
 */
export function watchTlsCredentials(
  files: TlsFiles,
  intervalMs: number,
  onChange: (credentials: TlsCredentials) => void,
  onError: (error: Error) => void,
): () => void {
  let seen = filesVersion(files);
  const timer = setInterval(() => {
    const now = filesVersion(files);
    if (now === seen) return;
    seen = now;
    let credentials: TlsCredentials;
    try {
      credentials = readTlsCredentials(files);
    } catch (error) {
      onError(error as Error);
      return;
    }
    onChange(credentials);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
