import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { PostfixEvent } from "../contracts/events.js";
import { parsePostfix, redactSecrets } from "./parse.js";
import { body, record } from "./testing.js";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const parse = (message: string): PostfixEvent | null => parsePostfix(record("postfix/smtpd", message));

describe("AUTH payloads in debug lines", () => {
  test("seed 002: the PLAIN user is kept, the payload (cut at 40 chars) is not", () => {
    const event = parse("Read 45 chars: AUTH PLAIN AGFkbWluQGZpcGljay5jb20Ad2lsb");
    assert.deepEqual(body(event), {
      kind: "debug",
      text: "Read 45 chars: AUTH PLAIN [redacted]",
      authUsername: "admin@fipick.com",
    });
  });

  test("debug_peer_list conversation: authcid, else authzid", () => {
    const event = parse(`< unknown[192.0.2.1]: AUTH PLAIN ${b64("\0user\0pass")}`);
    assert.deepEqual(body(event), {
      kind: "debug",
      text: "< unknown[192.0.2.1]: AUTH PLAIN [redacted]",
      authUsername: "user",
      client: { host: "unknown", ip: "192.0.2.1" },
    });
    const authzOnly = parse(`< unknown[192.0.2.1]: AUTH PLAIN ${b64("admin\0\0secret")}`);
    assert.equal(authzOnly?.kind === "debug" && authzOnly.authUsername, "admin");
  });

  test("a PLAIN payload cut inside the user name yields no name", () => {
    const cut = b64("\0a-very-long-user-name@example.org\0pw").slice(0, 16);
    const event = parse(`Read 25 chars: AUTH PLAIN ${cut}`);
    assert.deepEqual(body(event), { kind: "debug", text: "Read 25 chars: AUTH PLAIN [redacted]" });
  });

  test("AUTH LOGIN's initial response is the user name", () => {
    const event = parse(`< unknown[192.0.2.1]: auth login ${b64("alice@example.org")}`);
    assert.equal(event?.kind === "debug" && event.text, "< unknown[192.0.2.1]: auth login [redacted]");
    assert.equal(event?.kind === "debug" && event.authUsername, "alice@example.org");
  });

  test("lone base64 answers to 334 challenges are redacted, SMTP verbs and replies are not", () => {
    assert.equal(redactSecrets("Read 14 chars: cGFzc3dvcmQ="), "Read 14 chars: [redacted]");
    assert.equal(redactSecrets("Read 14 chars: cGFzc3dvcmQ=??"), "Read 14 chars: [redacted]??");
    assert.equal(redactSecrets("< unknown[192.0.2.1]: dXNlcg=="), "< unknown[192.0.2.1]: [redacted]");
    assert.equal(
      redactSecrets("> mx.example[203.0.113.5]:25: cGFzcw=="),
      "> mx.example[203.0.113.5]:25: [redacted]",
    );
    assert.equal(redactSecrets("Read 6 chars: QUIT??"), "Read 6 chars: QUIT??");
    assert.equal(
      redactSecrets("> unknown[192.0.2.1]: 334 VXNlcm5hbWU6"),
      "> unknown[192.0.2.1]: 334 VXNlcm5hbWU6",
    );
    assert.equal(redactSecrets("Read 16 chars: EHLO localhost??"), "Read 16 chars: EHLO localhost??");
  });

  test("whole syslog lines, as alert samples carry them", () => {
    assert.equal(
      redactSecrets(
        "Feb 23 11:57:43 postfix/smtpd[32451]: Read 45 chars: AUTH PLAIN AGFkbWluQGZpcGljay5jb20Ad2lsb",
      ),
      "Feb 23 11:57:43 postfix/smtpd[32451]: Read 45 chars: AUTH PLAIN [redacted]",
    );
    assert.equal(
      redactSecrets("Feb 23 11:57:43 mx1 postfix/smtpd[32451]: < unknown[192.0.2.1]: cGFzc3dvcmQ="),
      "Feb 23 11:57:43 mx1 postfix/smtpd[32451]: < unknown[192.0.2.1]: [redacted]",
    );
  });

  test("other mechanisms and smtpd -v's init_response", () => {
    assert.equal(
      redactSecrets("< x[192.0.2.1]: AUTH XOAUTH2 dXNlcj1h"),
      "< x[192.0.2.1]: AUTH XOAUTH2 [redacted]",
    );
    assert.equal(
      redactSecrets("xsasl_cyrus_server_first: sasl_method PLAIN, init_response AHVzZXIAcGFzcw=="),
      "xsasl_cyrus_server_first: sasl_method PLAIN, init_response [redacted]",
    );
    assert.equal(
      redactSecrets("AUTH command rate limit exceeded: 6 from unknown[192.0.2.63]"),
      "AUTH command rate limit exceeded: 6 from unknown[192.0.2.63]",
    );
  });

  test("warnings and unparsed lines are redacted too", () => {
    const payload = b64("\0bob\0hunter2-secret");
    const pipelining = parse(
      `improper command pipelining after EHLO from unknown[192.0.2.8]: AUTH PLAIN ${payload}\\r\\n`,
    );
    assert.ok(pipelining?.kind === "warning" && !pipelining.text.includes(payload));
    const unparsed = parse(`never seen: AUTH PLAIN ${payload}`);
    assert.deepEqual(body(unparsed), { kind: "unparsed", text: "never seen: AUTH PLAIN [redacted]" });
  });
});

describe("credentials a real Postfix 3.7 logged in clear or in pipelined input", () => {
  // From test/integration/postfix-scenario.ts's hostile clients, as Postfix wrote them.
  test("smtpd -v's `decoded response:` (AUTH LOGIN's user name, then its password)", () => {
    assert.deepEqual(body(parse("xsasl_cyrus_server_next: decoded response: Sekrit-LOGIN-pw")), {
      kind: "debug",
      text: "xsasl_cyrus_server_next: decoded response: [redacted]",
    });
  });

  test("a LOGIN exchange sent ahead of the server's replies, in the pipelining warning", () => {
    const event = parse(
      "improper command pipelining after EHLO from localhost[127.0.0.1]: AUTH PLAIN !!!notbase64!!!\\r\\nAUTH LOGIN\\r\\nYWRtaW4=\\r\\ncGFzcw==\\r\\nAUTH CRAM-MD5\\r\\n*\\r\\nAUTH XOAUTH2 abc\\r\\nQUIT",
    );
    assert.equal(
      event?.kind === "warning" && event.text,
      "improper command pipelining after EHLO from localhost[127.0.0.1]: AUTH PLAIN !!!notbase64!!!\\r\\nAUTH LOGIN\\r\\n[redacted]\\r\\n[redacted]\\r\\nAUTH CRAM-MD5\\r\\n*\\r\\nAUTH XOAUTH2 [redacted]\\r\\nQUIT",
    );
  });
});

describe("key material in Postfix's inter-daemon debug output", () => {
  // Logged by a real Postfix 3.7 smtpd with debug_peer_list (test/integration/postfix-scenario.ts):
  // tlsmgr's PRNG seed and session-ticket key, each on the line after its attribute's name.
  const seed = "1Wmx1sZgB0QROdLzxwR6I8MBrlZ0Wbp9Ys8RYOrsq4Y=";
  const ticketKey =
    "JrhE8EdmB7HNrtdRdKoTkm354mYVPfjX5T1CO1LD7wCd45p59AnxRXyGjnpweNRbr1dxMHAwDr7TyhEy2AgEL5R2ejsf6xngiye0itkOWVwR9ghrAAAAAA==";

  test("base64 attribute values are redacted, in debug events", () => {
    for (const value of [seed, ticketKey]) {
      assert.deepEqual(body(parse(`input attribute value: ${value}`)), {
        kind: "debug",
        text: "input attribute value: [redacted]",
      });
    }
    assert.deepEqual(body(parse(`send attr keybuf = ${ticketKey}`)), {
      kind: "debug",
      text: "send attr keybuf = [redacted]",
    });
    assert.equal(
      redactSecrets(`Nov 27 02:46:34 mx postfix/smtpd[10092]: input attribute value: ${seed}`),
      "Nov 27 02:46:34 mx postfix/smtpd[10092]: input attribute value: [redacted]",
    );
  });

  test("names, numbers, words and addresses stay", () => {
    for (const text of [
      "private/tlsmgr: wanted attribute: keybuf",
      "input attribute name: keybuf",
      "input attribute value: anvil_protocol",
      "input attribute value: 0",
      "send attr ident = 127.0.0.1:2588:127.0.0.1",
      "send attr keyname = [data 0 bytes]",
    ]) {
      assert.deepEqual(body(parse(text)), { kind: "debug", text });
    }
  });
});

describe("no event ever carries the password or the payload", () => {
  const user = fc.stringMatching(/^[a-z]{3,12}(@example\.org)?$/);
  const password = fc.stringMatching(/^Pw[A-Za-z0-9!#%&*]{8,24}$/);
  const shape = fc.constantFrom(
    (p: string) => `Read ${p.length + 13} chars: AUTH PLAIN ${p}`,
    (p: string) => `Read ${p.length + 13} chars: AUTH PLAIN ${p.slice(0, 29)}`,
    (p: string) => `< unknown[192.0.2.1]: AUTH PLAIN ${p}`,
    (p: string) => `< unknown[192.0.2.1]: ${p}`,
    (p: string) => `Read ${p.length + 2} chars: ${p}??`,
    (p: string) => `> mx.example.net[203.0.113.5]:25: AUTH PLAIN ${p}`,
    (p: string) => `xsasl_dovecot_server_first: sasl_method PLAIN, init_response ${p}`,
    (p: string) => `NOQUEUE: improper command pipelining after EHLO from unknown[192.0.2.1]: AUTH PLAIN ${p}`,
    (p: string) => `anything at all: auth plain ${p}`,
    (p: string) =>
      `improper command pipelining after EHLO from unknown[192.0.2.1]: AUTH LOGIN\\r\\n${p}\\r\\nQUIT\\r\\n`,
    (p: string) => `improper command pipelining after AUTH from unknown[192.0.2.1]: ${p}\\r\\n${p}`,
    (p: string) => `xsasl_cyrus_server_next: decoded response: ${p}`,
    (p: string) =>
      `improper command pipelining after EHLO from unknown[192.0.2.1]: NOOP\\r\\nAUTH PLAIN ${p}\\r\\n`,
  );

  test("PLAIN and LOGIN payloads, whole or cut, in every line shape", () => {
    fc.assert(
      fc.property(user, password, shape, fc.boolean(), (name, secret, line, plain) => {
        const payload = plain ? b64(`\0${name}\0${secret}`) : b64(secret);
        const json = JSON.stringify(parse(line(payload)));
        assert.ok(!json.includes(secret), json);
        assert.ok(!json.includes(payload.slice(0, 12)), json);
      }),
    );
  });
});

describe("the scan that spares lines without a secret lets every secret through", () => {
  const secret = b64("Pw-Sekrit-4711!");
  // Every shape the redaction knows, each as Postfix (or a client, for AUTH's case) writes it.
  const shapes = [
    ...["AUTH", "auth", "Auth", "aUtH"].map((auth) => `${auth} PLAIN ${secret}`),
    `AUTH   LOGIN  ${secret}`,
    `AUTH XOAUTH2 ${secret}`,
    `sasl_method PLAIN, init_response ${secret}`,
    `input attribute value: ${secret}`,
    `send attr keybuf = ${secret}`,
    `decoded response: ${secret}`,
    `Read 20 chars: ${secret}`,
    `Write 20 chars: ${secret}??`,
    `< unknown[192.0.2.1]: ${secret}`,
    `> mx.example.net[203.0.113.5]:25: ${secret}`,
    `improper command pipelining after EHLO from unknown[192.0.2.1]: AUTH LOGIN\\r\\n${secret}\\r\\n`,
    `improper command pipelining after EHLO from unknown[192.0.2.1]: ${secret}\\r\\nQUIT`,
    `improper command pipelining after EHLO from unknown[192.0.2.1]: NOOP\\r\\n${secret}\\r\\n`,
    `improper command pipelining after EHLO from unknown[192.0.2.1]: EHLO x\\r\\nAUTH PLAIN ${secret}`,
  ];
  // Where a shape can sit: alone (an event's text), after a queue ID or a whole syslog header (an
  // event's line, an alert sample), and for `<`/`>` after any whitespace LONE_TOKEN takes.
  const places = [
    (shape: string) => shape,
    (shape: string) => `4B26154E95: ${shape}`,
    (shape: string) => `Nov 27 02:46:34 mx postfix/smtpd[10092]: ${shape}`,
    (shape: string) => `2026-11-03T00:00:00.000981+00:00 mx1 postfix/smtpd[2201]: ${shape}`,
  ];
  const conversationPlaces = ["\t", "\u00a0", "\u3000", "x:\t"].map(
    (before) => (shape: string) => `${before}${shape}`,
  );

  test("in every place it can appear", () => {
    for (const shape of shapes) {
      const around = /^[<>] /.test(shape) ? [...places, ...conversationPlaces] : places;
      for (const place of around) {
        const text = place(shape);
        const redacted = redactSecrets(text);
        assert.ok(redacted.includes("[redacted]") && !redacted.includes(secret), JSON.stringify(text));
      }
    }
  });
});
