import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PostfixEvent } from "../contracts/events.js";
import { parsePostfix, splitProgram } from "./parse.js";
import { body, record } from "./testing.js";

function parse(message: string, program = "postfix/smtpd"): Record<string, unknown> | null {
  const event = parsePostfix(record(program, message));
  if (event !== null) PostfixEvent.parse(event);
  return body(event);
}

const client = (ip: string, host = "unknown", port?: number) =>
  port === undefined ? { host, ip } : { host, ip, port };

describe("program names", () => {
  test("daemon, service and instance come from the tag", () => {
    assert.deepEqual(splitProgram("postfix/smtpd"), { daemon: "smtpd" });
    assert.deepEqual(splitProgram("postfix/submission/smtpd"), { daemon: "smtpd", service: "submission" });
    assert.deepEqual(splitProgram("postfix/smtp-25/smtpd"), { daemon: "smtpd", service: "smtp-25" });
    assert.deepEqual(splitProgram("postfix-out/smtp"), { daemon: "smtp", instance: "postfix-out" });
    assert.deepEqual(splitProgram("postfix-in/submission/smtpd"), {
      daemon: "smtpd",
      service: "submission",
      instance: "postfix-in",
    });
    assert.deepEqual(splitProgram("postfix-example.com/smtpd"), {
      daemon: "smtpd",
      instance: "postfix-example.com",
    });
    assert.deepEqual(splitProgram("postfix/postfix-script"), { daemon: "postfix-script" });
  });

  test("RFC 5424 cuts the tag at the slash: the daemon is unknown, the line still parses", () => {
    assert.deepEqual(splitProgram("postfix"), { daemon: "unknown" });
    const event = parsePostfix(record("postfix", " connect from unknown[192.0.2.1]"));
    assert.equal(event?.daemon, "unknown");
    assert.equal(event?.kind, "connect");
  });

  test("other programs sharing mail.log give null", () => {
    for (const program of ["dovecot", "opendkim", "amavis", "postfixadmin", "postfix-", "policyd-spf"]) {
      assert.equal(parsePostfix(record(program, "connect from unknown[192.0.2.1]")), null, program);
    }
  });
});

describe("smtpd sessions", () => {
  test("connect, in every client notation", () => {
    assert.deepEqual(parse("connect from unknown[192.0.2.10]"), {
      kind: "connect",
      client: client("192.0.2.10"),
    });
    assert.deepEqual(parse("connect from mx.example.org[2001:db8::5]:2525"), {
      kind: "connect",
      client: client("2001:db8::5", "mx.example.org", 2525),
    });
    assert.deepEqual(parse("connect from unknown[unknown]"), { kind: "connect", client: client("unknown") });
    // Seed 000: the forum post stripped the address.
    assert.deepEqual(parse("connect from unknown[]"), { kind: "connect", client: client("") });
  });

  test("disconnect counters: ok/total, and a bare count means all succeeded", () => {
    assert.deepEqual(parse("disconnect from unknown[192.0.2.10] ehlo=1 auth=0/1 quit=1 commands=2/3"), {
      kind: "disconnect",
      commands: {
        ehlo: { ok: 1, total: 1 },
        auth: { ok: 0, total: 1 },
        quit: { ok: 1, total: 1 },
        commands: { ok: 2, total: 3 },
      },
      client: client("192.0.2.10"),
    });
  });

  test("lost connection, timeout, too many errors carry the stage", () => {
    assert.deepEqual(parse("lost connection after AUTH from unknown[192.0.2.10]"), {
      kind: "lost_connection",
      stage: "AUTH",
      client: client("192.0.2.10"),
    });
    assert.deepEqual(parse("NOQUEUE: lost connection after DATA (123 bytes) from unknown[192.0.2.10]"), {
      kind: "lost_connection",
      stage: "DATA",
      client: client("192.0.2.10"),
    });
    assert.deepEqual(parse("timeout after END-OF-MESSAGE from mx.example.net[198.51.100.2]"), {
      kind: "timeout",
      stage: "END-OF-MESSAGE",
      client: client("198.51.100.2", "mx.example.net"),
    });
    assert.deepEqual(parse("too many errors after RCPT from unknown[192.0.2.9]"), {
      kind: "too_many_errors",
      stage: "RCPT",
      client: client("192.0.2.9"),
    });
  });

  test("client= with SASL and XCLIENT fields", () => {
    assert.deepEqual(
      parse("4B1C31D6FA: client=unknown[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.org"),
      {
        queueId: "4B1C31D6FA",
        kind: "client",
        client: client("198.51.100.7"),
        saslMethod: "PLAIN",
        saslUsername: "alice@example.org",
      },
    );
    assert.deepEqual(
      parse(
        "4Jq8Zs0YtzzB1D: client=localhost[127.0.0.1], orig_queue_id=4B1C31D6FA, orig_client=pc.example[192.0.2.3]",
      ),
      {
        queueId: "4Jq8Zs0YtzzB1D",
        kind: "client",
        client: client("127.0.0.1", "localhost"),
        origClient: client("192.0.2.3", "pc.example"),
      },
    );
  });

  test("TLS in and out, with the newer key-exchange tail", () => {
    assert.deepEqual(
      parse(
        "Anonymous TLS connection established from unknown[192.0.2.7]: TLSv1.2 with cipher RC4-SHA (128/128 bits)",
      ),
      {
        kind: "tls",
        direction: "in",
        trust: "Anonymous",
        peer: client("192.0.2.7"),
        protocol: "TLSv1.2",
        cipher: "RC4-SHA",
        bits: 128,
      },
    );
    assert.deepEqual(
      parse(
        "Verified TLS connection established to mx.example.net[203.0.113.5]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
        "postfix/smtp",
      ),
      {
        kind: "tls",
        direction: "out",
        trust: "Verified",
        peer: client("203.0.113.5", "mx.example.net", 25),
        protocol: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        bits: 256,
      },
    );
  });
});

describe("SASL failures", () => {
  const failed = (rest: string) => parse(`warning: unknown[192.0.2.10]: SASL ${rest}`);

  test("base64 challenges are decoded, the mechanism upper-cased", () => {
    assert.deepEqual(failed("login authentication failed: UGFzc3dvcmQ6"), {
      kind: "sasl_auth_failed",
      mechanism: "LOGIN",
      reason: "Password:",
      client: client("192.0.2.10"),
    });
  });

  test("an empty reason, and reasons that are not base64, stay as logged", () => {
    assert.equal(failed("PLAIN authentication failed: ")?.reason, "");
    assert.equal(failed("PLAIN authentication failed:")?.reason, "");
    assert.equal(
      failed("PLAIN authentication failed: authentication failure")?.reason,
      "authentication failure",
    );
    assert.equal(
      failed("CRAM-MD5 authentication failed: (reason unavailable)")?.reason,
      "(reason unavailable)",
    );
  });

  test("Postfix 3.9's sasl_username suffix", () => {
    assert.deepEqual(
      failed("PLAIN authentication failed: authentication failure, sasl_username=alice@example.org"),
      {
        kind: "sasl_auth_failed",
        mechanism: "PLAIN",
        reason: "authentication failure",
        saslUsername: "alice@example.org",
        client: client("192.0.2.10"),
      },
    );
    assert.equal(failed("LOGIN authentication failed: , sasl_username=bob")?.saslUsername, "bob");
    // A real Postfix 3.7, when the client cancelled before naming anyone.
    const cancelled = failed(
      "PLAIN authentication failed: bad protocol / cancel, sasl_username=(unavailable)",
    );
    assert.equal(cancelled?.saslUsername, undefined);
    assert.equal(cancelled?.reason, "bad protocol / cancel");
  });

  test("Cyrus SASL's clientless line is a warning, so a failure is not counted twice", () => {
    assert.deepEqual(parse("warning: SASL authentication failure: Password verification failed"), {
      kind: "warning",
      text: "SASL authentication failure: Password verification failed",
    });
  });
});

describe("rejects", () => {
  test("smtpd RCPT reject with every field", () => {
    assert.deepEqual(
      parse(
        "NOQUEUE: reject: RCPT from unknown[198.51.100.9]: 554 5.7.1 <x@far.example>: Relay access denied; from=<a@b.example> to=<x@far.example> proto=ESMTP helo=<pc>",
      ),
      {
        kind: "reject",
        action: "reject",
        stage: "RCPT",
        smtpCode: 554,
        dsn: "5.7.1",
        reason: "<x@far.example>: Relay access denied",
        category: "relay_denied",
        client: client("198.51.100.9"),
        from: "a@b.example",
        to: "x@far.example",
        proto: "ESMTP",
        helo: "pc",
      },
    );
  });

  test("smtpd's access-map actions other than REJECT, as a real Postfix 3.7 logs them", () => {
    const action = (line: string) => {
      const event = parse(line);
      return event?.kind === "reject" ? [event.action, event.stage, event.reason, event.to] : event?.kind;
    };
    const tail = "from=<x@example.net> to=<t@example.org> proto=ESMTP helo=<client.example.net>";
    const from = "RCPT from localhost[127.0.0.1]:";
    assert.deepEqual(action(`NOQUEUE: warn: ${from} suspicious; ${tail}`), [
      "warn",
      "RCPT",
      "suspicious",
      "t@example.org",
    ]);
    assert.deepEqual(action(`NOQUEUE: info: ${from} noted; ${tail}`), [
      "info",
      "RCPT",
      "noted",
      "t@example.org",
    ]);
    assert.deepEqual(
      action(`NOQUEUE: hold: ${from} <t@example.org>: Recipient address held for review; ${tail}`),
      ["hold", "RCPT", "<t@example.org>: Recipient address held for review", "t@example.org"],
    );
  });

  test("postscreen's comma-separated attributes", () => {
    const event = parse(
      "NOQUEUE: reject: RCPT from [192.0.2.45]:51234: 550 5.7.1 Service unavailable; client [192.0.2.45] blocked using rbl.example; from=<a>, to=<b>, proto=ESMTP, helo=<c>",
      "postfix/postscreen",
    );
    assert.deepEqual(event && [event.client, event.from, event.to, event.proto, event.helo, event.category], [
      client("192.0.2.45", "", 51234),
      "a",
      "b",
      "ESMTP",
      "c",
      "rbl",
    ]);
  });

  test("queue-ID prefix, CONNECT stage with only proto", () => {
    const event = parse(
      "00ADB3C0899: reject: CONNECT from unknown[192.0.2.14]: 450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.14]; proto=SMTP",
    );
    assert.deepEqual(event, {
      queueId: "00ADB3C0899",
      kind: "reject",
      action: "reject",
      stage: "CONNECT",
      smtpCode: 450,
      dsn: "4.7.25",
      reason: "Client host rejected: cannot find your hostname, [192.0.2.14]",
      category: "client",
      client: client("192.0.2.14"),
      proto: "SMTP",
    });
  });

  test("cleanup milter-reject and header_checks", () => {
    assert.deepEqual(
      parse(
        "4B1C31D6FA: milter-reject: END-OF-MESSAGE from mx.example.net[198.51.100.3]: 5.7.1 Blocked by SpamAssassin; from=<> to=<c@example.org> proto=ESMTP helo=<mx.example.net>",
        "postfix/cleanup",
      ),
      {
        queueId: "4B1C31D6FA",
        kind: "reject",
        action: "milter-reject",
        stage: "END-OF-MESSAGE",
        dsn: "5.7.1",
        reason: "Blocked by SpamAssassin",
        category: "content",
        client: client("198.51.100.3", "mx.example.net"),
        from: "",
        to: "c@example.org",
        proto: "ESMTP",
        helo: "mx.example.net",
      },
    );
    const header = parse(
      "4B1C31D6FA: reject: header Subject: hi from you from unknown[192.0.2.47]; from=<a@b.example> to=<c@example.org> proto=ESMTP helo=<x>: 5.7.1 message content rejected",
      "postfix/cleanup",
    );
    assert.deepEqual(header && [header.stage, header.dsn, header.reason, header.client, header.helo], [
      "HEADER",
      "5.7.1",
      "message content rejected",
      client("192.0.2.47"),
      "x",
    ]);
  });

  test("categories", () => {
    const category = (reason: string, action = "reject") =>
      parse(
        `NOQUEUE: ${action}: RCPT from unknown[192.0.2.1]: 550 5.7.1 ${reason}; from=<a> to=<b> proto=ESMTP helo=<h>`,
      )?.category;
    assert.equal(category("<b>: Relay access denied"), "relay_denied");
    assert.equal(
      category("<b>: Recipient address rejected: User unknown in local recipient table"),
      "unknown_recipient",
    );
    assert.equal(category("<b>: Recipient address rejected: unknown user"), "unknown_recipient");
    assert.equal(
      category("Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"),
      "rbl",
    );
    assert.equal(category("<h>: Helo command rejected: need fully-qualified hostname"), "helo");
    assert.equal(category("<a>: Sender address rejected: Domain not found"), "sender");
    assert.equal(category("Client host rejected: cannot find your hostname"), "client");
    assert.equal(category("<b>: Recipient address rejected: Rate limit exceeded"), "rate_limit");
    assert.equal(category("<b>: Recipient address rejected: Greylisted"), "policy");
    assert.equal(category("Message rejected by policy service"), "policy");
    assert.equal(category("Message content rejected"), "content");
    assert.equal(category("Blocked", "milter-reject"), "content");
    assert.equal(category("<b>: Recipient address rejected: Access denied"), "other");
  });

  test("a hostile HELO with > inside stays whole", () => {
    const event = parse(
      "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <b>: Relay access denied; from=<a> to=<b> proto=ESMTP helo=<<script>>",
    );
    assert.equal(event?.helo, "<script>");
  });
});

describe("queue lifecycle", () => {
  test("queued, pickup, message-id, removed, expired", () => {
    assert.deepEqual(
      parse("4B1C31D6FA: from=<a@b.example>, size=18234, nrcpt=3 (queue active)", "postfix/qmgr"),
      {
        queueId: "4B1C31D6FA",
        kind: "queued",
        from: "a@b.example",
        size: 18234,
        nrcpt: 3,
      },
    );
    assert.deepEqual(parse("D2FAE20586: uid=0 from=<root>", "postfix/pickup"), {
      queueId: "D2FAE20586",
      kind: "pickup",
      uid: 0,
      from: "root",
    });
    assert.deepEqual(parse("4B1C31D6FA: message-id=<abc@example.org>", "postfix/cleanup"), {
      queueId: "4B1C31D6FA",
      kind: "message_id",
      messageId: "abc@example.org",
    });
    assert.deepEqual(parse("4B1C31D6FA: removed", "postfix/qmgr"), {
      queueId: "4B1C31D6FA",
      kind: "removed",
    });
    assert.deepEqual(
      parse("CD34EF56A1: from=<x@example.org>, status=expired, returned to sender", "postfix/qmgr"),
      {
        queueId: "CD34EF56A1",
        kind: "expired",
        from: "x@example.org",
        forced: false,
      },
    );
    assert.equal(
      parse("CD34EF56A1: from=<x>, status=force-expired, returned to sender", "postfix/qmgr")?.forced,
      true,
    );
  });

  test("bounce notices", () => {
    assert.deepEqual(parse("418621D80D: sender non-delivery notification: 6711A1D7B7", "postfix/bounce"), {
      queueId: "418621D80D",
      kind: "bounce_notice",
      notice: "non-delivery",
      recipient: "sender",
      bounceQueueId: "6711A1D7B7",
    });
    const notice = (text: string) => {
      const event = parse(`418621D80D: ${text}: 6711A1D7B7`, "postfix/bounce");
      return event && [event.notice, event.recipient];
    };
    assert.deepEqual(notice("sender delay notification"), ["delay", "sender"]);
    assert.deepEqual(notice("postmaster non-delivery notification"), ["non-delivery", "postmaster"]);
    assert.deepEqual(notice("sender delivery status notification"), ["success", "sender"]);
  });

  test("delivery with every field, and a re-queue under a new ID", () => {
    assert.deepEqual(
      parse(
        "4B1C31D6FA: to=<x@y.example>, orig_to=<alias@example.org>, relay=mx.y.example[203.0.113.5]:25, conn_use=2, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7E8F9A0B1C)",
        "postfix/smtp",
      ),
      {
        queueId: "4B1C31D6FA",
        kind: "delivery",
        to: "x@y.example",
        origTo: "alias@example.org",
        relay: "mx.y.example[203.0.113.5]:25",
        relayEndpoint: client("203.0.113.5", "mx.y.example", 25),
        delay: 1.2,
        delays: { beforeQmgr: 0.1, inQmgr: 0, connSetup: 0.5, transmission: 0.6 },
        dsn: "2.0.0",
        status: "sent",
        response: "250 2.0.0 Ok: queued as 7E8F9A0B1C",
        forwardedQueueId: "7E8F9A0B1C",
      },
    );
  });

  test("the response keeps its own parentheses (seed 003)", () => {
    const event = parse(
      "418621D80D: to=<xxx@medi**.com.cn>, relay=mxw**.com[198.x.x.x]:25, delay=51, delays=38/0/8.5/4.5, dsn=5.0.0, status=bounced (host mxw.mxhichina.com[198.11.189.243] said: 551 virus infected mail rejected (in reply to end of DATA command))",
      "postfix/smtp",
    );
    assert.equal(
      event?.response,
      "host mxw.mxhichina.com[198.11.189.243] said: 551 virus infected mail rejected (in reply to end of DATA command)",
    );
    // The forum post masked the relay's address: no endpoint, the relay stays as logged.
    assert.equal(event?.relayEndpoint, undefined);
    assert.equal(event?.relay, "mxw**.com[198.x.x.x]:25");
  });

  test("local delivery, relay none, soft_bounce", () => {
    const local = parse(
      "9A0B1C2D3E: to=<root@mx1.example.org>, orig_to=<root>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)",
      "postfix/local",
    );
    assert.deepEqual(local && [local.relay, local.relayEndpoint, local.response], [
      "local",
      undefined,
      "delivered to mailbox",
    ]);
    const soft = parse(
      "5C2D3E4F5A: to=<x@y.example>, relay=none, delay=1, delays=0/0/1/0, dsn=5.1.1, status=SOFTBOUNCE (unknown user)",
      "postfix/smtp",
    );
    assert.equal(soft?.status, "deferred");
  });
});

describe("postscreen and anvil", () => {
  test("actions, DNSBL rank, empty host", () => {
    const ps = (message: string) => parse(message, "postfix/postscreen");
    assert.deepEqual(ps("CONNECT from [192.0.2.45]:51234 to [198.51.100.1]:25"), {
      kind: "postscreen",
      action: "CONNECT",
      client: client("192.0.2.45", "", 51234),
    });
    assert.deepEqual(ps("DNSBL rank 3 for [192.0.2.52]:40002"), {
      kind: "postscreen",
      action: "DNSBL",
      client: client("192.0.2.52", "", 40002),
      dnsblRank: 3,
    });
    assert.equal(ps("PREGREET 11 after 0.15 from [192.0.2.51]:40001: EHLO x\\r\\n")?.action, "PREGREET");
    assert.equal(
      ps("COMMAND TIME LIMIT from [192.0.2.54]:40004 after CONNECT")?.action,
      "COMMAND TIME LIMIT",
    );
    assert.equal(
      ps("NON-SMTP COMMAND from [192.0.2.55]:40005 after CONNECT: GET / HTTP/1.1")?.action,
      "NON-SMTP COMMAND",
    );
    assert.equal(ps("PASS NEW [192.0.2.45]:51234")?.action, "PASS NEW");
  });

  test("anvil statistics", () => {
    assert.deepEqual(
      parse(
        "statistics: max connection rate 3/60s for (smtp:198.51.100.12) at Nov  3 10:12:01",
        "postfix/anvil",
      ),
      {
        kind: "anvil",
        statistic: "max connection rate",
        value: "3/60s",
        service: "smtp",
        clientIp: "198.51.100.12",
      },
    );
    const anvil = (ident: string) => {
      const event = parse(
        `statistics: max connection count 1 for (${ident}) at Nov 27 02:53:01`,
        "postfix/anvil",
      );
      return event?.kind === "anvil" ? [event.service, event.clientIp] : [];
    };
    // A master.cf entry `127.0.0.1:2525 inet ... smtpd` is the service `127.0.0.1:2525` (real Postfix 3.7).
    assert.deepEqual(anvil("127.0.0.1:45219:127.0.0.1"), ["127.0.0.1:45219", "127.0.0.1"]);
    assert.deepEqual(anvil("smtp:2001:db8::7"), ["smtp", "2001:db8::7"]);
    assert.deepEqual(anvil("[::1]:25:::1"), ["[::1]:25", "::1"]);
    assert.deepEqual(anvil("smtp:unknown"), ["smtp", "unknown"]);
    assert.deepEqual(parse("statistics: max cache size 5 at Nov  3 10:12:01", "postfix/anvil"), {
      kind: "anvil",
      statistic: "max cache size",
      value: "5",
    });
  });
});

describe("diagnostics and notices", () => {
  test("warnings name the client when they have one", () => {
    assert.deepEqual(parse("warning: non-SMTP command from unknown[192.0.2.5]: GET / HTTP/1.1"), {
      kind: "warning",
      text: "non-SMTP command from unknown[192.0.2.5]: GET / HTTP/1.1",
      client: client("192.0.2.5"),
    });
    assert.deepEqual(
      parse("warning: hostname bogus.example does not resolve to address 192.0.2.44")?.client,
      {
        host: "bogus.example",
        ip: "192.0.2.44",
      },
    );
    assert.deepEqual(parse("warning: lots of deferred mail, that is bad for performance", "postfix/qmgr"), {
      kind: "warning",
      text: "lots of deferred mail, that is bad for performance",
    });
  });

  test("error, fatal, panic", () => {
    assert.deepEqual(parse("error: open database /etc/postfix/access.db: No such file or directory"), {
      kind: "error",
      text: "open database /etc/postfix/access.db: No such file or directory",
    });
    assert.equal(parse("fatal: no SASL authentication mechanisms")?.kind, "fatal");
    assert.equal(parse("panic: myfree: corrupt or unallocated memory block")?.kind, "panic");
  });

  test("the smtp client's non-final trouble is a warning about the remote server", () => {
    assert.deepEqual(
      parse("connect to mx.example.net[203.0.113.6]:25: Connection timed out", "postfix/smtp"),
      {
        kind: "warning",
        text: "connect to mx.example.net[203.0.113.6]:25: Connection timed out",
        client: client("203.0.113.6", "mx.example.net", 25),
      },
    );
    assert.deepEqual(
      parse(
        "4B1C31D6FA: host mx.example.net[203.0.113.5] said: 450 4.7.1 Greylisted (in reply to RCPT TO command)",
        "postfix/smtp",
      )?.client,
      client("203.0.113.5", "mx.example.net"),
    );
  });

  test("routine lines are notices", () => {
    for (const text of [
      "daemon started -- version 3.7.11, configuration /etc/postfix",
      "terminating on signal 15",
      "reload -- version 3.7.11, configuration /etc/postfix",
      "starting the Postfix mail system",
      "initializing the server-side TLS engine",
    ]) {
      assert.deepEqual(parse(text, "postfix/master"), { kind: "notice", text });
    }
  });

  test("anything else Postfix says is kept as unparsed", () => {
    assert.deepEqual(parse("a shape nobody has seen"), { kind: "unparsed", text: "a shape nobody has seen" });
    assert.deepEqual(parse(""), { kind: "unparsed", text: "" });
  });
});

describe("debug", () => {
  test("TLS and BIO debug lines, hex dumps", () => {
    for (const text of [
      "SSL_accept:before/accept initialization",
      "read from 7FD690FE02C0 [7FD6910804C0] (11 bytes => -1 (0xFFFFFFFFFFFFFFFF))",
      "write to 7FD690FE02C0 [7FD69108DE80] (1030 bytes => 1030 (0x406))",
      "0000 16 03 03 01 06                                   .....",
      "0085 - <SPACES/NULLS>",
      "Read 16 chars: EHLO localhost??",
      "Write 42 chars: 435 4.7.8 Error: authentication failed: ",
    ]) {
      assert.deepEqual(parse(text), { kind: "debug", text });
    }
  });

  test("lines that name the peer carry it", () => {
    assert.deepEqual(parse('unknown[176.103.49.30]: TLS cipher list "ALL:+RC4:@STRENGTH"'), {
      kind: "debug",
      text: 'unknown[176.103.49.30]: TLS cipher list "ALL:+RC4:@STRENGTH"',
      client: client("176.103.49.30"),
    });
    assert.deepEqual(
      parse("setting up TLS connection from unknown[176.103.49.30]")?.client,
      client("176.103.49.30"),
    );
    assert.deepEqual(
      parse("> unknown[192.0.2.1]: 235 2.7.0 Authentication successful")?.client,
      client("192.0.2.1"),
    );
  });
});
