import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeNovelty, LoginHistory } from "./login-history.js";

const DAY = 86_400_000;

describe("LoginHistory", () => {
  it("tells a usual address, a new address in a known network, a new address and a user without history", () => {
    const history = new LoginHistory();
    assert.equal(history.learn("alice@example.org", "198.51.100.7", 0).kind, "first");
    assert.equal(
      history.learn("Alice@Example.org", "198.51.100.7", DAY).kind,
      "known",
      "user names ignore case",
    );
    assert.equal(history.learn("alice@example.org", "198.51.100.8", 2 * DAY).kind, "known_network");
    assert.equal(history.learn("alice@example.org", "2001:db8:1:2::a", 3 * DAY).kind, "new");
    assert.equal(
      history.learn("alice@example.org", "2001:db8:1:2::b", 3 * DAY).kind,
      "known_network",
      "same /64",
    );
    assert.equal(history.learn("alice@example.org", "2001:db8:1:3::b", 3 * DAY).kind, "new", "another /64");
  });

  it("forgets a place not seen for 30 days, and says so", () => {
    const history = new LoginHistory();
    history.learn("bob@example.org", "192.0.2.1", 0);
    history.learn("bob@example.org", "203.0.113.5", 10 * DAY);
    const novelty = history.learn("bob@example.org", "192.0.2.1", 31 * DAY);
    assert.equal(novelty.kind, "new");
    assert.equal(
      describeNovelty(novelty, history.forgetAfterMs, 31 * DAY),
      "first login from 192.0.2.1, not seen in 30 days",
    );
    assert.ok(history.knowsUser("bob@example.org", 31 * DAY));
    assert.ok(!history.knowsUser("bob@example.org", 62 * DAY), "nothing left after 30 quiet days");
    assert.ok(!history.knowsClient("203.0.113.5", 41 * DAY));
  });

  it("stays bounded: places per user, users and clients, least recently seen first out", () => {
    const history = new LoginHistory({ maxPlacesPerUser: 4, maxUsers: 2, maxClients: 3 });
    for (let i = 0; i < 5; i++) history.learn("carol@example.org", `10.0.${i}.1`, i * 1000);
    assert.equal(history.novelty("carol@example.org", "10.0.4.1", 5000).kind, "known");
    assert.equal(history.novelty("carol@example.org", "10.0.0.1", 5000).kind, "new", "evicted");
    history.learn("dave@example.org", "10.1.0.1", 6000);
    history.learn("erin@example.org", "10.2.0.1", 7000);
    assert.equal(history.size, 2);
    assert.ok(!history.knowsUser("carol@example.org", 8000), "the least recently active user went first");
    assert.ok(!history.knowsClient("10.0.3.1", 8000), "three clients kept: the newest");
    assert.ok(history.knowsClient("10.0.4.1", 8000));
    assert.ok(history.knowsClient("10.2.0.1", 8000));
  });

  it("marks mail from an address new to the user for a day after its first login", () => {
    const history = new LoginHistory();
    history.learn("frank@example.org", "192.0.2.9", 0);
    history.learn("frank@example.org", "198.51.100.66", DAY);
    assert.ok(history.sendsFromNewAddress("frank@example.org", "198.51.100.66", DAY + 60_000));
    assert.ok(!history.sendsFromNewAddress("frank@example.org", "198.51.100.66", 2 * DAY + 1));
    assert.ok(
      !history.sendsFromNewAddress("frank@example.org", "192.0.2.9", DAY),
      "the first address is no news",
    );
  });
});
