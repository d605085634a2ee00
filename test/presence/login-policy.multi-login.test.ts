// Runs with MULTI_LOGIN_POLICY=max_per_platform:2 (see vitest.config.ts).
import { describe, expect, it } from "vitest";
import { connect, freshUid, refusedConnect, register, tokenFor } from "../helpers";
import { expectIndexAgreesWithSockets, openSocketCount } from "./helpers";

describe("multi-login policy max_per_platform:2", () => {
  it("keeps two sessions per platform and displaces the oldest for a third", async () => {
    const uid = freshUid();
    const firstToken = (await register(uid)).token;
    const first = await connect(uid, firstToken, 1);
    const second = await connect(uid, await tokenFor(uid, 1), 1);
    expect(await openSocketCount(uid, 1)).toBe(2);
    expect(first.messages).toEqual([]);

    const third = await connect(uid, await tokenFor(uid, 1), 1);
    expect(JSON.parse(await first.message(0))).toMatchObject({ errCode: 702 });
    expect(await first.closedWithin(2_000)).toMatchObject({ code: 4001 });
    expect(second.messages).toEqual([]);
    expect(await openSocketCount(uid, 1)).toBe(2);
    expect((await refusedConnect({ sendID: uid, token: firstToken, platformID: 1 })).body.errCode).toBe(702);

    // Another platform has its own allowance.
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    expect(await openSocketCount(uid)).toBe(3);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["IOS", "Web"]);
    for (const socket of [second, third, web]) socket.close();
  });
});
