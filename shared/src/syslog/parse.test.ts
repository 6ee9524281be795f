import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSyslogLine } from "./parse.js";
import { zoneOffsetFor } from "./time.js";

const referenceTime = Date.parse("2026-11-03T15:00:00Z");
const parse = (line: string) => parseSyslogLine(line, { referenceTime });

describe("parseSyslogLine", () => {
  it("reads rsyslog's traditional forward format with a space-padded day and the full tag", () => {
    const r = parse(
      "<22>Nov  3 14:03:01 mx1 postfix/submission/smtpd[4242]: connect from unknown[203.0.113.7]",
    );
    assert.deepEqual(r, {
      format: "rfc3164",
      facility: 2,
      severity: 6,
      timestamp: Date.parse("2026-11-03T14:03:01Z"),
      hostname: "mx1",
      appName: "postfix/submission/smtpd",
      pid: 4242,
      message: "connect from unknown[203.0.113.7]",
    });
  });

  it("reads RFC 5424 from rsyslog, where APP-NAME lost the /smtpd part and MSG has a leading space", () => {
    const r = parse(
      "<22>1 2026-11-03T14:03:01.123456+01:00 mx1 postfix 4242 - -  connect from unknown[203.0.113.7]\n",
    );
    assert.equal(r?.format, "rfc5424");
    assert.equal(r?.timestamp, Date.parse("2026-11-03T13:03:01.123Z"));
    assert.equal(r?.appName, "postfix");
    assert.equal(r?.pid, 4242);
    assert.equal(r?.message, "connect from unknown[203.0.113.7]");
  });

  it("skips RFC 5424 structured data, including escaped brackets and quotes", () => {
    const r = parse(
      '<20>1 2026-11-03T14:03:01Z mx1 postfix - - [meta a="x\\]y" b="\\"q"][two c="1"] warning: text',
    );
    assert.equal(r?.message, "warning: text");
    assert.equal(r?.pid, null);
    assert.equal(r?.severity, 4);
  });

  it("rejects RFC 5424 with unterminated structured data", () => {
    assert.equal(parse('<20>1 2026-11-03T14:03:01Z mx1 postfix 1 - [meta a="x] msg'), null);
  });

  it("reads rsyslog's RFC 3339 forward format and Debian's mail.log file format", () => {
    const wire = parse(
      "<22>2026-11-03T14:03:01.123456+01:00 mx1 postfix/smtpd[4242]: connect from x[192.0.2.1]",
    );
    assert.equal(wire?.format, "rfc3339");
    assert.equal(wire?.timestamp, Date.parse("2026-11-03T13:03:01.123Z"));
    const file = parse(
      "2026-11-03T14:03:01.731011+00:00 mx1 postfix/smtpd[123]: disconnect from x[192.0.2.1]",
    );
    assert.equal(file?.facility, undefined);
    assert.equal(file?.hostname, "mx1");
    assert.equal(file?.timestamp, Date.parse("2026-11-03T14:03:01.731Z"));
  });

  it("reads a host-stripped line as quoted in the seed", () => {
    const r = parse(
      "Feb 23 11:57:45 postfix/smtpd[32451]: warning: unknown[176.103.49.30]: SASL PLAIN authentication failed: ",
    );
    assert.equal(r?.hostname, "");
    assert.equal(r?.appName, "postfix/smtpd");
    assert.equal(r?.pid, 32451);
    assert.equal(r?.message, "warning: unknown[176.103.49.30]: SASL PLAIN authentication failed: ");
    assert.equal(r?.timestamp, Date.parse("2026-02-23T11:57:45Z"));
  });

  it("reads a dotted host name and zero-padded day", () => {
    const r = parse("Apr 06 06:29:10 mail.xxx.com postfix/qmgr[25497]: B37D31D6FA: removed");
    assert.equal(r?.hostname, "mail.xxx.com");
    assert.equal(r?.message, "B37D31D6FA: removed");
  });

  it("puts a December line received in January into the previous year", () => {
    const r = parseSyslogLine("Dec 31 23:59:59 mx1 postfix/qmgr[1]: x", {
      referenceTime: Date.parse("2027-01-01T00:00:05Z"),
    });
    assert.equal(r?.timestamp, Date.parse("2026-12-31T23:59:59Z"));
  });

  it("interprets zone-less timestamps in the configured zone, across DST", () => {
    const zoneOffset = zoneOffsetFor("Europe/Berlin");
    const winter = parseSyslogLine("Nov  3 14:03:01 mx1 postfix/smtpd[1]: x", { referenceTime, zoneOffset });
    assert.equal(winter?.timestamp, Date.parse("2026-11-03T13:03:01Z"));
    const summer = parseSyslogLine("Jul  3 14:03:01 mx1 postfix/smtpd[1]: x", { referenceTime, zoneOffset });
    assert.equal(summer?.timestamp, Date.parse("2026-07-03T12:03:01Z"));
  });

  it("returns null for lines without a syslog header instead of guessing", () => {
    for (const line of [
      "",
      "hello world",
      "<999>Nov  3 14:03:01 a b: c",
      "Foo  3 14:03:01 mx1 postfix/smtpd[1]: x",
      "<22>",
    ]) {
      assert.equal(parse(line), null, line);
    }
  });

  it("takes a PRI only as RFC 5424 writes it: 0 to 191, digits only, no leading zero", () => {
    const line = (pri: string) => `<${pri}>Nov  3 14:03:01 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]`;
    for (const [pri, facility, severity] of [
      ["0", 0, 0],
      ["7", 0, 7],
      ["22", 2, 6],
      ["191", 23, 7],
    ] as const) {
      const r = parse(line(pri));
      assert.deepEqual([r?.facility, r?.severity], [facility, severity], pri);
    }
    for (const pri of ["-1", "192", "999", "1e2", " 22", "22 ", "+22", "022", "00", "0x1", "2.5", "", "-0"]) {
      assert.equal(parse(line(pri)), null, pri);
      assert.equal(parse(`<${pri}>1 2026-11-03T14:03:01Z mx1 postfix 1 - - msg`), null, pri);
    }
  });

  it("reads a tag that rsyslog's forwarding templates cut at 32 characters, colon included", () => {
    const cutInPid = parse(
      "<22>Nov  3 14:03:01 mx postfix/submission/smtpd[1234567 connect from unknown[203.0.113.9]",
    );
    assert.equal(cutInPid?.appName, "postfix/submission/smtpd");
    assert.equal(cutInPid?.pid, null, "a cut pid is not the process's pid");
    assert.equal(cutInPid?.message, "connect from unknown[203.0.113.9]");
    const cutInName = parse(
      "<22>Nov  3 14:03:01 mx postfix-out/submission/smtpd[254 connect from x[192.0.2.1]",
    );
    assert.equal(cutInName?.appName, "postfix-out/submission/smtpd");
    assert.equal(parse("<22>Nov  3 14:03:01 mx not-a-tag-and-not-32-chars-long message"), null);
  });

  it("keeps a tag without a pid", () => {
    const r = parse("<22>Nov  3 14:03:01 mx1 postfix/postfix-script: starting the Postfix mail system");
    assert.equal(r?.appName, "postfix/postfix-script");
    assert.equal(r?.pid, null);
  });
});
