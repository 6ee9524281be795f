/**
 * The stories a mail server's log is made of: one method per kind of SMTP session or background
 * job. Each writes its lines ahead of time through `say`; the generator interleaves them.
 */
import {
  BRUTE_FORCE_IPS,
  type Client,
  COMPROMISED_ACCOUNT,
  LEGITIMATE_USERS,
  LOCAL_MAILBOXES,
  remoteClient,
  remoteDomain,
  SERVER_IP,
  SERVER_NAME,
} from "./cast.js";
import type { Prng } from "./prng.js";
import {
  type Fate,
  type QueueWriter,
  queueMessage,
  type Recipient,
  type Route,
  type Timeline,
} from "./queue.js";

export type Scenario = "baseline" | "compromised-account";

const STORY_WEIGHTS = {
  inbound: 26,
  submission: 10,
  loginTypo: 1.5,
  authServerTrouble: 0.5,
  reject: 12,
  postscreen: 14,
  bruteForce: 12,
  pickup: 3,
  dovecot: 12,
  anvil: 1,
  compromised: 0,
};
type Story = keyof typeof STORY_WEIGHTS;

/** Seed 003's takeover starts this far into the log, so the account has a normal history first. */
const TAKEOVER_PROGRESS = 0.4;
const TAKEOVER_WEIGHTS = { ...STORY_WEIGHTS, compromised: 3 };

/** Long-lived single processes keep one pid for the whole log. */
const QMGR_PID = 1187;
const PICKUP_PID = 1186;
const POSTSCREEN_PID = 2201;
const ANVIL_PID = 2205;
const OPENDKIM_PID = 812;
const TLS_IN = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";

export class MailTraffic implements QueueWriter {
  readonly qmgrTag = `postfix/qmgr[${QMGR_PID}]`;
  #queueCounter = 0;
  #sessionPid = 3000;
  #seq = 0;

  constructor(
    readonly rng: Prng,
    private readonly scenario: Scenario,
    private readonly schedule: (atUs: number, seq: number, tag: string, message: string) => void,
  ) {}

  say(timeline: Timeline, afterMs: number, tag: string, message: string): void {
    timeline.atUs += Math.round(afterMs * 1000) + this.rng.int(0, 999);
    this.schedule(timeline.atUs, this.#seq++, tag, message);
  }

  /** Unique over the whole log (pflogsumm keys sizes by queue ID alone): an odd multiplier mod 2^40 is a bijection. */
  nextQueueId(): string {
    this.#queueCounter += 1;
    return ((this.#queueCounter * 0x9e3779b + 0x4b1c31d6fa) % 2 ** 40)
      .toString(16)
      .toUpperCase()
      .padStart(10, "0");
  }

  poolPid(daemon: string): number {
    const base =
      { cleanup: 4100, bounce: 4200, smtp: 4300, lmtp: 4400, virtual: 4500, local: 4600 }[daemon] ?? 4900;
    return base + this.rng.int(0, 7);
  }

  /** Starts one story at `atUs`; `progress` (0..1, lines written / lines wanted) drives scenarios. */
  startStory(atUs: number, progress: number): void {
    const takeover = this.scenario === "compromised-account" && progress >= TAKEOVER_PROGRESS;
    const story: Story = this.rng.weighted(takeover ? TAKEOVER_WEIGHTS : STORY_WEIGHTS);
    const timeline = { atUs };
    switch (story) {
      case "inbound":
        this.#inbound(timeline);
        break;
      case "submission":
        this.#submission(timeline, this.rng.pick(LEGITIMATE_USERS), this.rng.int(1, 3), null);
        break;
      case "loginTypo":
        this.#submission(timeline, this.rng.pick(LEGITIMATE_USERS), 1, "authentication failure");
        break;
      case "authServerTrouble":
        this.#submission(
          timeline,
          this.rng.pick(LEGITIMATE_USERS),
          1,
          "Connection lost to authentication server",
        );
        break;
      case "compromised":
        this.#compromised(timeline);
        break;
      case "reject":
        this.#reject(timeline);
        break;
      case "postscreen":
        this.#postscreen(timeline);
        break;
      case "bruteForce":
        this.#bruteForce(timeline);
        break;
      case "pickup":
        this.#pickup(timeline);
        break;
      case "dovecot":
        this.#dovecot(timeline);
        break;
      case "anvil":
        this.#anvil(timeline);
        break;
    }
  }

  #smtpdTag(service: "smtpd" | "submission/smtpd"): string {
    this.#sessionPid = this.#sessionPid >= 32_000 ? 3000 : this.#sessionPid + 1;
    return `postfix/${service}[${this.#sessionPid}]`;
  }

  #inbound(t: Timeline): void {
    const { rng } = this;
    const client = remoteClient(rng.int(0, 5000));
    const peer = endpoint(client);
    const tag = this.#smtpdTag("smtpd");
    const sender = `${rng.pick(["news", "billing", "noreply", "jane", "ops"])}@${remoteDomain(rng.int(0, 400))}`;
    const tls = rng.chance(0.6);
    this.say(t, 0, tag, `connect from ${peer}`);
    if (tls)
      this.say(t, rng.int(20, 90), tag, `Anonymous TLS connection established from ${peer}: ${TLS_IN}`);
    const queueId = this.nextQueueId();
    this.say(t, rng.int(20, 200), tag, `${queueId}: client=${peer}`);
    const cleanup = `postfix/cleanup[${this.poolPid("cleanup")}]`;
    this.say(
      t,
      rng.int(5, 80),
      cleanup,
      `${queueId}: message-id=<${queueId}.${rng.int(1e6, 9e6)}@${sender.split("@")[1]}>`,
    );
    const recipients = Array.from({ length: rng.int(1, 3) }, () => this.#localRecipient());
    const counters = `ehlo=1${tls ? " starttls=1" : ""} mail=1 rcpt=${recipients.length}`;
    const hello = client.name === "unknown" ? "mail" : client.name;
    if (rng.chance(0.03)) {
      // A content milter refuses the message: it never reaches qmgr.
      this.say(
        t,
        rng.int(50, 900),
        cleanup,
        `${queueId}: milter-reject: END-OF-MESSAGE from ${peer}: 5.7.1 Spam message rejected; from=<${sender}> to=<${recipients[0]?.to}> proto=ESMTP helo=<${hello}>`,
      );
      this.say(
        t,
        rng.int(5, 50),
        tag,
        `disconnect from ${peer} ${counters} data=0/1 quit=1 commands=${countCommands(counters) + 1}/${countCommands(counters) + 2}`,
      );
      return;
    }
    if (rng.chance(0.3))
      this.say(
        t,
        rng.int(2, 30),
        `opendkim[${OPENDKIM_PID}]`,
        `${queueId}: ${client.name} [${client.ip}] not internal`,
      );
    this.say(
      { atUs: t.atUs },
      rng.int(10, 80),
      tag,
      `disconnect from ${peer} ${counters} data=1 quit=1 commands=${countCommands(counters) + 2}`,
    );
    queueMessage(this, t, { queueId, from: sender, size: rng.int(2_000, 200_000), recipients });
  }

  #localRecipient(): Recipient {
    const { rng } = this;
    const to = rng.pick(LOCAL_MAILBOXES);
    const route: Route = to.endsWith("@example.net") ? "virtual" : "lmtp";
    const roll = rng.next();
    let fate: Fate = { status: "sent" };
    if (roll < 0.03)
      fate = {
        status: "deferred",
        dsn: "4.3.0",
        reply: `host ${SERVER_NAME}[private/dovecot-lmtp] said: 451 4.3.0 <${to}> Temporary internal error (in reply to end of DATA command)`,
        retried: rng.chance(0.8),
      };
    else if (roll < 0.045)
      fate = {
        status: "bounced",
        dsn: "5.2.2",
        reply: `host ${SERVER_NAME}[private/dovecot-lmtp] said: 552 5.2.2 <${to}> Quota exceeded (mailbox for user is full) (in reply to end of DATA command)`,
      };
    return { to, route, fate };
  }

  #remoteRecipient(domainNumber: number, abusive: boolean): Recipient {
    const { rng } = this;
    const domain = remoteDomain(domainNumber);
    const to = `${rng.pick(["info", "sales", "contact", "j.smith", "office", "admin"])}@${domain}`;
    const mx = { name: `mx.${domain}`, ip: remoteClient(domainNumber).ip };
    const said = `host ${mx.name}[${mx.ip}] said:`;
    const roll = rng.next();
    let fate: Fate = { status: "sent" };
    if (abusive && roll < 0.08)
      fate = {
        status: "bounced",
        dsn: "5.0.0",
        reply: `${said} 551 virus infected mail rejected (in reply to end of DATA command)`,
      };
    else if (abusive && roll < 0.15)
      fate = {
        status: "bounced",
        dsn: "5.7.0",
        reply: `${said} 552-5.7.0 This message was blocked because its content presents a potential 552-5.7.0 security issue. Please visit 552-5.7.0 https://support.google.com/mail/?p=BlockedMessage to review our 552 5.7.0 message content and attachment content guidelines. z63si3810735ybh.300 - gsmtp (in reply to end of DATA command)`,
      };
    else if (abusive && roll < 0.2)
      fate = {
        status: "deferred",
        dsn: "4.7.0",
        reply: `${said} 421-4.7.0 [${SERVER_IP}] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. (in reply to end of DATA command)`,
        retried: rng.chance(0.5),
      };
    else if (roll < 0.02)
      fate = {
        status: "bounced",
        dsn: "5.1.1",
        reply: `${said} 550 5.1.1 <${to}>: Recipient address rejected: User unknown (in reply to RCPT TO command)`,
      };
    else if (roll < 0.06)
      fate = {
        status: "deferred",
        dsn: "4.4.1",
        reply: `connect to ${mx.name}[${mx.ip}]:25: Connection timed out`,
        retried: rng.chance(0.7),
      };
    return { to, route: "smtp", fate, mx };
  }

  /**
   * An authenticated submission. `failedFirst` is the reason of one failed AUTH before the login
   * succeeds (a mistyped password, the auth backend restarting).
   */
  #submission(
    t: Timeline,
    account: { user: string; client: Client },
    recipientCount: number,
    failedFirst: string | null,
  ): void {
    const { rng } = this;
    const recipients = Array.from({ length: recipientCount }, () =>
      rng.chance(0.25) ? this.#localRecipient() : this.#remoteRecipient(rng.int(0, 400), false),
    );
    this.#authenticatedMessage(t, account.user, account.client, recipients, failedFirst);
  }

  /** Seed 003: the leaked account mails dozens of recipients on distinct domains per message. */
  #compromised(t: Timeline): void {
    const { rng } = this;
    const client = { name: "unknown", ip: rng.pick(COMPROMISED_ACCOUNT.abuseIps) };
    const firstDomain = rng.int(0, 100_000);
    const recipients = Array.from({ length: rng.int(20, 60) }, (_, i) =>
      this.#remoteRecipient(firstDomain + i, true),
    );
    this.#authenticatedMessage(t, COMPROMISED_ACCOUNT.user, client, recipients, null);
  }

  #authenticatedMessage(
    t: Timeline,
    user: string,
    client: Client,
    recipients: Recipient[],
    failedFirst: string | null,
  ): void {
    const { rng } = this;
    const peer = endpoint(client);
    const tag = this.#smtpdTag("submission/smtpd");
    this.say(t, 0, tag, `connect from ${peer}`);
    this.say(
      t,
      rng.int(20, 90),
      tag,
      `Anonymous TLS connection established from ${peer}: ${TLS_IN} key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256`,
    );
    if (failedFirst !== null)
      this.say(
        t,
        rng.int(500, 2500),
        tag,
        `warning: ${peer}: SASL PLAIN authentication failed: ${failedFirst}`,
      );
    const queueId = this.nextQueueId();
    this.say(
      t,
      rng.int(30, 300),
      tag,
      `${queueId}: client=${peer}, sasl_method=PLAIN, sasl_username=${user}`,
    );
    this.say(
      t,
      rng.int(5, 80),
      `postfix/cleanup[${this.poolPid("cleanup")}]`,
      `${queueId}: message-id=<${queueId}.${rng.int(1e6, 9e6)}@example.org>`,
    );
    this.say(
      t,
      rng.int(2, 30),
      `opendkim[${OPENDKIM_PID}]`,
      `${queueId}: DKIM-Signature field added (s=mail, d=${user.split("@")[1]})`,
    );
    const auth = failedFirst === null ? "auth=1" : "auth=1/2";
    const commands = 7 + recipients.length;
    const total = failedFirst === null ? "" : `/${commands + 1}`;
    this.say(
      { atUs: t.atUs },
      rng.int(10, 80),
      tag,
      `disconnect from ${peer} ehlo=2 starttls=1 ${auth} mail=1 rcpt=${recipients.length} data=1 quit=1 commands=${commands}${total}`,
    );
    queueMessage(this, t, { queueId, from: user, size: rng.int(3_000, 400_000), recipients });
  }

  #reject(t: Timeline): void {
    const { rng } = this;
    const client = remoteClient(rng.int(0, 5000));
    const peer = endpoint(client);
    const tag = this.#smtpdTag("smtpd");
    const sender = `${rng.pick(["promo", "winner", "admin", "support"])}@${remoteDomain(rng.int(0, 400))}`;
    const helo = client.name === "unknown" ? rng.pick(["localhost", "User", "pc"]) : client.name;
    this.say(t, 0, tag, `connect from ${peer}`);
    const kind = rng.weighted({ relay: 4, unknownUser: 4, rbl: 3, helo: 1, noHostname: 1 });
    if (kind === "noHostname") {
      this.say(
        t,
        rng.int(50, 300),
        tag,
        `NOQUEUE: reject: CONNECT from ${peer}: 450 4.7.25 Client host rejected: cannot find your hostname, [${client.ip}]; proto=SMTP`,
      );
      this.say(t, rng.int(5, 50), tag, `disconnect from ${peer} commands=0/0`);
      return;
    }
    const to =
      kind === "relay"
        ? `victim@${remoteDomain(rng.int(0, 400))}`
        : kind === "unknownUser"
          ? `${rng.pick(["nosuch", "jdoe", "webmaster", "test"])}@example.org`
          : rng.pick(LOCAL_MAILBOXES);
    const reason = {
      relay: `554 5.7.1 <${to}>: Relay access denied`,
      unknownUser: `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`,
      rbl: `554 5.7.1 Service unavailable; Client host [${client.ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/${client.ip}`,
      helo: `504 5.5.2 <${helo}>: Helo command rejected: need fully-qualified hostname`,
    }[kind];
    const rcpts = rng.int(1, 3);
    for (let i = 0; i < rcpts; i++)
      this.say(
        t,
        rng.int(50, 400),
        tag,
        `NOQUEUE: reject: RCPT from ${peer}: ${reason}; from=<${sender}> to=<${to}> proto=ESMTP helo=<${helo}>`,
      );
    this.say(
      t,
      rng.int(5, 50),
      tag,
      `disconnect from ${peer} ehlo=1 mail=1 rcpt=0/${rcpts} quit=1 commands=3/${3 + rcpts}`,
    );
  }

  #postscreen(t: Timeline): void {
    const { rng } = this;
    const tag = `postfix/postscreen[${POSTSCREEN_PID}]`;
    const client = remoteClient(rng.int(0, 5000));
    const peer = `[${client.ip}]:${rng.int(1024, 65535)}`;
    this.say(t, 0, tag, `CONNECT from ${peer} to [${SERVER_IP}]:25`);
    const outcome = rng.weighted({ passOld: 6, passNew: 2, pregreet: 1, dnsbl: 2, hangup: 1 });
    if (outcome === "passOld" || outcome === "passNew") {
      this.say(t, rng.int(1, 20), tag, `${outcome === "passOld" ? "PASS OLD" : "PASS NEW"} ${peer}`);
      return;
    }
    if (outcome === "hangup") {
      this.say(
        t,
        rng.int(1000, 5000),
        tag,
        `HANGUP after ${rng.int(10, 50) / 10} from ${peer} in tests after SMTP handshake`,
      );
    } else {
      if (outcome === "pregreet")
        this.say(t, rng.int(100, 300), tag, `PREGREET 11 after 0.15 from ${peer}: EHLO User\\r\\n`);
      this.say(t, rng.int(50, 500), tag, `DNSBL rank ${rng.int(2, 6)} for ${peer}`);
      this.say(
        t,
        rng.int(200, 900),
        tag,
        `NOQUEUE: reject: RCPT from ${peer}: 550 5.7.1 Service unavailable; client [${client.ip}] blocked using zen.spamhaus.org; from=<spam@${remoteDomain(rng.int(0, 400))}>, to=<${rng.pick(LOCAL_MAILBOXES)}>, proto=ESMTP, helo=<User>`,
      );
    }
    this.say(t, rng.int(5, 50), tag, `DISCONNECT ${peer}`);
  }

  /** A password guesser: a few failed AUTHs per connection, LOGIN with the base64 challenge or PLAIN with no reason. */
  #bruteForce(t: Timeline): void {
    const { rng } = this;
    const ip = rng.pick(BRUTE_FORCE_IPS);
    const peer = `unknown[${ip}]`;
    const submission = rng.chance(0.4);
    const tag = this.#smtpdTag(submission ? "submission/smtpd" : "smtpd");
    this.say(t, 0, tag, `connect from ${peer}`);
    if (submission)
      this.say(
        t,
        rng.int(20, 90),
        tag,
        `Anonymous TLS connection established from ${peer}: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)`,
      );
    const attempts = rng.int(1, 4);
    const mechanism = rng.chance(0.5) ? "LOGIN" : "PLAIN";
    for (let i = 0; i < attempts; i++) {
      // Cyrus SASL logs its own clientless line before Postfix's: it is not a second failure.
      if (mechanism === "PLAIN" && rng.chance(0.3))
        this.say(
          t,
          rng.int(800, 2500),
          tag,
          "warning: SASL authentication failure: Password verification failed",
        );
      const reason = mechanism === "LOGIN" ? "UGFzc3dvcmQ6" : "";
      this.say(
        t,
        rng.int(800, 2500),
        tag,
        `warning: ${peer}: SASL ${mechanism} authentication failed: ${reason}`,
      );
    }
    const hello = submission ? "ehlo=2 starttls=1" : "ehlo=1";
    const ok = submission ? 3 : 1;
    if (rng.chance(0.3)) {
      this.say(t, rng.int(10, 200), tag, `lost connection after AUTH from ${peer}`);
      this.say(
        t,
        rng.int(1, 5),
        tag,
        `disconnect from ${peer} ${hello} auth=0/${attempts} commands=${ok}/${ok + attempts}`,
      );
    } else {
      this.say(
        t,
        rng.int(10, 200),
        tag,
        `disconnect from ${peer} ${hello} auth=0/${attempts} quit=1 commands=${ok + 1}/${ok + 1 + attempts}`,
      );
    }
  }

  /** A cron job's mail to root, submitted locally: received through pickup, not smtpd. */
  #pickup(t: Timeline): void {
    const { rng } = this;
    const queueId = this.nextQueueId();
    this.say(t, 0, `postfix/pickup[${PICKUP_PID}]`, `${queueId}: uid=0 from=<root>`);
    this.say(
      t,
      rng.int(5, 40),
      `postfix/cleanup[${this.poolPid("cleanup")}]`,
      `${queueId}: message-id=<${queueId}.cron@${SERVER_NAME}>`,
    );
    queueMessage(this, t, {
      queueId,
      from: `root@${SERVER_NAME}`,
      size: rng.int(600, 4_000),
      recipients: [{ to: `root@${SERVER_NAME}`, origTo: "root", route: "local", fate: { status: "sent" } }],
    });
  }

  /** IMAP logins share mail.log but are not Postfix's. */
  #dovecot(t: Timeline): void {
    const { rng } = this;
    const account = rng.pick(LEGITIMATE_USERS);
    const session = rng.int(1e9, 9e9).toString(36);
    if (rng.chance(0.1)) {
      this.say(
        t,
        0,
        "dovecot",
        `imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${account.user}>, method=PLAIN, rip=${account.client.ip}, lip=${SERVER_IP}, TLS, session=<${session}>`,
      );
      return;
    }
    this.say(
      t,
      0,
      "dovecot",
      `imap-login: Login: user=<${account.user}>, method=PLAIN, rip=${account.client.ip}, lip=${SERVER_IP}, mpid=${rng.int(10_000, 60_000)}, TLS, session=<${session}>`,
    );
  }

  #anvil(t: Timeline): void {
    const client = remoteClient(this.rng.int(0, 5000));
    this.say(
      t,
      0,
      `postfix/anvil[${ANVIL_PID}]`,
      `statistics: max connection rate ${this.rng.int(2, 9)}/60s for (smtp:${client.ip}) at Nov  3 10:12:01`,
    );
  }
}

function endpoint(client: Client): string {
  return `${client.name}[${client.ip}]`;
}

/** `ehlo=1 starttls=1 mail=1 rcpt=2` → 5: the `commands=` total Postfix prints is the sum of the counters. */
function countCommands(counters: string): number {
  return counters.split(" ").reduce((sum, pair) => sum + Number(pair.split("=")[1]), 0);
}
