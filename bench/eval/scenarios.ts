/**
 * The labelled scenarios `npm run eval:record` drives against a real Postfix. Benign users sit in
 * 127.0.0.0/24 (the "office" networks); each attacker comes from a /24 of its own. Each scenario
 * but one has a history day first (moved back a day in the log, see truth.ts), so "usual address"
 * and "usual volume" mean what they say.
 */
import type { InternetPolicy } from "../../test/helpers/smtp-sink.js";
import type { ActorDriver, Scene } from "./recorder.js";

const account = (name: string) => `${name}@example.org`;
const OFFICE = Array.from({ length: 12 }, (_, i) => account(`u${String(i + 1).padStart(2, "0")}`));
const NAT_OFFICE = Array.from({ length: 8 }, (_, i) => account(`n${String(i + 1).padStart(2, "0")}`));
const NAMED = ["alice", "bob", "carol", "dave", "erin", "news"].map(account);

/** Every scenario's SASL accounts and their passwords. */
export const USERS: Readonly<Record<string, string>> = Object.fromEntries(
  [...NAMED, ...OFFICE, ...NAT_OFFICE].map((user) => [user, `pw-${user.split("@")[0]}-7c1e`]),
);

/** The spam run's tell-tale link: remote content filters refuse mail that carries it. */
const SPAM_LINK = "https://claim-your-refund.example/now";
const CONTENT_FILTERS: Readonly<Record<string, string>> = {
  "partner01.test": "550 5.7.1 Message rejected as spam by Content Filtering.",
  "partner02.test": "550 5.7.1 [P4] Message blocked due to spam content in the message.",
  "partner03.test":
    "552 5.7.0 This message was blocked because its content presents a potential security issue.",
  "partner04.test":
    "552 5.7.0 This message was blocked because its content presents a potential security issue.",
  "partner05.test": "551 5.7.1 virus infected",
  "partner06.test": "554 5.7.1 Message rejected under content policy",
};

/** The Internet: mailboxes called `gone.*` no longer exist; content filters refuse the spam run. */
export const INTERNET: InternetPolicy = {
  rcpt: (recipient) =>
    recipient.startsWith("gone.")
      ? `550 5.1.1 <${recipient}>: Recipient address rejected: User unknown in virtual mailbox table`
      : undefined,
  data: (recipients, message) => {
    if (!message.includes(SPAM_LINK)) return undefined;
    const domain = recipients[0]?.split("@")[1] ?? "";
    return CONTENT_FILTERS[domain];
  },
};

const note = (subject: string) => ({ subject, body: `${subject}\n\nSee you there.` });
const SPAM = { subject: "Your refund is waiting", body: `Claim it today: ${SPAM_LINK}` };

export interface ScenarioScript {
  name: string;
  title: string;
  run(scene: Scene): Promise<void>;
}

/** Benign users of the office network, each from their usual address. */
function officeUser(scene: Scene, user: string, address: string): ActorDriver {
  return scene.actor({
    name: user.split("@")[0] as string,
    role: "benign",
    does: `logs in as ${user} from their usual address and sends mail`,
    addresses: [address],
  });
}

const bruteForce: ScenarioScript = {
  name: "brute-force",
  title: "A single-address brute force: 5 wrong passwords for alice, one after another",
  async run(scene) {
    const alice = officeUser(scene, account("alice"), "127.0.0.10");
    const attacker = scene.actor({
      name: "brute-forcer",
      role: "attacker",
      does: "tries 5 wrong passwords for alice from one address",
      addresses: ["127.0.2.66"],
      expect: ["sasl_bruteforce"],
    });
    await alice.sendAs(account("alice"), "friend@partner10.test", note("Lunch"));
    await scene.nextPhase("day", { scored: true });
    await alice.sendAs(account("alice"), "friend@partner10.test", note("Lunch again"));
    for (const guess of ["123456", "password", "alice2026", "Welcome1", "qwerty!"])
      await attacker.guess(account("alice"), guess);
    attacker.evidenceComplete();
  },
};

const guessedPassword: ScenarioScript = {
  name: "guessed-password",
  title: "A guessed password: 6 wrong passwords for bob from one address, then the right one, then spam",
  async run(scene) {
    const bob = officeUser(scene, account("bob"), "127.0.0.12");
    const guesser = scene.actor({
      name: "guesser",
      role: "attacker",
      does: "fails 6 times for bob with AUTH LOGIN, then logs in with bob's password and sends one message",
      addresses: ["127.0.3.67"],
      expect: ["auth_after_failures", "sasl_bruteforce"],
    });
    await bob.sendAs(account("bob"), "client@partner11.test", note("Quote"));
    await scene.nextPhase("day", { scored: true });
    for (const guess of ["bob", "bob123", "Password1", "Summer2026", "letmein", "example"])
      await guesser.guess(account("bob"), guess, undefined, "LOGIN");
    await guesser.sendAs(account("bob"), "target@partner12.test", SPAM);
    guesser.evidenceComplete();
  },
};

const SPRAY_NAMES = [
  ...["alice", "bob", "carol", "info", "admin", "sales", "support", "office", "test", "postmaster"],
  ...["webmaster", "contact", "hr", "billing", "marketing", "jobs", "noreply", "news", "service", "user"],
].map(account);

const distributedSpray: ScenarioScript = {
  name: "distributed-spray",
  title: "A distributed spray: ten addresses of one network, two attempts each, twenty user names",
  async run(scene) {
    const staff = OFFICE.slice(0, 3).map((user, i) => officeUser(scene, user, `127.0.0.${11 + i}`));
    const addresses = Array.from({ length: 10 }, (_, i) => `127.0.1.${10 + i}`);
    const spray = scene.actor({
      name: "sprayer",
      role: "attacker",
      does: "ten addresses of 127.0.1.0/24 try one password each for twenty user names, two per address",
      addresses,
      expect: ["sasl_spray"],
    });
    for (const [i, user] of staff.entries())
      await user.sendAs(OFFICE[i] as string, "x@partner13.test", note("Hi"));
    await scene.nextPhase("day", { scored: true });
    for (const [i, user] of staff.entries())
      await user.sendAs(OFFICE[i] as string, "x@partner13.test", note("Hi"));
    for (const [i, user] of SPRAY_NAMES.entries())
      await spray.guess(user, "Winter2026!", addresses[i % addresses.length]);
    spray.evidenceComplete();
  },
};

/** The spam run's recipients: 100 over partner01..40.test, 3 each at the first 20, 2 at the rest. */
function spamRecipients(): string[] {
  const recipients: string[] = [];
  for (let round = 0; round < 3; round++)
    for (let domain = 1; domain <= 40; domain++) {
      if (round === 2 && domain > 20) continue;
      const local = round === 1 && domain % 10 === 7 ? `gone.user${domain}` : `contact${round}`;
      recipients.push(`${local}@partner${String(domain).padStart(2, "0")}.test`);
    }
  return recipients;
}

const moderateCompromise: ScenarioScript = {
  name: "moderate-compromise",
  title:
    "A moderate compromise: carol's account, from an address it never used, sends 60 messages to 100 recipients over 40 domains; remote content filters refuse a fifth",
  async run(scene) {
    const carol = officeUser(scene, account("carol"), "127.0.0.30");
    const alice = officeUser(scene, account("alice"), "127.0.0.10");
    const intruder = scene.actor({
      name: "intruder",
      role: "attacker",
      does: "logs in as carol from a new address and sends 60 spam messages to 100 recipients over 40 domains",
      addresses: ["127.0.4.99"],
      expect: ["compromised_sender"],
    });
    for (const subject of ["Invoice 1041", "Minutes", "Re: visit"])
      await carol.sendAs(account("carol"), ["ap@partner21.test", "x@partner22.test"], note(subject));
    await alice.sendAs(account("alice"), "friend@partner10.test", note("Lunch"));
    await scene.nextPhase("day", { scored: true });
    await carol.sendAs(account("carol"), "ap@partner21.test", note("Invoice 1042"));
    const recipients = spamRecipients();
    const answered = scene.sink.answers.length;
    for (let at = 0, message = 0; at < recipients.length; message++) {
      const size = message < 40 ? 2 : 1;
      await intruder.sendAs(account("carol"), recipients.slice(at, at + size), SPAM);
      at += size;
    }
    await scene.waitForAnswers(answered + recipients.length);
    intruder.evidenceComplete();
  },
};

const relayProbe: ScenarioScript = {
  name: "relay-probe",
  title: "A relay probe: five attempts to relay through the MX to outside domains",
  async run(scene) {
    const sender = scene.actor({
      name: "partner-mta",
      role: "benign",
      does: "delivers mail for bob to the MX",
      addresses: ["127.0.0.80"],
    });
    const prober = scene.actor({
      name: "relay-prober",
      role: "attacker",
      does: "asks the MX five times to relay to outside domains",
      addresses: ["127.0.5.70"],
      expect: ["relay_probe"],
    });
    await sender.session("smtp", { ehlo: "mx.partner30.test", from: "a@partner30.test", to: account("bob") });
    await scene.nextPhase("day", { scored: true });
    await sender.session("smtp", { ehlo: "mx.partner30.test", from: "a@partner30.test", to: account("bob") });
    for (const target of ["relay@probe.test", "x@gmail.test", "y@yahoo.test", "z@hotmail.test", "w@aol.test"])
      await prober.session("smtp", { ehlo: "WIN-9QL4SDRB93L", from: "spammer@domain.test", to: target });
    prober.evidenceComplete();
  },
};

const clientAbuse: ScenarioScript = {
  name: "client-abuse",
  title:
    "Client abuse: refused HELOs and senders, HTTP at the MX, pregreeting, errors, dropped AUTHs, honeypot names",
  async run(scene) {
    const abuser = (name: string, does: string, address: string, rule: string) =>
      scene.actor({ name, role: "attacker", does, addresses: [address], expect: [rule] });
    const sender = scene.actor({
      name: "partner-mta",
      role: "benign",
      does: "delivers mail for bob, and once for a mistyped alice (an unknown recipient)",
      addresses: ["127.0.0.80"],
    });
    const alice = officeUser(scene, account("alice"), "127.0.0.10");
    const helo = abuser(
      "bad-helo",
      "greets as a refused HELO name three times",
      "127.0.6.1",
      "client_rejects",
    );
    const http = abuser(
      "http-scanner",
      "sends HTTP requests to the MX twice",
      "127.0.6.2",
      "client_protocol_abuse",
    );
    const blocked = abuser(
      "blocked-sender",
      "tries a refused sender domain three times",
      "127.0.6.3",
      "client_rejects",
    );
    const pregreet = abuser(
      "pregreeter",
      "talks before postscreen's greeting twice",
      "127.0.6.4",
      "client_protocol_abuse",
    );
    const harvester = abuser(
      "error-harvester",
      "is cut off for too many errors twice",
      "127.0.6.5",
      "client_rejects",
    );
    const dropper = abuser(
      "auth-dropper",
      "starts AUTH and drops the connection three times",
      "127.0.6.6",
      "client_rejects",
    );
    const honeypot = abuser(
      "honeypot-names",
      "tries the user names admin and test",
      "127.0.6.7",
      "honeypot_login",
    );
    await sender.session("smtp", { ehlo: "mx.partner30.test", from: "a@partner30.test", to: account("bob") });
    await alice.sendAs(account("alice"), "friend@partner10.test", note("Lunch"));
    await scene.nextPhase("day", { scored: true });
    await sender.session("smtp", { ehlo: "mx.partner30.test", from: "a@partner30.test", to: account("bob") });
    await sender.session("smtp", {
      ehlo: "mx.partner30.test",
      from: "b@partner30.test",
      to: account("alcie"),
    });
    await alice.sendAs(account("alice"), "friend@partner10.test", note("Lunch again"));
    for (let i = 0; i < 3; i++)
      await helo.session("smtp", {
        ehlo: "evil.example.net",
        from: "x@evil.example.net",
        to: account("bob"),
      });
    helo.evidenceComplete();
    for (let i = 0; i < 2; i++) await http.raw("smtp", "GET / HTTP/1.1\r\nHost: mx1\r\n\r\n");
    http.evidenceComplete();
    for (let i = 0; i < 3; i++)
      await blocked.session("smtp", {
        ehlo: "mail.blocked.example",
        from: "offer@blocked.example",
        to: account("bob"),
      });
    blocked.evidenceComplete();
    for (let i = 0; i < 2; i++)
      await pregreet.talk("postscreen", {
        pregreet: "EHLO ylmf-pc",
        commands: ["EHLO ylmf-pc", "MAIL FROM:<bot@example.net>", `RCPT TO:<${account("bob")}>`],
        quit: true,
      });
    pregreet.evidenceComplete();
    const unknown = ["admin1", "admin2", "admin3"].map(account);
    for (let i = 0; i < 2; i++)
      await harvester.session("smtp", { ehlo: "harvest.example.net", from: "h@example.net", to: unknown });
    harvester.evidenceComplete();
    for (let i = 0; i < 3; i++)
      await dropper.talk("submission", { commands: ["EHLO bot", "AUTH LOGIN"], quit: false });
    dropper.evidenceComplete();
    for (const name of ["admin", "test"]) await honeypot.guess(account(name), "admin");
    honeypot.evidenceComplete();
  },
};

const knownAddressWhileAttacked: ScenarioScript = {
  name: "known-address-while-attacked",
  title: "alice logs in from her usual address while an attacker elsewhere fails 8 times against her account",
  async run(scene) {
    const alice = officeUser(scene, account("alice"), "127.0.0.10");
    const attacker = scene.actor({
      name: "brute-forcer",
      role: "attacker",
      does: "fails 8 times for alice with AUTH LOGIN from one address",
      addresses: ["127.0.7.90"],
      expect: ["sasl_bruteforce"],
    });
    await alice.sendAs(account("alice"), "friend@partner10.test", note("Lunch"));
    await alice.sendAs(account("alice"), "team@partner14.test", note("Plan"));
    await scene.nextPhase("day", { scored: true });
    for (let i = 1; i <= 8; i++) {
      await attacker.guess(account("alice"), `Spring${2018 + i}!`, undefined, "LOGIN");
      if (i === 5) attacker.evidenceComplete();
    }
    await alice.sendAs(account("alice"), "friend@partner10.test", note("Lunch again"));
  },
};

/** The newsletter's 150 readers over 60 domains, a few of them gone. */
function readers(): string[] {
  return Array.from({ length: 150 }, (_, i) => {
    const domain =
      i % 60 < 6 ? `partner0${(i % 60) + 1}.test` : `reader${String(i % 60).padStart(2, "0")}.test`;
    return `${i % 37 === 5 ? "gone." : ""}reader${i}@${domain}`;
  });
}

const busyBenignDay: ScenarioScript = {
  name: "busy-benign-day",
  title:
    "A busy benign day: a newsletter at its usual volume, an office's morning, a NAT office, a stale phone, a user mailing 40 colleagues",
  async run(scene) {
    const news = scene.actor({
      name: "newsletter",
      role: "benign",
      does: "news@ sends its newsletter to 150 readers over 60 domains in three batches, as every day",
      addresses: ["127.0.0.40"],
    });
    const office = OFFICE.map((user, i) => officeUser(scene, user, `127.0.0.${11 + i}`));
    const nat = scene.actor({
      name: "nat-office",
      role: "benign",
      does: "eight users behind one NAT address log in and send; two mistype their password once first",
      addresses: ["127.0.0.60"],
    });
    const dave = scene.actor({
      name: "dave",
      role: "benign",
      does: "dave's laptop logs in and sends; his phone keeps trying an old password",
      addresses: ["127.0.0.50", "127.0.0.51"],
    });
    const erin = officeUser(scene, account("erin"), "127.0.0.45");
    const partner = scene.actor({
      name: "partner-mta",
      role: "benign",
      does: "delivers mail for bob, and once for a mistyped alice (an unknown recipient)",
      addresses: ["127.0.0.80"],
    });
    const newsletter = async () => {
      const list = readers();
      for (let at = 0; at < list.length; at += 50)
        await news.sendAs(account("news"), list.slice(at, at + 50), note("This week at Example"));
    };
    const workday = async (mistypes: readonly number[]) => {
      for (const [i, user] of office.entries())
        await user.sendAs(OFFICE[i] as string, `client${i}@partner${15 + (i % 5)}.test`, note("Morning"));
      for (const [i, user] of NAT_OFFICE.entries()) {
        if (mistypes.includes(i)) await nat.guess(user, "typo-password");
        await nat.sendAs(user, `supplier@partner2${i % 3}.test`, note("Order"));
      }
      await dave.sendAs(account("dave"), "x@partner23.test", note("Report"));
      await partner.session("smtp", {
        ehlo: "mx.partner30.test",
        from: "a@partner30.test",
        to: account("bob"),
      });
    };
    await newsletter();
    await workday([]);
    for (let i = 0; i < 2; i++) await dave.guess(account("dave"), "old-password-2025", "127.0.0.51");
    await erin.sendAs(account("erin"), "colleague1@staff.example.com", note("Question"));
    await scene.nextPhase("day", { scored: true });
    await newsletter();
    await workday([2, 5]);
    await partner.session("smtp", {
      ehlo: "mx.partner30.test",
      from: "b@partner30.test",
      to: account("alcie"),
    });
    const colleagues = Array.from({ length: 40 }, (_, i) => `colleague${i + 1}@staff.example.com`);
    await erin.sendAs(account("erin"), colleagues, note("All-hands moved to Thursday"));
    for (let i = 0; i < 3; i++) {
      await dave.guess(account("dave"), "old-password-2025", "127.0.0.51");
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  },
};

export const SCRIPTS: readonly ScenarioScript[] = [
  bruteForce,
  guessedPassword,
  distributedSpray,
  moderateCompromise,
  relayProbe,
  clientAbuse,
  knownAddressWhileAttacked,
  busyBenignDay,
];
