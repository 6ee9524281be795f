/**
 * Signs the generic webhook's requests, as Stripe and Slack sign theirs, so that the receiving end
 * (a SIEM, a ticketing bridge) can tell postwatch's alerts from anyone else's POST: HMAC-SHA256
 * over `<timestamp>.<body>` with WEBHOOK_SECRET. The timestamp is signed too, so a captured request
 * cannot be replayed later than the receiver's tolerance. docs/contracts.md shows the check.
 */
import { createHmac } from "node:crypto";

export const TIMESTAMP_HEADER = "x-postwatch-timestamp";
export const SIGNATURE_HEADER = "x-postwatch-signature";

export function signatureHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `sha256=${mac}` };
}
