/// <reference types="node" />
import { describe, expect, it } from "vitest";
import { Platform } from "../../../sdk/appserver";
import { PresenceFrameError } from "../../../sdk/client";
import { appServer, eventually, sleep } from "../helpers";
import { listener, someone, watcherSession } from "./real-sessions";

describe("client SDK presence subscriptions against the real worker", () => {
  it("watch: hears the current state, then each change; unwatch stops it", async () => {
    const [alice, bob] = [await someone("alice"), await someone("bob")];
    const aliceWeb = await alice.online(Platform.Web);
    const { session } = await watcherSession();
    const { heard, onChange } = listener();
    try {
      const stop = session.watch([alice.uid, bob.uid], onChange);
      await eventually("snapshot", () => heard.length === 2);
      expect(heard).toEqual([
        { userID: alice.uid, status: "online", platforms: ["Web"], seq: 1 },
        { userID: bob.uid, status: "offline", seq: 0 },
      ]);

      const alicePhone = await alice.online(Platform.IOS);
      await eventually("alice on two platforms", () => heard.length === 3);
      expect(heard[2]).toEqual({ userID: alice.uid, status: "online", platforms: ["IOS", "Web"], seq: 2 });
      aliceWeb.close();
      alicePhone.close();
      await eventually("alice offline", () => session.presenceOf(alice.uid)?.status === "offline");
      expect(session.presenceOf(alice.uid)).toMatchObject({ lastSeen: expect.any(Number) });

      stop();
      expect(session.presenceOf(bob.uid)).toBeUndefined();
      const count = heard.length;
      const bobWeb = await bob.online(Platform.Web);
      await sleep(1_000);
      expect(heard).toHaveLength(count);
      bobWeb.close();
    } finally {
      session.close();
    }
  });

  it("after a lost connection it reconnects, subscribes again by itself and hears what changed meanwhile, nothing twice", async () => {
    const alice = await someone("alice");
    const aliceWeb = await alice.online(Platform.Web);
    const { session, events, sockets } = await watcherSession();
    const { heard, onChange } = listener();
    try {
      session.watch([alice.uid], onChange);
      await eventually("snapshot", () => heard.length === 1);
      expect(heard[0]).toMatchObject({ status: "online", seq: 1 });

      // Cut the watcher's socket with no close frame, and change alice while it is away.
      sockets.at(-1)!.terminate();
      aliceWeb.close();
      await eventually("reconnected", () => events.open.length === 2);
      await eventually("alice offline, from the new socket's snapshot", () => heard.length === 2, 5_000);
      expect(heard[1]).toMatchObject({ userID: alice.uid, status: "offline", seq: 2 });

      const aliceAgain = await alice.online(Platform.Android);
      await eventually("alice back", () => heard.length === 3);
      expect(heard[2]).toMatchObject({ status: "online", platforms: ["Android"], seq: 3 });
      await sleep(500);
      expect(heard.map((u) => u.seq)).toEqual([1, 2, 3]);
      aliceAgain.close();
    } finally {
      session.close();
    }
  });

  it("hears a deleted user's reset (seq 0) in place of its state, then the user registered again from seq 1", async () => {
    const bob = await someone("bob");
    const bobWeb = await bob.online(Platform.Web);
    const bobPhone = await bob.online(Platform.IOS);
    const { session } = await watcherSession();
    const { heard, onChange } = listener();
    try {
      session.watch([bob.uid], onChange);
      await eventually("snapshot", () => heard.length === 1);
      expect(heard[0]).toMatchObject({ status: "online", platforms: ["IOS", "Web"], seq: 2 });

      await appServer().deleteUsers([bob.uid]);
      await eventually("reset", () => session.presenceOf(bob.uid)?.seq === 0);
      expect(session.presenceOf(bob.uid)).toEqual({ userID: bob.uid, status: "offline", seq: 0 });

      // The uid again, a new user: its first entry has seq 1, below the 2 heard before the reset.
      await appServer().registerUser({ uid: bob.uid, platform: Platform.Android, name: "new bob" });
      const newBob = await bob.online(Platform.Android);
      await eventually("the new bob online", () => session.presenceOf(bob.uid)?.status === "online");
      expect(session.presenceOf(bob.uid)).toEqual({
        userID: bob.uid,
        status: "online",
        platforms: ["Android"],
        seq: 1,
      });
      expect(heard.map((u) => [u.status, u.seq])).toEqual([
        ["online", 2],
        ["offline", 0],
        ["online", 1],
      ]);
      newBob.close();
    } finally {
      bobWeb.close();
      bobPhone.close();
      session.close();
    }
  });

  it("after a reconnect takes the snapshot of a user deleted and registered again while it was away, though its seq is lower", async () => {
    const bob = await someone("bob");
    const bobWeb = await bob.online(Platform.Web);
    const bobPhone = await bob.online(Platform.IOS);
    // Three seconds away after the cut: long enough to delete bob, register the uid again and go online.
    const { session, events, sockets } = await watcherSession({ initialDelayMs: 3_000, maxDelayMs: 3_000 });
    const { heard, onChange } = listener();
    try {
      session.watch([bob.uid], onChange);
      await eventually("snapshot", () => heard.length === 1);
      expect(heard[0]).toMatchObject({ status: "online", seq: 2 });

      sockets.at(-1)!.terminate();
      await appServer().deleteUsers([bob.uid]);
      await appServer().registerUser({ uid: bob.uid, platform: Platform.Android, name: "new bob" });
      const newBob = await bob.online(Platform.Android);
      expect(events.open).toHaveLength(1);

      await eventually("reconnected", () => events.open.length === 2, 8_000);
      await eventually("the new bob, from the new socket's snapshot", () => heard.length === 2, 5_000);
      expect(heard[1]).toEqual({ userID: bob.uid, status: "online", platforms: ["Android"], seq: 1 });
      expect(session.presenceOf(bob.uid)).toEqual(heard[1]);
      newBob.close();
    } finally {
      bobWeb.close();
      bobPhone.close();
      session.close();
    }
  });

  it("setInvisible: watchers see the user offline, the AppServer sees the truth marked invisible; false shows it again", async () => {
    const alice = await someone("alice");
    const aliceWeb = await alice.online(Platform.Web);
    const { session } = await watcherSession();
    const { heard, onChange } = listener();
    try {
      session.watch([alice.uid], onChange);
      await eventually("snapshot", () => heard.length === 1);
      expect(heard[0]).toMatchObject({ status: "online", seq: 1 });

      aliceWeb.setInvisible(true);
      await eventually("alice offline to her watchers", () => heard.length === 2);
      expect(heard[1]).toEqual({ userID: alice.uid, status: "offline", lastSeen: expect.any(Number), seq: 2 });
      expect((await appServer().getUsersOnlineStatus([alice.uid]))[0]).toMatchObject({
        status: "online",
        invisible: true,
      });

      aliceWeb.setInvisible(false);
      await eventually("alice back", () => heard.length === 3);
      expect(heard[2]).toEqual({ userID: alice.uid, status: "online", platforms: ["Web"], seq: 3 });
      expect((await appServer().getUsersOnlineStatus([alice.uid]))[0]).not.toHaveProperty("invisible");
    } finally {
      aliceWeb.close();
      session.close();
    }
  });

  it("reports a subscribe the server refuses as a PresenceFrameError; the session stays open", async () => {
    const { session, events } = await watcherSession();
    try {
      session.watch(["x".repeat(65)], () => {});
      await eventually("error event", () => events.error.length === 1);
      const [{ error }] = events.error as [{ error: Error }];
      expect(error).toBeInstanceOf(PresenceFrameError);
      expect(error).toMatchObject({ errCode: 400, errMsg: expect.stringMatching(/userIDs/) });
      expect(session.state).toBe("open");
      expect(() =>
        session.watch(
          Array.from({ length: 3_001 }, (_, i) => `u${i}`),
          () => {},
        ),
      ).toThrow(RangeError);
    } finally {
      session.close();
    }
  });
});
