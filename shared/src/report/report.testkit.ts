/**
 * A small synthetic day on one server, shared by the report and trace tests. The expected numbers in
 * report.test.ts are worked out by hand from these lines; change both together.
 */
import type { PostfixEvent } from "../contracts/events.js";
import { delivery, event } from "../postfix/correlate.testkit.js";

export const PRINTER_IP = { host: "unknown", ip: "203.0.113.66" };
export const ALICE_IP = { host: "laptop.corp.example", ip: "192.0.2.50" };
const LOOPBACK = { host: "localhost", ip: "127.0.0.1" };
const BRUTE_FORCER = { host: "unknown", ip: "176.103.49.30" };
const RELAY_PROBER = { host: "unknown", ip: "198.51.100.9" };

const virus = (mx: string) =>
  `host ${mx} said: 551 virus infected mail rejected (in reply to end of DATA command)`;
const submission = { daemon: "smtpd", program: "postfix/submission/smtpd", pid: 10 } as const;
const reinjection = { daemon: "smtpd", program: "postfix/smtpd", pid: 20 } as const;
const smtpd = { daemon: "smtpd", program: "postfix/smtpd", pid: 30 } as const;

export function syntheticDay(): PostfixEvent[] {
  return [
    // printer@corp.example: two messages, one bounce notification, a recipient still deferred.
    event("connect", { ...submission, client: PRINTER_IP }),
    event("client", {
      ...submission,
      queueId: "Q1",
      client: PRINTER_IP,
      saslMethod: "LOGIN",
      saslUsername: "printer@corp.example",
    }),
    event("queued", { queueId: "Q1", from: "spoofed@Bank.EXAMPLE", size: 1000, nrcpt: 3 }),
    event("client", {
      ...submission,
      queueId: "Q2",
      client: PRINTER_IP,
      saslMethod: "LOGIN",
      saslUsername: "printer@corp.example",
    }),
    event("disconnect", { ...submission, client: PRINTER_IP, commands: { auth: { ok: 1, total: 1 } } }),
    event("queued", { queueId: "Q2", from: "x@corp.example", size: 500, nrcpt: 1 }),
    delivery("Q1", "a@one.example", "sent", "250 2.0.0 Ok"),
    delivery("Q1", "b@Two.example", "bounced", virus("mx.two.example[198.51.100.2]")),
    delivery(
      "Q1",
      "c@three.example",
      "deferred",
      "connect to mx.three.example[198.51.100.4]:25: Connection timed out",
    ),
    delivery(
      "Q1",
      "c@three.example",
      "deferred",
      "connect to mx.three.example[198.51.100.4]:25: Connection timed out",
    ),
    event("message_id", { queueId: "B1", messageId: "<bounce@mail.example>" }),
    event("bounce_notice", {
      queueId: "Q1",
      notice: "non-delivery",
      recipient: "sender",
      bounceQueueId: "B1",
    }),
    event("queued", { queueId: "B1", from: "", size: 300, nrcpt: 1 }),
    delivery("B1", "spoofed@bank.example", "sent", "250 2.0.0 Ok"),
    event("removed", { queueId: "B1" }),
    delivery("Q2", "d@one.example", "bounced", virus("mx2.one.example[198.51.100.3]")),
    event("removed", { queueId: "Q2" }),

    // alice@corp.example through a content filter that re-queues as Q4.
    event("client", {
      ...submission,
      queueId: "Q3",
      client: ALICE_IP,
      saslMethod: "PLAIN",
      saslUsername: "alice@corp.example",
    }),
    event("queued", { queueId: "Q3", from: "alice@corp.example", size: 200, nrcpt: 1 }),
    event("client", { ...reinjection, queueId: "Q4", client: LOOPBACK }),
    event("queued", { queueId: "Q4", from: "alice@corp.example", size: 250, nrcpt: 1 }),
    delivery(
      "Q3",
      "e@four.example",
      "sent",
      "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as Q4",
      {
        relay: "127.0.0.1[127.0.0.1]:10024",
        forwardedQueueId: "Q4",
      },
    ),
    event("removed", { queueId: "Q3" }),
    delivery("Q4", "e@four.example", "sent", "250 2.0.0 Ok"),
    event("removed", { queueId: "Q4" }),

    // Local submission forwarded by an alias.
    event("pickup", { queueId: "P1", uid: 0, from: "root" }),
    event("queued", { queueId: "P1", from: "root", size: 100, nrcpt: 1 }),
    delivery("P1", "g@five.example", "sent", "forwarded as P2", {
      daemon: "local",
      program: "postfix/local",
      relay: "local",
    }),
    event("removed", { queueId: "P1" }),

    // Rejects: two smtpd ones, one warning, postscreen's and a cleanup milter-reject (1.1.5 counts both).
    ...[1, 2].map(() =>
      event("reject", {
        ...smtpd,
        action: "reject",
        stage: "RCPT",
        reason: "Relay access denied",
        category: "relay_denied",
        client: RELAY_PROBER,
      }),
    ),
    event("reject", {
      ...smtpd,
      action: "reject_warning",
      stage: "RCPT",
      reason: "Relay access denied",
      category: "relay_denied",
      client: RELAY_PROBER,
    }),
    event("reject", {
      daemon: "postscreen",
      action: "reject",
      stage: "RCPT",
      reason: "blocked using zen.spamhaus.org",
      category: "rbl",
      client: { host: "unknown", ip: "198.51.100.10" },
    }),
    event("client", { ...smtpd, queueId: "Q5", client: { host: "spam.example", ip: "198.51.100.11" } }),
    event("reject", {
      daemon: "cleanup",
      queueId: "Q5",
      action: "milter-reject",
      stage: "END-OF-MESSAGE",
      reason: "5.7.1 Blocked by SpamAssassin",
      category: "content",
      client: { host: "spam.example", ip: "198.51.100.11" },
    }),

    // Seed 002: a brute forcer whose first attempt's user is only in the AUTH PLAIN debug line.
    event("connect", { ...smtpd, pid: 31, client: BRUTE_FORCER }),
    event("debug", {
      ...smtpd,
      pid: 31,
      text: "Read 45 chars: AUTH PLAIN <redacted>",
      authUsername: "admin@fipick.com",
    }),
    event("sasl_auth_failed", { ...smtpd, pid: 31, client: BRUTE_FORCER, mechanism: "PLAIN", reason: "" }),
    event("sasl_auth_failed", {
      ...smtpd,
      pid: 31,
      client: BRUTE_FORCER,
      mechanism: "LOGIN",
      reason: "Password:",
    }),
    event("sasl_auth_failed", {
      ...smtpd,
      pid: 31,
      client: BRUTE_FORCER,
      mechanism: "LOGIN",
      reason: "Password:",
    }),
    event("disconnect", { ...smtpd, pid: 31, client: BRUTE_FORCER, commands: { auth: { ok: 0, total: 3 } } }),
  ];
}
