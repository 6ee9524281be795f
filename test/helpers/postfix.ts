/**
 * A real Postfix for a test, from Debian's package: its own config, queue and data directories in a
 * temp directory, `maillog_file` logging (postlogd, no syslog daemon needed) or syslog(3) to a socket
 * of the test's (see `syslogSocket`), smtpd listeners on free
 * loopback ports, Cyrus SASL over a sasldb of the test's users, and a self-signed certificate for
 * STARTTLS. Nothing of the host's Postfix (if any) is read or touched. Needs root: master runs as
 * root and drops to the `postfix` user the package creates.
 *
 * Listeners (master.cf):
 * - `smtp`: inbound MX. example.org's users are virtual aliases of downstream.test's; no relaying;
 *   the HELO `evil.example.net` and senders at `blocked.example` are refused, and a client is cut off
 *   at its second error. Mail to `hold@`, `discard@`, `warn@` and `info@example.org` meets that
 *   access-map action.
 * - `submission`: SASL AUTH (PLAIN, LOGIN) and STARTTLS, then relaying; `submission6` is the same
 *   service on [::1].
 * - `debug`: the same as submission with `debug_peer_list=127.0.0.1` and `smtpd_tls_loglevel=2`:
 *   the SMTP conversation, AUTH payloads included, and TLS debug noise, as in seed 002.
 * - `downstream`: the "remote" MTA every relayed message goes to (its syslog_name is
 *   `postfix-down/smtpd`, a second instance's naming). It rejects the addresses of `rejectRecipients`
 *   with their reply, and discards what it accepts. Being on this host, its `queued as` replies are
 *   hand-offs the correlator can follow, like a content filter's re-injection.
 * - `postscreen`: postscreen in front of smtp, enforcing the greeting: a client that talks first is
 *   logged as PREGREET and rejected at RCPT; others PASS NEW to smtpd.
 * - `brokenPolicy`, `brokenMilter`: smtpd with a policy service, or a milter, on the closed port
 *   (milter_default_action=tempfail): what mail sees when that service is down.
 * - `closed`: a port nothing listens on; `deferred.test` is routed there, so its mail is deferred.
 *   Every other domain is routed downstream, or to `internetPort` when given.
 *
 * cleanup rejects any message whose Subject mentions a lottery (header_checks), and anvil logs its
 * statistics every second rather than every ten minutes.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { acceptsConnections, freePort } from "./ports.js";

const run = promisify(execFile);
const POSTFIX = "/usr/sbin/postfix";

/** Access-map actions besides REJECT: mail to `<action>@example.org` gets that action (smtpd). */
export const RECIPIENT_ACTIONS = ["hold", "discard", "warn", "info"] as const;
const SENDMAIL = "/usr/sbin/sendmail";

export interface PostfixPorts {
  smtp: number;
  postscreen: number;
  submission: number;
  submission6: number;
  debug: number;
  downstream: number;
  brokenPolicy: number;
  brokenMilter: number;
  closed: number;
}

export interface PostfixServer {
  readonly ports: PostfixPorts;
  /** For Postfix's own commands: `postsuper -c <configDir> ...`. */
  readonly configDir: string;
  readonly maillog: string;
  /** The maillog so far; fails for a Postfix that logs to syslog (read what the socket's reader got). */
  log(): string;
  /** Hands a message to `sendmail` (postdrop, then pickup), as a local process does. */
  sendmail(from: string, to: readonly string[], message: string): void;
  /** Polls the maillog until `done(log)` holds; on timeout, fails with the log's tail. */
  waitForLog(done: (log: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface PostfixOptions {
  /** SASL users (`user@realm`) and their passwords. */
  users: Readonly<Record<string, string>>;
  /** Recipient → `CODE DSN text` the downstream MTA answers RCPT TO with. */
  rejectRecipients?: Readonly<Record<string, string>>;
  /**
   * A port on 127.0.0.1 standing for the Internet: every domain without a transport of its own is
   * relayed there (a test's own SMTP server), so the log holds this Postfix's lines only.
   */
  internetPort?: number;
  /** `enable_long_queue_ids`: IDs like `4dTs3B0kLzz1K1` instead of `AFFF920C24D`. */
  longQueueIds?: boolean;
  /**
   * Retry deferred mail every second and give up after this many seconds (maximal_queue_lifetime),
   * with a delay warning after one: expiry within a test. By default deferred mail is not retried.
   */
  queueLifetimeSeconds?: number;
  /**
   * The debug listener and the smtpd with a broken policy server or milter (default: started).
   * Without them the log is a plain MX's: their lines are findings of their own.
   */
  troubleListeners?: boolean;
  /** `-v` on every smtpd and on cleanup, qmgr and smtp: Postfix's internal tracing, as when debugging. */
  verbose?: boolean;
  /**
   * Log through syslog(3), as a stock Postfix does, to this unix datagram socket (a test rsyslogd's
   * imuxsock) instead of maillog_file: Postfix runs in a mount namespace of its own whose /dev/log
   * is this socket, so the host's /dev is never touched.
   */
  syslogSocket?: string;
  timeoutMs?: number;
}

export async function startPostfix(options: PostfixOptions): Promise<PostfixServer> {
  const postfixUid = await userId("postfix");
  if (process.getuid?.() !== 0) throw new Error("a real Postfix test needs root (master starts as root)");
  const dir = mkdtempSync(join(tmpdir(), "postwatch-postfix-"));
  // smtpd runs as `postfix` and opens the sasldb below at every AUTH: the path must be traversable.
  chmodSync(dir, 0o755);
  const etc = join(dir, "etc");
  const data = join(dir, "data");
  for (const sub of [etc, join(etc, "sasl"), join(dir, "queue"), data]) mkdirSync(sub);
  chownSync(data, postfixUid, -1);
  const ports: PostfixPorts = {
    smtp: await freePort(),
    postscreen: await freePort(),
    submission: await freePort(),
    submission6: await freePort(),
    debug: await freePort(),
    downstream: await freePort(),
    brokenPolicy: await freePort(),
    brokenMilter: await freePort(),
    closed: await freePort(),
  };
  const maillog = join(dir, "maillog");
  const toSyslog = options.syslogSocket !== undefined;
  writeFileSync(join(etc, "main.cf"), mainCf(dir, ports, { ...options, logToFile: !toSyslog }));
  writeFileSync(
    join(etc, "master.cf"),
    masterCf(dir, ports, options.verbose ?? false, options.troubleListeners ?? true),
  );
  writeFileSync(join(dir, "rejections"), accessMap(options.rejectRecipients ?? {}));
  writeFileSync(join(dir, "header_checks"), "/^Subject:.*lottery/ REJECT message content rejected\n");
  writeFileSync(join(dir, "helo_access"), "evil.example.net REJECT go away\n");
  writeFileSync(join(dir, "sender_access"), "blocked.example REJECT sender blocked by policy\n");
  writeFileSync(
    join(dir, "recipient_actions"),
    RECIPIENT_ACTIONS.map((action) => `${action}@example.org ${action.toUpperCase()} ${action} test\n`).join(
      "",
    ),
  );
  await writeSasl(dir, options.users, postfixUid);
  await run("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"],
    ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", "/CN=mx.postwatch.test"],
  ]);

  // start-fg keeps master a child of this process, so a failed start is seen rather than guessed.
  const startFg = `exec ${POSTFIX} -c ${etc} start-fg`;
  const child = options.syslogSocket
    ? spawn("unshare", ["-m", "sh", "-c", `${privateDevLog(dir, options.syslogSocket)} && ${startFg}`], {
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(POSTFIX, ["-c", etc, "start-fg"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const maillogSoFar = () => {
    try {
      return readFileSync(maillog, "utf8");
    } catch {
      return "";
    }
  };
  const log = () => {
    if (toSyslog) throw new Error("this Postfix logs to syslog: read what its socket's reader got");
    return maillogSoFar();
  };
  const stop = () => stopPostfix(child, etc, dir);
  const failure = async (why: string) => {
    const detail = `${output.trim()}\n${maillogSoFar().split("\n").slice(-15).join("\n")}`;
    await stop();
    return new Error(`Postfix ${why}:\n${detail}`);
  };

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const trouble =
    (options.troubleListeners ?? true) ? [ports.debug, ports.brokenPolicy, ports.brokenMilter] : [];
  const listeners: [number, string][] = [
    ...[ports.smtp, ports.postscreen, ports.submission, ports.downstream, ...trouble].map(
      (port): [number, string] => [port, "127.0.0.1"],
    ),
    [ports.submission6, "::1"],
  ];
  for (const [port, address] of listeners) {
    while (!(await acceptsConnections(port, address))) {
      if (child.exitCode !== null) throw await failure("exited before it listened");
      if (Date.now() > deadline) throw await failure(`did not listen on ${port} in time`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    ports,
    configDir: etc,
    maillog,
    log,
    sendmail(from, to, message) {
      // Run by root, so pickup logs uid=0: sendmail refuses a private -C config to other users.
      execFileSync(SENDMAIL, ["-C", etc, "-f", from, ...to], { input: message });
    },
    async waitForLog(done, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const text = log();
        if (done(text)) return text;
        if (Date.now() > until) {
          throw new Error(`the maillog never reached the expected state; its tail:\n${text.slice(-3000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function userId(name: string): Promise<number> {
  try {
    return Number((await run("id", ["-u", name])).stdout.trim());
  } catch {
    throw new Error(`no '${name}' user: install Debian's postfix package (bash .ci/run does)`);
  }
}

/**
 * Shell steps, run in a fresh mount namespace, that give it a /dev of its own: a tmpfs with the host's
 * few device nodes Postfix uses bound in, and `socket` as /dev/log.
 */
function privateDevLog(dir: string, socket: string): string {
  const hostDev = join(dir, "host-dev");
  const devices = ["null", "zero", "random", "urandom", "full", "tty"];
  return [
    `mkdir -p ${hostDev}`,
    `mount --bind /dev ${hostDev}`,
    "mount -t tmpfs -o mode=755 postwatch-dev /dev",
    ...devices.map((name) => `touch /dev/${name} && mount --bind ${hostDev}/${name} /dev/${name}`),
    "ln -s /proc/self/fd /dev/fd",
    `touch /dev/log && mount --bind ${socket} /dev/log`,
  ].join(" && ");
}

function mainCf(
  dir: string,
  ports: PostfixPorts,
  {
    longQueueIds = false,
    logToFile,
    queueLifetimeSeconds,
    internetPort,
  }: PostfixOptions & { logToFile: boolean },
): string {
  const downstream = `smtp:[127.0.0.1]:${ports.downstream}`;
  const internet = internetPort === undefined ? downstream : `smtp:[127.0.0.1]:${internetPort}`;
  // One sink stands for every remote MX: one recipient per delivery, so each domain answers for its own.
  const perRecipient = internetPort === undefined ? "" : "smtp_destination_recipient_limit = 1\n";
  return `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
${logToFile ? `maillog_file = ${dir}/maillog\nmaillog_file_prefixes = ${dir}` : "# Logs through syslog(3)."}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.postwatch.test
mydomain = postwatch.test
myorigin = postwatch.test
mydestination =
inet_interfaces = 127.0.0.1, [::1]
inet_protocols = ipv4, ipv6
enable_long_queue_ids = ${longQueueIds ? "yes" : "no"}
# 127.0.0.1 is every test client's address: it must not count as a trusted network.
mynetworks = 127.0.0.254/32
alias_maps =
alias_database =
local_recipient_maps =
virtual_alias_domains = example.org
virtual_alias_maps = inline:{ alice@example.org=alice@downstream.test, bob@example.org=bob@downstream.test, ${RECIPIENT_ACTIONS.map((action) => `${action}@example.org=bob@downstream.test`).join(", ")} }
transport_maps = inline:{ downstream.test=${downstream}, remote.test=${downstream}, deferred.test=smtp:[127.0.0.1]:${ports.closed} }
# Any other domain is "the Internet" too: no DNS here.
default_transport = ${internet}
${perRecipient}smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_helo_restrictions = check_helo_access texthash:${dir}/helo_access
smtpd_sender_restrictions = check_sender_access texthash:${dir}/sender_access
smtpd_recipient_restrictions = check_recipient_access texthash:${dir}/recipient_actions
smtpd_sasl_auth_enable = no
cyrus_sasl_config_path = ${dir}/etc/sasl
smtpd_sasl_path = smtpd
smtpd_tls_security_level = may
smtpd_tls_cert_file = ${dir}/cert.pem
smtpd_tls_key_file = ${dir}/key.pem
smtpd_tls_loglevel = 1
smtp_tls_security_level = none
header_checks = regexp:${dir}/header_checks
postscreen_greet_action = enforce
postscreen_greet_wait = 1s
anvil_status_update_time = 1s
${queueLifetimeSeconds === undefined ? NO_RETRIES : expiryWithin(queueLifetimeSeconds)}
`;
}

const NO_RETRIES = `# No retries within a test: a deferred recipient stays deferred.
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 3600s`;

function expiryWithin(seconds: number): string {
  return `queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 1s
delay_warning_time = 1s
maximal_queue_lifetime = ${seconds}s
bounce_queue_lifetime = ${seconds}s`;
}

function masterCf(dir: string, ports: PostfixPorts, verbose: boolean, troubleListeners: boolean): string {
  const mail = `127.0.0.1:${ports.smtp} inet n - n - - smtpd
  -o smtpd_hard_error_limit=2
127.0.0.1:${ports.postscreen} inet n - n - 1 postscreen
smtpd     pass  - - n - - smtpd
dnsblog   unix  - - n - 0 dnsblog
tlsproxy  unix  - - n - 0 tlsproxy
127.0.0.1:${ports.submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
[::1]:${ports.submission6} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:${ports.downstream} inet n - n - - smtpd
  -o syslog_name=postfix-down/smtpd
  -o mynetworks=127.0.0.0/8
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=check_recipient_access,texthash:${dir}/rejections,permit
  -o virtual_alias_domains=
  -o virtual_alias_maps=
  -o content_filter=discard:
`;
  const trouble = `127.0.0.1:${ports.debug} inet n - n - - smtpd
  -o syslog_name=postfix/submission-debug
  -o smtpd_sasl_auth_enable=yes
  -o debug_peer_list=127.0.0.1
  -o smtpd_tls_loglevel=2
127.0.0.1:${ports.brokenPolicy} inet n - n - - smtpd
  -o syslog_name=postfix/policy-down
  -o smtpd_recipient_restrictions=check_policy_service,inet:127.0.0.1:${ports.closed},permit
127.0.0.1:${ports.brokenMilter} inet n - n - - smtpd
  -o syslog_name=postfix/milter-down
  -o smtpd_milters=inet:127.0.0.1:${ports.closed}
  -o milter_default_action=tempfail
`;
  const text = `${mail}${troubleListeners ? trouble : ""}pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
  if (!verbose) return text;
  return text.replace(/^(\S+ +(?:inet|unix) .* (?:smtpd|cleanup|qmgr|smtp))$/gm, "$1 -v");
}

function accessMap(rejections: Readonly<Record<string, string>>): string {
  return Object.entries(rejections)
    .map(([recipient, reply]) => `${recipient} ${reply}\n`)
    .join("");
}

/** Debian's Postfix reads `<config_directory>/sasl/smtpd.conf`; the sasldb is the test's own. */
async function writeSasl(dir: string, users: Readonly<Record<string, string>>, postfixUid: number) {
  const sasldb = join(dir, "sasldb2");
  writeFileSync(
    join(dir, "etc", "sasl", "smtpd.conf"),
    `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: ${sasldb}\n`,
  );
  for (const [address, password] of Object.entries(users)) {
    const [user, realm] = address.split("@") as [string, string];
    await new Promise<void>((resolve, reject) => {
      const child = execFile("saslpasswd2", ["-p", "-c", "-f", sasldb, "-u", realm, user], (error) =>
        error ? reject(new Error(`saslpasswd2 failed (install sasl2-bin): ${error.message}`)) : resolve(),
      );
      child.stdin?.end(password);
    });
  }
  chownSync(sasldb, postfixUid, -1);
  chmodSync(sasldb, 0o600);
}

async function stopPostfix(child: ChildProcess, etc: string, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await run(POSTFIX, ["-c", etc, "stop"], { timeout: 15_000 }).catch(() => undefined);
    const timer = setTimeout(() => killMaster(dir, child), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** `postfix stop` did not end it: master's pid file names the process to kill, with its children. */
function killMaster(dir: string, child: ChildProcess): void {
  try {
    process.kill(Number(readFileSync(join(dir, "queue", "pid", "master.pid"), "utf8").trim()), "SIGKILL");
  } catch {
    // Gone already, or never wrote its pid: the start-fg script is all there is to kill.
  }
  child.kill("SIGKILL");
}
