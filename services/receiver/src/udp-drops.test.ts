import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { udpDropsFor } from "./udp-drops.js";

// Two sockets on port 5514 (0x158A), IPv4 any and loopback, and one on 514.
const TABLE = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  120: 00000000:158A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2001 2 0000000000000000 17
  121: 0100007F:158A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2002 2 0000000000000000 3
  122: 00000000:0202 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2003 2 0000000000000000 99
`;

describe("kernel UDP drops", () => {
  it("sums the drops of the sockets bound to the port", () => {
    assert.equal(udpDropsFor(TABLE, 5514), 20);
    assert.equal(udpDropsFor(TABLE, 514), 99);
  });

  it("reads IPv6 addresses and ignores other ports and a table with no sockets", () => {
    const v6 = `${TABLE.split("\n")[0]}\n  7: 00000000000000000000000000000000:158A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 2004 2 0000000000000000 5\n`;
    assert.equal(udpDropsFor(v6, 5514), 5);
    assert.equal(udpDropsFor(v6, 5515), 0);
    assert.equal(udpDropsFor(TABLE.split("\n")[0] ?? "", 5514), 0);
  });
});
