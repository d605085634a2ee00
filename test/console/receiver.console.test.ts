import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type PresenceEvent, SIGNATURE_HEADER, signWebhook } from "../../protocol";
import { fetchWithSettings, freshUid, post, SECRET } from "../helpers";

// The dev console's own webhook receiver and its list (docs/api.md#console), as a browser and the queue reach them.
const ORIGIN = "http://im.test";
const MAX_BODY = 1_048_576;
const webhookSecret = (): string => {
  if (!env.PRESENCE_WEBHOOK_SECRET) throw new Error("the console project sets PRESENCE_WEBHOOK_SECRET");
  return env.PRESENCE_WEBHOOK_SECRET;
};
const now = () => Math.floor(Date.now() / 1000);

const event = (userID: string, seq = 1): PresenceEvent => ({
  id: `${userID}-${seq}`,
  type: "online",
  userID,
  platformID: 5,
  platform: "Web",
  reason: "connect",
  platforms: ["Web"],
  seq,
  time: 1_764_300_000_000 + seq,
});

async function deliver(body: string | ReadableStream, signature?: string): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/console/webhook`, {
    method: "POST",
    headers: signature ? { [SIGNATURE_HEADER]: signature } : {},
    body,
  });
}

async function signed(body: string, secret = webhookSecret(), at = now()): Promise<Response> {
  return deliver(body, await signWebhook(body, secret, at));
}

interface KeptDelivery {
  receivedAt: number;
  events: PresenceEvent[];
}

/** What the console lists, asked as the console page asks: POST with the AppServer secret. */
async function listed(): Promise<KeptDelivery[]> {
  const answer = await post("/console/events", { secret: SECRET });
  expect(answer.status).toBe(200);
  expect(answer.body.errCode).toBe(0);
  return answer.body.data as KeptDelivery[];
}

const listedUsers = async () => new Set((await listed()).flatMap((d) => d.events.map((e) => e.userID)));

describe("the console's webhook receiver", () => {
  it("keeps a delivery whose X-IM-Signature checks out, and lists it newest first", async () => {
    const [first, second] = [freshUid("hook"), freshUid("hook")];
    for (const uid of [first, second]) {
      const answer = await signed(JSON.stringify({ events: [event(uid)] }));
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ errCode: 0, errMsg: "" });
    }
    const users = (await listed()).map((d) => d.events[0]?.userID);
    expect(users.indexOf(second)).toBe(0);
    expect(users.indexOf(first)).toBe(1);
  });

  it("refuses an unsigned, wrongly signed, stale or malformed signature with 401, and keeps nothing", async () => {
    const uid = freshUid("unsigned");
    const body = JSON.stringify({ events: [event(uid)] });
    const answers = [
      await deliver(body),
      await deliver(body, "t=1,v1=00"),
      await signed(body, "another-secret-0123456789abcdef0123456789"),
      await signed(body, webhookSecret(), now() - 600),
      // A header sent twice reaches the worker as one value, joined with ", ".
      await deliver(
        body,
        Array(2)
          .fill(await signWebhook(body, webhookSecret(), now()))
          .join(", "),
      ),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(await answer.json()).toMatchObject({ errCode: 401, errMsg: expect.stringMatching(/^X-IM-Signature: /) });
    }
    expect(await listedUsers()).not.toContain(uid);
  });

  it("refuses a signed body that is not a presence event body with 400, and keeps nothing", async () => {
    const uid = freshUid("shape");
    for (const body of [
      "{not json",
      "null",
      JSON.stringify({ events: "nope", uid }),
      JSON.stringify({ events: [{ ...event(uid), platformID: 99 }] }),
      JSON.stringify({ events: Array.from({ length: 101 }, (_, i) => event(uid, i + 1)) }),
    ]) {
      const answer = await signed(body);
      expect(answer.status, body.slice(0, 40)).toBe(400);
      expect((await answer.json()) as object).toMatchObject({ errCode: 400 });
    }
    expect(await listedUsers()).not.toContain(uid);
  });

  it("takes a signed body of exactly 1 MiB, and refuses one byte more with 413 before checking anything", async () => {
    const uid = freshUid("big");
    const base = JSON.stringify({ events: [event(uid)], pad: "" });
    const fits = base.replace('"pad":""', `"pad":"${"x".repeat(MAX_BODY - base.length)}"`);
    expect(fits.length).toBe(MAX_BODY);
    expect((await signed(fits)).status).toBe(200);

    const over = `${fits} `;
    const tooLarge = await signed(over);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({
      errCode: 413,
      errMsg: `request body too large: at most ${MAX_BODY} bytes`,
    });
    expect((await deliver("x".repeat(5 * MAX_BODY))).status).toBe(413);
  });

  it("refuses a body without Content-Length once it passes 1 MiB, without reading the rest", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    // 64 MiB if read to the end; the receiver must stop long before.
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64 * MAX_BODY) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const answer = await deliver(endless, await signWebhook("", webhookSecret(), now()));
    expect(answer.status).toBe(413);
    await answer.body?.cancel();
    expect(sent).toBeLessThan(8 * MAX_BODY);
  });

  it("keeps the last 50 deliveries and drops older ones", async () => {
    const uids = Array.from({ length: 55 }, () => freshUid("many"));
    for (const uid of uids) expect((await signed(JSON.stringify({ events: [event(uid)] }))).status).toBe(200);
    const kept = await listed();
    expect(kept).toHaveLength(50);
    expect(kept.map((d) => d.events[0]?.userID)).toEqual(uids.slice(5).reverse());
  });

  it("keeps a bounded number of events: full deliveries push out older ones", async () => {
    const uid = freshUid("full");
    for (let n = 0; n < 12; n++) {
      const events = Array.from({ length: 100 }, (_, i) => event(uid, n * 100 + i + 1));
      expect((await signed(JSON.stringify({ events }))).status).toBe(200);
    }
    const kept = await listed();
    const total = kept.reduce((sum, d) => sum + d.events.length, 0);
    expect(total).toBeLessThanOrEqual(1_000);
    // The newest delivery is whole.
    expect(kept[0]?.events.map((e) => e.seq).at(-1)).toBe(1_200);
  });

  it("answers 500 naming PRESENCE_WEBHOOK_SECRET when the worker has none, and keeps nothing", async () => {
    const uid = freshUid("nosecret");
    const body = JSON.stringify({ events: [event(uid)] });
    const answer = await fetchWithSettings({ PRESENCE_WEBHOOK_SECRET: "" }, "/console/webhook", {
      method: "POST",
      headers: { [SIGNATURE_HEADER]: await signWebhook(body, webhookSecret(), now()) },
      body,
    });
    expect(answer.status).toBe(500);
    expect(answer.body.errMsg).toBe("server misconfigured: PRESENCE_WEBHOOK_SECRET is not set");
    expect(await listedUsers()).not.toContain(uid);
  });
});

describe("the console's list of deliveries", () => {
  it("is not handed out without the AppServer secret: 401 in the envelope", async () => {
    const uid = freshUid("private");
    expect((await signed(JSON.stringify({ events: [event(uid)] }))).status).toBe(200);
    for (const body of [{}, { secret: "" }, { secret: "wrong-secret" }, { secret: 42 }]) {
      const answer = await post("/console/events", body);
      expect(answer.status, JSON.stringify(body)).toBe(401);
      expect(answer.body).toEqual({ errCode: 401, errMsg: "not authorized" });
    }
    expect(await listedUsers()).toContain(uid);
  });

  it("answers GET, the old way to read it, with 405 and no events", async () => {
    const response = await SELF.fetch(`${ORIGIN}/console/events`);
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ errCode: 405 });
  });
});
