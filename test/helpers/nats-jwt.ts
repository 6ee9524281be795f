/**
 * A NATS operator, one account with JetStream and one user, signed as `nsc` would sign them: the
 * nats-server configuration that trusts them (operator mode, memory resolver) and the user's
 * credentials file, the form NATS_CREDS_FILE takes. JWTs are built here from their published
 * format (a header, the claims, an Ed25519 signature by the issuer's NKey, base64url each) because
 * `nsc` is not packaged for Debian.
 */
import { createHash } from "node:crypto";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";

const HEADER = { typ: "JWT", alg: "ed25519-nkey" };
const UNLIMITED = { subs: -1, data: -1, payload: -1 };
const base64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString("base64url");
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("ascii");

function sign(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = {
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  // The JWT ID: a hash of the claims without it, as the NATS JWT library writes it.
  claims.jti = createHash("sha256").update(JSON.stringify(claims)).digest("base64url");
  const unsigned = `${base64url(JSON.stringify(HEADER))}.${base64url(JSON.stringify(claims))}`;
  return `${unsigned}.${base64url(issuer.sign(Buffer.from(unsigned)))}`;
}

export interface NatsTrust {
  /** nats-server configuration (operator, resolver, the account preloaded); JetStream and the port come from flags. */
  serverConfig: string;
  /** The user's credentials file. */
  creds: string;
  /** The seed in that file, which must never be logged. */
  userSeed: string;
}

export function natsTrust(): NatsTrust {
  const operator = createOperator();
  const account = createAccount();
  // JetStream in operator mode needs the server's own account declared.
  const system = createAccount();
  const user = createUser();
  const operatorJwt = sign(operator, operator.getPublicKey(), "postwatch-test-operator", {
    type: "operator",
  });
  const accountJwt = sign(operator, account.getPublicKey(), "postwatch", {
    type: "account",
    limits: {
      ...UNLIMITED,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
      mem_storage: -1,
      disk_storage: -1,
      streams: -1,
      consumer: -1,
    },
  });
  const systemJwt = sign(operator, system.getPublicKey(), "SYS", { type: "account", limits: UNLIMITED });
  const userJwt = sign(account, user.getPublicKey(), "postwatch-svc", {
    type: "user",
    pub: {},
    sub: {},
    ...UNLIMITED,
  });
  const userSeed = text(user.getSeed());
  return {
    serverConfig: [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      "resolver: MEMORY",
      `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${system.getPublicKey()}: ${systemJwt} }`,
      "",
    ].join("\n"),
    creds: [
      "-----BEGIN NATS USER JWT-----",
      userJwt,
      "------END NATS USER JWT------",
      "",
      "-----BEGIN USER NKEY SEED-----",
      userSeed,
      "------END USER NKEY SEED------",
      "",
    ].join("\n"),
    userSeed,
  };
}
