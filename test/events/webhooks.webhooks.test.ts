// Runs with PRESENCE_WEBHOOK_URL pointing at a second worker (test/events/receiver-worker.js), the
// real (miniflare) queue between them, HEARTBEAT_TIMEOUT=2s and two retries before dead-lettering.
import { env, evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type PresenceEventBody, verifyWebhook } from "../../protocol";
import { presenceEventBodySchema } from "../../src/openapi/responses";
import { issueClientToken } from "../../src/tokens";
import { connect, freshUid, onlineStatus, post, register, SECRET, sleep, tokenFor } from "../helpers";
import { keepAlive, sessionStub } from "../presence/helpers";
import { deliveries, eventsOf, platformEvents, respondWith, summary, waitForEvents } from "./receiver";

const WEBHOOK_SECRET = env.PRESENCE_WEBHOOK_SECRET ?? "";

afterEach(() => vi.restoreAllMocks());

describe("presence webhooks: one event per platform that changed, with its reason (docs/webhooks.md)", () => {
  it("connect, close and heartbeat timeout, each with the platforms live after it, in seq order", async () => {
    const uid = freshUid();
    await register(uid);
    const ios = await connect(uid, await tokenFor(uid, 1), 1);
    // Web stays silent: it times out while IOS closes cleanly.
    await connect(uid, await tokenFor(uid, 5), 5);
    const stopIos = keepAlive(ios);
    await waitForEvents(uid, (e) => e.length === 2);
    stopIos();
    ios.close();
    // Web never pings: it times out, after which the user has no platform left.
    const events = await waitForEvents(uid, (e) => e.length === 4);
    expect(summary(events)).toEqual([
      "online IOS connect [IOS]",
      "online Web connect [IOS,Web]",
      "offline IOS close [Web]",
      "offline Web heartbeat_timeout []",
    ]);
    const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(4);
    for (const e of platformEvents(events)) {
      expect(e).toMatchObject({ userID: uid, id: expect.any(String), time: expect.any(Number) });
      expect(e.platformID).toBe(e.platform === "IOS" ? 1 : 5);
    }
    // lastSeen is the moment the last session ended: the timed-out socket's deadline.
    const [entry] = await onlineStatus([uid]);
    expect(entry).toEqual({
      userID: uid,
      status: "offline",
      lastSeen: platformEvents(events).find((e) => e.reason === "heartbeat_timeout")?.time,
    });
  });

  it("logged_out for force_logout and token_expired for a token that ran out while connected", async () => {
    const uid = freshUid();
    await register(uid);
    const ios = await connect(uid, await tokenFor(uid, 1), 1);
    const stop = keepAlive(ios);
    const { token } = await issueClientToken(env, uid, 2, 2);
    const android = await connect(uid, token, 2);
    const stopAndroid = keepAlive(android);
    expect((await post("/auth/force_logout", { secret: SECRET, uid, platform: 1 })).status).toBe(200);
    const events = await waitForEvents(uid, (e) => e.length === 4);
    stop();
    stopAndroid();
    expect(summary(events)).toEqual([
      "online IOS connect [IOS]",
      "online Android connect [IOS,Android]",
      "offline IOS logged_out [Android]",
      "offline Android token_expired []",
    ]);
  });

  it("banned for ban_user and deleted for delete_user, one event per platform that was live", async () => {
    const banned = freshUid("banned");
    await register(banned);
    const sockets = [
      await connect(banned, await tokenFor(banned, 1), 1),
      await connect(banned, await tokenFor(banned, 5), 5),
    ];
    const stops = sockets.map((socket) => keepAlive(socket));
    await waitForEvents(banned, (e) => e.length === 2);
    const until = Math.floor(Date.now() / 1000) + 600;
    expect((await post("/manager/ban_user", { secret: SECRET, uid: banned, until })).body.errCode).toBe(0);
    const events = await waitForEvents(banned, (e) => e.length === 4);
    expect(summary(events).slice(2).sort()).toEqual(["offline IOS banned [Web]", "offline Web banned []"]);
    for (const stop of stops) stop();

    const deleted = freshUid("deleted");
    await register(deleted);
    const socket = await connect(deleted, await tokenFor(deleted, 2), 2);
    const stop = keepAlive(socket);
    await waitForEvents(deleted, (e) => e.length === 1);
    expect((await post("/manager/delete_user", { secret: SECRET, deleteUidList: [deleted] })).body.errCode).toBe(0);
    expect(summary(await waitForEvents(deleted, (e) => e.length === 2))).toEqual([
      "online Android connect [Android]",
      "offline Android deleted []",
    ]);
    stop();
  });

  it("marks the events of an invisible user invisible: the AppServer sees the truth", async () => {
    const uid = freshUid("shy");
    await register(uid);
    const phone = await connect(uid, await tokenFor(uid, 1), 1);
    const stop = keepAlive(phone);
    await waitForEvents(uid, (e) => e.length === 1);
    phone.send(JSON.stringify({ type: "set", invisible: true }));
    await sleep(200);
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    const events = await waitForEvents(uid, (e) => platformEvents(e).some((event) => event.platform === "Web"));
    expect(platformEvents(events).find((e) => e.platform === "IOS")).not.toHaveProperty("invisible");
    expect(platformEvents(events).find((e) => e.platform === "Web")).toMatchObject({ type: "online", invisible: true });
    expect(summary(events)).toEqual([
      "online IOS connect [IOS]",
      "state [IOS] background [] invisible",
      "online Web connect [IOS,Web]",
    ]);
    stop();
    web.close();
  });

  it("sends a state event for each change of background, invisibility or custom status, expiry included, with the whole state after it", async () => {
    const uid = freshUid("state");
    await register(uid);
    const phone = await connect(uid, await tokenFor(uid, 1), 1);
    const stop = keepAlive(phone);
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    const stopWeb = keepAlive(web);
    await waitForEvents(uid, (e) => e.length === 2);
    const set = (frame: object) => phone.send(JSON.stringify({ type: "set", ...frame }));
    set({ background: true });
    await waitForEvents(uid, (e) => e.length === 3);
    set({ background: true }); // no change, no event
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    set({ customStatus: { text: "Brb", expiresAt } });
    await waitForEvents(uid, (e) => e.length === 4);
    set({ invisible: true });
    await waitForEvents(uid, (e) => e.length === 5);
    // The expiry comes with no request from anyone.
    const events = await waitForEvents(uid, (e) => e.length === 6, 6_000);
    expect(summary(events)).toEqual([
      "online IOS connect [IOS]",
      "online Web connect [IOS,Web]",
      "state [IOS,Web] background [IOS]",
      'state [IOS,Web] background [IOS] "Brb"',
      'state [IOS,Web] background [IOS] invisible "Brb"',
      "state [IOS,Web] background [IOS] invisible",
    ]);
    const inSeqOrder = [...events].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < inSeqOrder.length; i++) expect(inSeqOrder[i]!.seq).toBeGreaterThan(inSeqOrder[i - 1]!.seq);
    const states = inSeqOrder.filter((e) => e.type === "state");
    expect(states[1]).toEqual({
      id: expect.any(String),
      type: "state",
      userID: uid,
      platforms: ["IOS", "Web"],
      background: ["IOS"],
      invisible: false,
      customStatus: { text: "Brb", expiresAt },
      seq: states[0]!.seq + 1,
      time: expect.any(Number),
    });
    expect(states[3]).toMatchObject({ invisible: true, customStatus: null });
    expect(states[3]!.time).toBeGreaterThanOrEqual(expiresAt * 1000);
    const mine = (await deliveries()).filter((d) => d.body.includes(uid));
    for (const delivery of mine)
      expect(presenceEventBodySchema.safeParse(JSON.parse(delivery.body)).success).toBe(true);
    stop();
    stopWeb();
    phone.close();
    web.close();
  });

  it("sends nothing for a same-platform kick: the platform stays online", async () => {
    const uid = freshUid();
    await register(uid);
    const first = await connect(uid, await tokenFor(uid, 1), 1);
    await waitForEvents(uid, (e) => e.length === 1);
    const second = await connect(uid, await tokenFor(uid, 1), 1);
    expect(await first.closedWithin(2_000)).toMatchObject({ code: 4001 });
    await sleep(1_500);
    expect(summary(await eventsOf(uid))).toEqual(["online IOS connect [IOS]"]);
    second.close();
    await waitForEvents(uid, (e) => e.length === 2);
  });

  it("sends nothing while nothing changes: a pinging user over several timeouts makes one event", async () => {
    const uid = freshUid();
    await register(uid);
    const socket = await connect(uid, await tokenFor(uid, 6), 6);
    const stop = keepAlive(socket);
    await sleep(4 * 2_000);
    expect(summary(await eventsOf(uid, { acceptedOnly: false }))).toEqual(["online MiniWeb connect [MiniWeb]"]);
    stop();
    socket.close();
  });

  it("keeps seq strictly increasing across the user object's eviction", async () => {
    const uid = freshUid();
    await register(uid);
    const token = await tokenFor(uid, 5);
    const before = await connect(uid, token, 5);
    before.close();
    await waitForEvents(uid, (e) => e.length === 2);
    await evictDurableObject(sessionStub(uid), { webSockets: "close" });
    const after = await connect(uid, token, 5);
    after.close();
    const events = await waitForEvents(uid, (e) => e.length === 4);
    const inArrival = events.map((e) => e.seq);
    expect(inArrival).toEqual([...inArrival].sort((a, b) => a - b));
    expect(new Set(inArrival).size).toBe(4);
  });
});

describe("delivery through the queue", () => {
  it("signs each body: the SDK's verifyWebhook accepts it, refuses a tampered body and an old timestamp", async () => {
    const uid = freshUid();
    await register(uid);
    (await connect(uid, await tokenFor(uid, 1), 1)).close();
    await waitForEvents(uid, (e) => e.length === 2);
    const delivery = (await deliveries()).find((d) => d.body.includes(uid));
    expect(delivery?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    // Every body is what the OpenAPI document's webhooks section describes.
    for (const { body } of await deliveries())
      expect(presenceEventBodySchema.safeParse(JSON.parse(body)).success, body).toBe(true);
    const { body, signature } = delivery!;
    expect(await verifyWebhook(body, signature, WEBHOOK_SECRET)).toMatchObject({ ok: true });
    expect(await verifyWebhook(body.replace(uid, `${uid}x`), signature, WEBHOOK_SECRET)).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifyWebhook(body, signature, "another-secret-0123456789abcdef012345")).toEqual({
      ok: false,
      reason: "mismatch",
    });
    const signedAt = Number(/t=(\d+)/.exec(signature!)?.[1]);
    expect(await verifyWebhook(body, signature, WEBHOOK_SECRET, { nowSeconds: signedAt + 301 })).toEqual({
      ok: false,
      reason: "stale",
    });
    expect(await verifyWebhook(body, "v1=abcd", WEBHOOK_SECRET)).toEqual({ ok: false, reason: "malformed" });
  });

  it("retries a body the receiver refused, with the same event ids", async () => {
    const uid = freshUid();
    await register(uid);
    await respondWith(uid, [500]);
    const socket = await connect(uid, await tokenFor(uid, 3), 3);
    const accepted = await waitForEvents(uid, (e) => e.length === 1);
    const attempts = (await deliveries()).filter((d) => d.body.includes(uid));
    expect(attempts.map((d) => d.status)).toEqual([500, 200]);
    const ids = attempts.map((d) => (JSON.parse(d.body) as PresenceEventBody).events.map((e) => e.id));
    expect(ids[1]).toEqual(ids[0]);
    expect(accepted[0]?.id).toBe(ids[0]?.[0]);
    // The retry waited for PRESENCE_WEBHOOK_RETRY_DELAY (1 s here).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    socket.close();
  });

  it("dead-letters a body that keeps failing after its retries, and logs one line for it", async () => {
    const logged = vi.spyOn(console, "error");
    const uid = freshUid();
    await register(uid);
    await respondWith(uid, [500, 500, 500]);
    // Pinging, so the user makes one event only: the online one.
    const socket = await connect(uid, await tokenFor(uid, 4), 4);
    const stop = keepAlive(socket);
    const deadline = Date.now() + 15_000;
    const deadLettered = () =>
      logged.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("presence_webhook_dead_lettered"));
    while (deadLettered().length === 0 && Date.now() < deadline) await sleep(200);
    const [event] = await eventsOf(uid, { acceptedOnly: false });
    const ours = deadLettered().filter((line) => line.includes(event!.id));
    expect(ours).toHaveLength(1);
    expect(JSON.parse(ours[0]!)).toMatchObject({ level: "error", ids: expect.arrayContaining([event!.id]) });
    expect((await deliveries()).filter((d) => d.body.includes(uid)).map((d) => d.status)).toEqual([500, 500, 500]);
    stop();
    socket.close();
  });
});
