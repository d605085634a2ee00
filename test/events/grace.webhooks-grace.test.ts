// Runs with PRESENCE_WEBHOOK_GRACE=1500ms (vitest.config.ts), webhooks delivered to the receiver worker.
import { describe, expect, it } from "vitest";
import { connect, freshUid, onlineStatus, post, register, SECRET, sleep, tokenFor } from "../helpers";
import { keepAlive } from "../presence/helpers";
import { eventsOf, summary, waitForEvents } from "./receiver";

describe("PRESENCE_WEBHOOK_GRACE", () => {
  it("sends no events for a platform that goes offline and comes back within the grace", async () => {
    const uid = freshUid();
    await register(uid);
    const token = await tokenFor(uid, 5);
    const first = await connect(uid, token, 5);
    await waitForEvents(uid, (e) => e.length === 1);
    first.close();
    await first.closed;
    const again = await connect(uid, token, 5);
    again.send("ping");
    await sleep(2_500);
    expect(summary(await eventsOf(uid))).toEqual(["online Web connect [Web]"]);
    again.close();
  });

  it("sends the offline once the grace has run out, with the time it happened", async () => {
    const uid = freshUid();
    await register(uid);
    const socket = await connect(uid, await tokenFor(uid, 2), 2);
    await waitForEvents(uid, (e) => e.length === 1);
    const closedAt = Date.now();
    socket.close();
    const events = await waitForEvents(uid, (e) => e.length === 2);
    expect(summary(events)).toEqual(["online Android connect [Android]", "offline Android close []"]);
    const offline = events.find((e) => e.type === "offline")!;
    expect(offline.time).toBeGreaterThanOrEqual(closedAt - 50);
    expect(offline.time).toBeLessThan(closedAt + 1_000);
    expect(offline.seq).toBeGreaterThan(events.find((e) => e.type === "online")!.seq);
  });

  it("sends the offlines a deletion finds held for the grace at once, before the user's rows go", async () => {
    const uid = freshUid();
    await register(uid);
    const ios = await connect(uid, await tokenFor(uid, 1), 1);
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    web.send("ping");
    await waitForEvents(uid, (e) => e.length === 2);
    ios.close();
    await ios.closed;
    await sleep(100); // IOS's offline is now held for the grace
    expect((await post("/manager/delete_user", { secret: SECRET, deleteUidList: [uid] })).body.errCode).toBe(0);
    const events = await waitForEvents(uid, (e) => e.length === 4, 4_000);
    expect(summary(events).slice(2).sort()).toEqual(["offline IOS close [Web]", "offline Web deleted []"]);
  });

  it("holds a change of background too: a flip within the grace sends nothing, a lasting one a state event at its end", async () => {
    const uid = freshUid("flipper");
    await register(uid);
    const phone = await connect(uid, await tokenFor(uid, 1), 1);
    const stop = keepAlive(phone);
    await waitForEvents(uid, (e) => e.length === 1);
    const set = (background: boolean) => phone.send(JSON.stringify({ type: "set", background }));

    set(true);
    await sleep(200);
    // The status route tells the truth at once; only the webhook waits.
    expect((await onlineStatus([uid]))[0]?.detailPlatformStatus).toEqual([
      { platform: "IOS", status: "online", isBackground: true },
    ]);
    set(false);
    await sleep(2_500);
    expect(summary(await eventsOf(uid))).toEqual(["online IOS connect [IOS]"]);

    const setAt = Date.now();
    set(true);
    const events = await waitForEvents(uid, (e) => e.length === 2, 4_000);
    expect(summary(events)).toEqual(["online IOS connect [IOS]", "state [IOS] background [IOS]"]);
    const state = events.find((e) => e.type === "state")!;
    expect(state.time).toBeGreaterThanOrEqual(setAt - 50);
    expect(state.time).toBeLessThan(setAt + 1_000);
    stop();
    phone.close();
  });
});
