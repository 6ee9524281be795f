/**
 * `SYSLOG_TLS_PERMITTED_PEERS`, as rsyslog's `PermittedPeers`: a CA often signs certificates for
 * every host of an organisation, so a verified certificate alone does not say "a mail server".
 * A client's names are its certificate's DNS subjectAltNames, or its common name when it has none
 * (RFC 6125). Pure: the listener hands in the certificate and applies the answer.
 */

/** `mx1.example.org, *.mail.example.org` → lower-case patterns. Throws naming the item it cannot read. */
export function parsePeerPatterns(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .filter((item) => item !== "")
    .map((item) => {
      const pattern = item.toLowerCase();
      const name = pattern.startsWith("*.") ? pattern.slice(2) : pattern;
      if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name)) {
        throw new Error(
          `"${item}" is not a host name or a *.domain pattern (e.g. mx1.example.org, *.mail.example.org)`,
        );
      }
      return pattern;
    });
}

/** The names a peer certificate carries, as Node's getPeerCertificate() describes it. */
export function certificateNames(certificate: {
  subject?: { CN?: string | string[] };
  subjectaltname?: string;
}): string[] {
  const dnsNames = (certificate.subjectaltname ?? "")
    .split(", ")
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4).toLowerCase());
  if (dnsNames.length > 0) return dnsNames;
  const commonName = certificate.subject?.CN;
  return (Array.isArray(commonName) ? commonName : commonName ? [commonName] : []).map((name) =>
    name.toLowerCase(),
  );
}

/** Whether any of a peer's names matches a pattern; `*.` stands for exactly one leftmost label. */
export function peerPermitted(patterns: readonly string[]): (names: readonly string[]) => boolean {
  const exact = new Set(patterns.filter((pattern) => !pattern.startsWith("*.")));
  const parents = new Set(
    patterns.filter((pattern) => pattern.startsWith("*.")).map((pattern) => pattern.slice(2)),
  );
  return (names) =>
    names.some((name) => {
      if (exact.has(name)) return true;
      const dot = name.indexOf(".");
      return dot > 0 && parents.has(name.slice(dot + 1));
    });
}
