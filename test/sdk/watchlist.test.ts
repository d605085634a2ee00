import { describe, expect, it } from "vitest";
import type { WatchedUser } from "../../protocol";
import { Watchlist } from "../../sdk/watchlist";

const online = (userID: string, seq: number, platforms = ["Web"]): WatchedUser =>
  ({ userID, status: "online", platforms, seq }) as WatchedUser;
const offline = (userID: string, seq: number): WatchedUser => ({
  userID,
  status: "offline",
  lastSeen: 1_000 * seq,
  seq,
});
const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function recorder() {
  const heard: WatchedUser[] = [];
  return { heard, listener: (user: WatchedUser) => void heard.push(user) };
}

describe("the SDK's watchlist", () => {
  it("asks to subscribe only to users not watched yet, in frames of at most 200 ids", () => {
    const list = new Watchlist(() => {});
    const frames = list.add(ids(450), () => {});
    expect(frames.map((f) => [f.type, f.userIDs.length])).toEqual([
      ["subscribe", 200],
      ["subscribe", 200],
      ["subscribe", 50],
    ]);
    expect(frames.flatMap((f) => f.userIDs)).toEqual(ids(450));
    expect(list.add(["u1", "u1", "new"], () => {})).toEqual([{ type: "subscribe", userIDs: ["new"] }]);
    expect(list.resubscribeFrames().flatMap((f) => f.userIDs)).toEqual([...ids(450), "new"]);
  });

  it("refuses to watch more than 3,000 users, and changes nothing when it does", () => {
    const list = new Watchlist(() => {});
    list.add(ids(2_999), () => {});
    expect(() => list.add(["x", "y"], () => {})).toThrow(RangeError);
    expect(list.userIDs).toHaveLength(2_999);
    expect(list.add(["x", "u0"], () => {})).toEqual([{ type: "subscribe", userIDs: ["x"] }]);
  });

  it("passes on only entries newer than the one it has, per user, whatever order they arrive in", () => {
    const list = new Watchlist(() => {});
    const { heard, listener } = recorder();
    list.add(["a", "b"], listener);
    list.apply([online("a", 3), offline("b", 1)]);
    list.apply([offline("a", 2), online("a", 3, ["IOS"]), online("b", 4)]);
    list.apply([offline("a", 5), online("a", 4)]);
    expect(heard.map((u) => `${u.userID}${u.seq}`)).toEqual(["a3", "b1", "b4", "a5"]);
    expect(list.stateOf("a")).toEqual(offline("a", 5));
  });

  it("takes a seq-0 entry as a reset that replaces any known state; the entries after it count from there", () => {
    const list = new Watchlist(() => {});
    const { heard, listener } = recorder();
    const reset: WatchedUser = { userID: "a", status: "offline", seq: 0 };
    list.add(["a"], listener);
    list.apply([online("a", 17)]);
    // Deleted: the reset replaces seq 17; a repeat of it changes nothing.
    list.apply([reset]);
    list.apply([reset]);
    expect(list.stateOf("a")).toEqual(reset);
    // Registered again: its seq starts from 1, below the 17 heard before the reset.
    list.apply([online("a", 1), offline("a", 2), online("a", 1)]);
    expect(heard).toEqual([online("a", 17), reset, online("a", 1), offline("a", 2)]);
    expect(list.stateOf("a")).toEqual(offline("a", 2));
  });

  it("takes a new socket's snapshot as the state now: a lower seq is a user registered again while the session was away", () => {
    const list = new Watchlist(() => {});
    const { heard, listener } = recorder();
    list.add(["a", "b", "c"], listener);
    list.apply([online("a", 17), offline("b", 4), online("c", 3)]);
    list.resubscribeFrames();
    // a: deleted and registered again meanwhile; b: unchanged (not heard twice);
    // c: registered again and at the same seq by now, on another platform.
    list.apply([online("a", 2, ["IOS"]), offline("b", 4), online("c", 3, ["Android"])]);
    // After the snapshot the usual order holds again.
    list.apply([online("a", 1), offline("a", 3), offline("b", 3)]);
    expect(heard.map((u) => `${u.userID}${u.seq}`)).toEqual(["a17", "b4", "c3", "a2", "c3", "a3"]);
    expect(list.stateOf("c")).toEqual(online("c", 3, ["Android"]));
    // Only the first entry per user after a resubscribe counts as its snapshot.
    list.apply([online("c", 1)]);
    expect(list.stateOf("c")).toEqual(online("c", 3, ["Android"]));
  });

  it("passes background and custom status through as the server sent them, and tells a snapshot that differs only in them", () => {
    const list = new Watchlist(() => {});
    const { heard, listener } = recorder();
    const busy: WatchedUser = {
      userID: "a",
      status: "online",
      platforms: ["IOS", "Web"],
      background: ["IOS"],
      customStatus: { text: "In a meeting", expiresAt: 1_764_300_000 },
      seq: 5,
    };
    const away: WatchedUser = { userID: "b", status: "offline", lastSeen: 1_000, customStatus: { text: "🌴" }, seq: 3 };
    list.add(["a", "b"], listener);
    list.apply([busy, away]);
    expect(heard).toEqual([busy, away]);
    expect([list.stateOf("a"), list.stateOf("b")]).toEqual([busy, away]);

    // A new socket's snapshot at the same seq (the users were deleted and registered again meanwhile, and
    // got as far): a state that differs in background or custom status only is still a new state.
    list.resubscribeFrames();
    const other = [
      { ...busy, background: ["Web"] } as WatchedUser,
      { ...away, customStatus: { text: "🌴", expiresAt: 1_764_300_000 } },
    ];
    list.apply(other);
    expect(heard.slice(2)).toEqual(other);
    list.resubscribeFrames();
    const renamed = [{ ...other[0], customStatus: { text: "Lunch", expiresAt: 1_764_300_000 } } as WatchedUser];
    list.apply(renamed);
    list.resubscribeFrames();
    const cleared = [{ ...busy, customStatus: undefined } as WatchedUser];
    list.apply(cleared);
    expect(heard.slice(4)).toEqual([...renamed, ...cleared]);
    // ...and an unchanged one is not heard twice.
    list.resubscribeFrames();
    list.apply([{ ...cleared[0] } as WatchedUser, { ...other[1] } as WatchedUser]);
    expect(heard).toHaveLength(6);
  });

  it("ignores entries of users no longer watched, and forgets their state", () => {
    const list = new Watchlist(() => {});
    const { heard, listener } = recorder();
    list.add(["a"], listener);
    list.apply([online("a", 1)]);
    expect(list.remove(["a"])).toEqual([{ type: "unsubscribe", userIDs: ["a"] }]);
    list.apply([offline("a", 2), online("zzz", 1)]);
    expect(heard).toEqual([online("a", 1)]);
    expect(list.stateOf("a")).toBeUndefined();
  });

  it("unsubscribes a user only when its last listener goes; a new listener hears the known state after add returns", async () => {
    const list = new Watchlist(() => {});
    const first = recorder();
    const second = recorder();
    list.add(["a"], first.listener);
    list.apply([online("a", 7)]);
    expect(list.add(["a"], second.listener)).toEqual([]);
    expect(second.heard).toEqual([]);
    await flush();
    expect(second.heard).toEqual([online("a", 7)]);
    expect(list.remove(["a"], first.listener)).toEqual([]);
    list.apply([offline("a", 8)]);
    expect(first.heard).toEqual([online("a", 7)]);
    expect(second.heard).toEqual([online("a", 7), offline("a", 8)]);
    expect(list.remove(["a"], second.listener)).toEqual([{ type: "unsubscribe", userIDs: ["a"] }]);
  });

  it("after a failed subscribe asks again for the users no entry has answered yet, in the order first watched", () => {
    const list = new Watchlist(() => {});
    list.add(["a", "b"], () => {});
    expect(list.allAnswered).toBe(false);
    list.apply([online("a", 2)]);
    expect(list.retryFrames()).toEqual([{ type: "subscribe", userIDs: ["b"] }]);
    list.add(["c", "d"], () => {});
    list.remove(["d"]);
    expect(list.retryFrames()).toEqual([{ type: "subscribe", userIDs: ["b", "c"] }]);
    list.apply([offline("c", 1), offline("b", 1)]);
    expect(list.allAnswered).toBe(true);
    expect(list.retryFrames()).toEqual([]);
    // A new socket: nothing is answered; more than 200 users go in frames of 200.
    list.add(ids(450), () => {});
    list.apply(ids(450).map((id) => offline(id, 1)));
    list.resubscribeFrames();
    expect(list.retryFrames().map((frame) => frame.userIDs.length)).toEqual([200, 200, 53]);
    // Any entry answers its user, even a repeat of the state known, which the listeners do not hear.
    list.apply([online("a", 2), offline("b", 1), offline("c", 1), ...ids(200).map((id) => offline(id, 1))]);
    expect(list.retryFrames().flatMap((frame) => frame.userIDs)).toEqual(ids(450).slice(200));
    expect(list.allAnswered).toBe(false);
  });

  it("reports a listener that throws and still calls the others", () => {
    const errors: Error[] = [];
    const list = new Watchlist((error) => errors.push(error));
    const { heard, listener } = recorder();
    list.add(["a"], () => {
      throw new Error("listener bug");
    });
    list.add(["a"], listener);
    list.apply([online("a", 1)]);
    expect(errors.map((e) => e.message)).toEqual(["listener bug"]);
    expect(heard).toEqual([online("a", 1)]);
  });
});
