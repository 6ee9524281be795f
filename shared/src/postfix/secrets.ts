/**
 * Credentials in debug output: `AUTH PLAIN <base64>` is `authzid\0authcid\0password` in clear, and a
 * LOGIN exchange sends user name and password as lone base64 lines after `334` challenges. Nothing
 * that could be one of those may leave the parser, whatever the event kind.
 */

const REDACTED = "[redacted]";

/**
 * Mechanisms whose initial response can carry a password, a bearer token or a user name. AUTH starts
 * a word, or a line of pipelined input, where it follows an escaped `\r\n` (no word boundary).
 */
const AUTH_COMMAND =
  /(?:\b|(?<=\\r\\n))(AUTH {1,8}(?:PLAIN|LOGIN|XOAUTH2?|OAUTHBEARER|NTLM|GSSAPI|EXTERNAL|ANONYMOUS|CRAM-MD5|DIGEST-MD5|SCRAM-SHA-[0-9A-Z-]{1,12}) {1,8})[A-Za-z0-9+/]+=*/gi;

/** `smtpd -v` logs the initial response again as `xsasl_*_server_first: ... init_response <base64>`. */
const INIT_RESPONSE = /\binit_response [A-Za-z0-9+/]+=*/g;

/**
 * A client payload that is one base64-looking token, in `Read N chars:` / `Write N chars:` TLS debug
 * or `<`/`>` SMTP debug lines: without session state a LOGIN password cannot be told from other
 * tokens, so every such token goes. `??` is how some syslog paths render the CRLF.
 */
const LONE_TOKEN =
  /(\b(?:Read|Write) \d{1,9} chars: |(?:^|\s)[<>] [^\s[\]]{0,255}\[[^\s\]]{0,64}\](?::\d{1,5})?: )([A-Za-z0-9+/]{2,}={0,2})(?=[?\r\n]*$)/;

/**
 * Attribute values in Postfix's inter-daemon debug output (debug.ts): tlsmgr hands smtpd its TLS
 * session-ticket key (`keybuf`) and PRNG seed as base64, one line after the attribute's name, so a
 * line alone cannot tell a key from a harmless value. Every long base64-shaped value goes; names,
 * numbers and words (`anvil_protocol`, `127.0.0.1:25:192.0.2.1`) stay. Whole syslog lines (alert
 * samples) are matched after their tag's `: `.
 */
const ATTRIBUTE_VALUE = /(^|: )(input attribute value: |send attr [\w.-]{1,64} = )[A-Za-z0-9+/]{16,}={0,2}$/;

/**
 * `smtpd -v` (or `debug_peer_list` with a verbose level) logs what Cyrus SASL decoded from each
 * client response in clear (xsasl_cyrus_server.c): for AUTH LOGIN, the user name, then the password.
 */
const DECODED_RESPONSE = /\b(decoded response: ).*$/;

/**
 * `improper command pipelining after EHLO from <ep>: AUTH LOGIN\r\nYWRtaW4=\r\ncGFzcw==\r\n`:
 * smtpd logs the input the client sent ahead, CR LF escaped, so a pipelined LOGIN exchange puts
 * the user name and password in the warning, each a lone base64 token between the separators (the
 * first right after the `: `, when the client sent its responses before the server asked).
 */
const PIPELINED_TOKEN =
  /(\\r\\n)([A-Za-z0-9+/]{2,}={0,2})(?=\\r\\n|$)|(: )([A-Za-z0-9+/]{2,}={0,2})(?=\\r\\n)/g;

/** Bare SMTP verbs are base64-shaped too, and are exactly what a reader of the debug output needs. */
const SMTP_VERB = /^(?:QUIT|RSET|NOOP|DATA|HELP|STARTTLS|TURN|ATRN)$/i;

/**
 * Text every pattern above needs, one alternative per pattern: a line without any has nothing to
 * redact, and one scan spares most lines the six replacements (the receiver redacts every line it
 * publishes). Each alternative is as narrow as its pattern: a `<` or `>` only after whitespace, as
 * LONE_TOKEN has it (an `<address> ` is no debug line, and a tenth of all lines carry one), and only
 * AUTH is case-insensitive. Starting on rarer characters (`_response`, not `init_response`) made the
 * scan a quarter cheaper. secrets.test.ts checks that it lets every shape through.
 */
const MAY_HOLD_SECRET = /(?:^|\s)[<>] |[aA][uU][tT][hH] |_response |attr|d response: |chars: |\\r\\n/;

export function redactSecrets(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text;
  const out = text
    .replace(AUTH_COMMAND, (_match, command: string) => command + REDACTED)
    .replace(INIT_RESPONSE, `init_response ${REDACTED}`)
    .replace(ATTRIBUTE_VALUE, `$1$2${REDACTED}`)
    .replace(DECODED_RESPONSE, `$1${REDACTED}`);
  return out
    .replace(LONE_TOKEN, (match, prefix: string, token: string) =>
      SMTP_VERB.test(token) ? match : prefix + REDACTED,
    )
    .replace(PIPELINED_TOKEN, (match, ...groups: (string | undefined)[]) => {
      const [afterLine, lineToken, afterColon, firstToken] = groups;
      const token = lineToken ?? firstToken ?? "";
      return SMTP_VERB.test(token) ? match : (afterLine ?? afterColon ?? "") + REDACTED;
    });
}

const AUTH_INITIAL = /(?:\b|(?<=\\r\\n))AUTH {1,8}(PLAIN|LOGIN) {1,8}([A-Za-z0-9+/]+=*)/i;
const MAX_USERNAME = 256;

/**
 * The user name in an `AUTH PLAIN` (authcid, else authzid) or `AUTH LOGIN` initial response. A PLAIN
 * payload cut before the second NUL yields nothing: the name could be truncated.
 */
export function authUsername(text: string): string | undefined {
  const match = AUTH_INITIAL.exec(text);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[2] ?? "", "base64").toString("utf8");
  if ((match[1] ?? "").toUpperCase() === "LOGIN") return plausibleName(decoded);
  const parts = decoded.split("\0", 3);
  if (parts.length < 3) return undefined;
  return plausibleName(parts[1] || parts[0] || "");
}

function plausibleName(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_USERNAME) return undefined;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xfffd) return undefined;
  }
  return name;
}
