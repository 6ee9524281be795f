/**
 * The scenario the real-Postfix tests run, each file against its own Postfix (test/helpers/postfix.ts,
 * Debian's 3.7) driven by swaks and raw SMTP clients: the log lines are Postfix's own, not the
 * corpus's reconstruction of them. The seeds' cases in miniature, and the hostile clients and broken
 * services a real MX sees:
 * - inbound mail, an unknown recipient, a relay probe, a refused HELO, access-map HOLD, DISCARD,
 *   WARN and INFO, a header_checks reject, a
 *   harvester cut off by smtpd_hard_error_limit, a client dropping the connection;
 * - SASL guesses (seed 002), once with the debug output the seed's admin had on, once from ::1;
 * - postscreen: a client talking before the greeting, and a patient one;
 * - hostile clients: HTTP at the MX, a pipelined AUTH LOGIN, a fake TLS hello, a malformed address,
 *   an oversized MAIL, a header line longer than SMTP allows;
 * - mail handed to sendmail (pickup), and smtpd with its policy server or its milter down;
 * - an authenticated account relaying to three recipients (seed 003): one handed off downstream, one
 *   rejected as virus-infected (so a bounce), one deferred, then purged with postsuper.
 * Needs root, postfix, swaks and sasl2-bin (bash .ci/run installs them).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { forEachEvent, type InputStats, newInputStats } from "../../services/cli/src/input.js";
import type { EventOf, PostfixEvent } from "../../shared/src/contracts/events.js";
import { Correlator } from "../../shared/src/postfix/correlate.js";
import { type PostfixServer, RECIPIENT_ACTIONS, startPostfix } from "../helpers/postfix.js";
import { sendRaw, smtpSession, smtpTalk } from "../helpers/smtp-clients.js";

export const ALICE = "alice@example.org";
export const BOB = "bob@example.org";
export const WEBAPP = "wordpress@example.org";
export const ALICE_PASSWORD = "S3cret-alice-7f2c";
export const GUESSES = ["Winter2026!", "Password1", "letmein-42"];
export const DEBUG_GUESS = "Hunter2-debug-guess";
export const IPV6_GUESS = "Ipv6-guess-0x1";
/** Sent by the hostile clients: in clear (AUTH LOGIN under smtpd -v) and pipelined (as base64). */
export const VERBOSE_LOGIN_PASSWORD = "Sekrit-LOGIN-pw";
export const PIPELINED_LOGIN_PASSWORD = "pipelined-pw-9";
const VIRUS_REPLY = "551 5.7.1 virus infected";

export const b64 = (text: string) => Buffer.from(text).toString("base64");
const run = promisify(execFile);

export type Message = EventOf<"message">;

/** A Postfix's log as postwatch reads it: every event, the message summaries, the input counts. */
export interface ReadLog {
  stats: InputStats;
  events: PostfixEvent[];
  summaries: Message[];
}

export interface ScenarioRun extends ReadLog {
  postfix: PostfixServer;
  /** The maillog once every story above reached its last line. */
  rawLog: string;
}

export async function runScenario(): Promise<ScenarioRun> {
  const postfix = await startPostfix({
    users: { [ALICE]: ALICE_PASSWORD },
    rejectRecipients: { "virus@remote.test": VIRUS_REPLY },
  });
  try {
    const { smtp, postscreen, submission, submission6, debug, brokenPolicy, brokenMilter } = postfix.ports;
    const guess = (port: number, mechanism: "PLAIN" | "LOGIN", user: string, password: string, tls = false) =>
      smtpSession({
        port,
        ehlo: "bot.example.net",
        tls,
        auth: { mechanism, user, password },
        authOnly: true,
      });
    await smtpSession({ port: smtp, ehlo: "client.example.net", from: "sender@example.net", to: ALICE });
    await smtpSession({
      port: smtp,
      ehlo: "client.example.net",
      from: "sender@example.net",
      to: "nosuch@example.org",
    });
    await smtpSession({
      port: smtp,
      ehlo: "probe.example.net",
      from: "spam@example.net",
      to: "victim@elsewhere.test",
    });
    const lottery = "Subject: You won the lottery";
    await smtpSession({
      port: smtp,
      ehlo: "client.example.net",
      from: "winner@example.net",
      to: BOB,
      header: lottery,
    });
    await smtpSession({ port: smtp, ehlo: "evil.example.net", from: "evil@example.net", to: BOB });
    for (const action of RECIPIENT_ACTIONS)
      await smtpSession({
        port: smtp,
        ehlo: "client.example.net",
        from: "x@example.net",
        to: `${action}@example.org`,
      });
    const unknown = ["u1@example.org", "u2@example.org", "u3@example.org"];
    await smtpSession({ port: smtp, ehlo: "harvester.example.net", from: "h@example.net", to: unknown });
    for (const password of GUESSES) await guess(submission, "PLAIN", ALICE, password);
    await guess(submission, "LOGIN", "admin", "admin");
    await guess(debug, "PLAIN", ALICE, DEBUG_GUESS, true);
    await smtpTalk(smtp, { commands: ["EHLO dropper.example.net"], quit: false });
    await smtpTalk(submission6, {
      address: "::1",
      commands: ["EHLO bot6.example.net", `AUTH PLAIN ${b64(`\0${ALICE}\0${IPV6_GUESS}`)}`],
      quit: true,
    });
    await smtpTalk(postscreen, {
      pregreet: "EHLO pregreet.example.net",
      commands: ["EHLO pregreet.example.net", "MAIL FROM:<bot@example.net>", `RCPT TO:<${BOB}>`],
      quit: true,
    });
    await smtpSession({ port: postscreen, ehlo: "patient.example.net", from: "friend@example.net", to: BOB });
    await smtpSession({
      port: submission,
      ehlo: "laptop.example.org",
      tls: true,
      auth: { mechanism: "PLAIN", user: ALICE, password: ALICE_PASSWORD },
      from: ALICE,
      to: ["a@remote.test", "virus@remote.test", "c@deferred.test"],
    });
    // Hostile clients, as bots behave: HTTP at an MX, a LOGIN exchange sent ahead of the replies,
    // a TLS hello after STARTTLS that is not one, a malformed address, a message over the size limit,
    // and a header line longer than SMTP allows (the smtp client folds it on the way downstream).
    await sendRaw(smtp, "GET / HTTP/1.1\r\nHost: mx\r\n\r\n");
    await sendRaw(
      submission,
      `EHLO bot.example.net\r\nAUTH PLAIN !!!\r\nAUTH LOGIN\r\n${b64("admin")}\r\n${b64(PIPELINED_LOGIN_PASSWORD)}\r\nAUTH CRAM-MD5\r\n*\r\nQUIT\r\n`,
    );
    await sendRaw(smtp, "EHLO bot.example.net\r\nSTARTTLS\r\n\x16\x03\x01not-a-client-hello\r\n");
    await sendRaw(
      smtp,
      "EHLO bot.example.net\r\nMAIL FROM:<bad address>\r\nMAIL FROM:<a@example.net> SIZE=999999999\r\nQUIT\r\n",
    );
    await smtpSession({
      port: smtp,
      from: "long@example.net",
      to: BOB,
      header: `X-Long: ${"y".repeat(1200)}`,
    });
    // A web application's mail(), as root runs it: sendmail, postdrop, pickup (`uid=0`).
    postfix.sendmail(
      WEBAPP,
      ["victim1@remote.test", "victim2@remote.test"],
      "Subject: Cheap pills\n\nBuy now.\n",
    );
    // The services mail depends on, down: a policy server and a milter.
    await smtpSession({ port: brokenPolicy, from: "x@example.net", to: BOB });
    await smtpSession({ port: brokenMilter, from: "x@example.net", to: BOB });
    await guess(debug, "LOGIN", BOB, VERBOSE_LOGIN_PASSWORD, true);
    // smtpd hands its lines to postlogd, which writes the file when it gets to them: under load a
    // line can land after the client already has its reply, so wait for each one the tests read.
    await postfix.waitForLog(
      (log) =>
        everyStoryEnded(log) &&
        log.includes("sender non-delivery notification") &&
        log.includes("statistics: max") &&
        /policy-down\/smtpd\[\d+\]: NOQUEUE: reject: RCPT/.test(log) &&
        /milter-down\/smtpd\[\d+\]: \S+: milter-reject: /.test(log),
    );
    // The admin's remedy in seed 003: purge what the account left in the queue.
    await run("postsuper", ["-c", postfix.configDir, "-d", "ALL", "deferred"]);
    const rawLog = await postfix.waitForLog((log) => /postsuper\[\d+\]: Deleted: 1 message/.test(log));
    return { postfix, rawLog, ...(await readLog(postfix.maillog)) };
  } catch (error) {
    await postfix.stop();
    throw error;
  }
}

/** Parses the maillog with postwatch's file reader and correlates it, flushing open messages at the end. */
export async function readLog(maillog: string): Promise<ReadLog> {
  const stats = newInputStats();
  const events: PostfixEvent[] = [];
  const summaries: Message[] = [];
  const correlator = new Correlator();
  const keep = (output: readonly PostfixEvent[]) => {
    for (const event of output) if (event.kind === "message") summaries.push(event);
  };
  await forEachEvent([maillog], stats, (event, atMs) => {
    events.push(event);
    keep(correlator.push(event, atMs));
  });
  keep(correlator.sweep(Number.POSITIVE_INFINITY));
  return { stats, events, summaries };
}

/**
 * Whether every message qmgr took, and every one a relay reply says was queued downstream, has been
 * removed (or deferred, which keeps it queued, unless `deferral` says none is expected): every story
 * driven so far has reached its last line.
 */
export function everyStoryEnded(log: string, { deferral } = { deferral: true }): boolean {
  const ids = (pattern: RegExp) => new Set([...log.matchAll(pattern)].map((match) => match[1] as string));
  const ended = new Set([
    ...ids(/ ([0-9A-F]{6,}): removed$/gm),
    ...ids(/ ([0-9A-F]{6,}): to=<[^\n]*status=deferred/g),
  ]);
  const started = [...ids(/ ([0-9A-F]{6,}): from=<[^\n]*nrcpt=/g), ...ids(/queued as ([0-9A-F]{6,})\)/g)];
  return (
    (!deferral || log.includes("status=deferred")) &&
    started.length > 0 &&
    started.every((id) => ended.has(id))
  );
}
