/**
 * Who appears in a generated log. Fixed across seeds so tests can assert on the ground truth: the
 * seed changes the traffic, never who the attackers are.
 */
export const MAIL_HOST = "mx1";
export const SERVER_NAME = "mx1.example.org";
export const SERVER_IP = "192.0.2.1";
export const LOCAL_DOMAINS = ["example.org", "example.net"] as const;

export interface Client {
  name: string;
  ip: string;
}

/** SASL accounts that log in from their usual address and send a few messages each. */
export const LEGITIMATE_USERS: readonly { user: string; client: Client }[] = [
  "alice@example.org",
  "bob@example.org",
  "carol@example.org",
  "dave@example.net",
  "erin@example.org",
  "frank@example.net",
  "grace@example.org",
  "heidi@example.net",
].map((user, index) => ({
  user,
  client: { name: `host-198-51-100-${10 + index}.isp.example`, ip: `198.51.100.${10 + index}` },
}));

/** Local mailboxes that receive inbound mail (the users, plus role accounts). */
export const LOCAL_MAILBOXES: readonly string[] = [
  ...LEGITIMATE_USERS.map((u) => u.user),
  "postmaster@example.org",
  "info@example.net",
  "sales@example.org",
];

/** SASL password guessers: a few addresses, one of them IPv6, as brute force usually looks. */
export const BRUTE_FORCE_IPS = ["198.18.7.21", "198.18.7.22", "198.18.40.3", "2001:db8:bad::17"] as const;

/** Seed 003: the account whose password leaked, and the addresses that abuse it. */
export const COMPROMISED_ACCOUNT = {
  user: "erin@example.org",
  abuseIps: ["198.19.66.5", "198.19.66.9", "198.19.201.44"],
} as const;

/** Everything a test may assert on, in one object. */
export const GROUND_TRUTH = {
  host: MAIL_HOST,
  legitimateUsers: LEGITIMATE_USERS.map((u) => u.user),
  legitimateClientIps: LEGITIMATE_USERS.map((u) => u.client.ip),
  bruteForceIps: [...BRUTE_FORCE_IPS],
  compromisedAccount: { user: COMPROMISED_ACCOUNT.user, abuseIps: [...COMPROMISED_ACCOUNT.abuseIps] },
} as const;

const REMOTE_WORDS = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne"];
const REMOTE_SUFFIXES = ["example", "test", "example.com", "example.net"];

/** Remote domain number `n`, e.g. `globex17.example`: as many distinct domains as a test needs. */
export function remoteDomain(n: number): string {
  const word = REMOTE_WORDS[n % REMOTE_WORDS.length] as string;
  const suffix = REMOTE_SUFFIXES[Math.floor(n / REMOTE_WORDS.length) % REMOTE_SUFFIXES.length] as string;
  return `${word}${n}.${suffix}`;
}

/** Remote MX number `n`: a name and an address in TEST-NET-3 / TEST-NET-1. */
export function remoteClient(n: number): Client {
  const ip = n % 2 === 0 ? `203.0.113.${1 + (n % 250)}` : `192.0.2.${10 + (n % 240)}`;
  return { name: n % 5 === 0 ? "unknown" : `mail.${remoteDomain(n)}`, ip };
}
