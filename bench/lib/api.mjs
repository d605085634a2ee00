// The worker's AppServer routes as the bench calls them; each call checks its answer.
import { expectStatus } from "./http.mjs";
import { mapLimit } from "./measure.mjs";

export class Api {
  constructor(client, secret) {
    this.client = client;
    this.secret = secret;
    this.floorRequests = 0;
  }

  /**
   * The floor: the whole HTTP path, refused at the secret before any work.
   * Each attempt comes from its own client address, as a stray caller would: one
   * address repeating wrong secrets is throttled (429) by the failed-secret limit,
   * a different answer. workerd passes CF-Connecting-IP through locally.
   */
  async refused({ timeoutMs } = {}) {
    const n = this.floorRequests++;
    const address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    const answer = await this.client.post(
      "/user/get_users_online_status",
      { secret: "wrong-secret", userIDList: [] },
      { "CF-Connecting-IP": address },
      { timeoutMs },
    );
    expectStatus(answer, 401, "refused");
  }

  /**
   * The strict floor: a failed secret from an address that has used up its
   * allowance, answered 429. Runs that predate issue 10 answered it from a block
   * list with no digest and no Rate Limiting call; since failures alone are
   * throttled, it pays both, like the floor.
   */
  async refusedBlocked() {
    const send = () =>
      this.client.post(
        "/user/get_users_online_status",
        { secret: "wrong-secret", userIDList: [] },
        { "CF-Connecting-IP": "10.255.255.254" },
      );
    let answer = await send();
    for (let i = 0; answer.status === 401 && i < 100; i++) answer = await send();
    expectStatus(answer, 429, "refused from a blocked address");
  }

  /**
   * The status route with the right secret, refused by validation (a uid over
   * the length limit): it runs the route's own code up to the schema and
   * touches no object, so a restarted isolate can be warmed without its shards.
   */
  async refusedByValidation() {
    const answer = await this.client.post("/user/get_users_online_status", {
      secret: this.secret,
      userIDList: ["x".repeat(65)],
    });
    expectStatus(answer, 400, "status refused by validation");
  }

  async register(uid, platform = 1) {
    const answer = await this.client.post("/auth/user_register", { secret: this.secret, platform, uid, name: "bench" });
    return expectStatus(answer, 200, `register ${uid}`).json.data.token;
  }

  async token(uid, platform) {
    const answer = await this.client.post("/auth/user_token", { secret: this.secret, platform, uid });
    return expectStatus(answer, 200, `user_token ${uid}`).json.data.token;
  }

  /** set_custom_status (docs/api.md#post-userset_custom_status): `customStatus` is `{text, expiresAt?}` or null. */
  async setCustomStatus(uid, customStatus) {
    const answer = await this.client.post("/user/set_custom_status", { secret: this.secret, uid, customStatus });
    expectStatus(answer, 200, `set_custom_status ${uid}`);
  }

  /** The status answer's entries; checks there is one per requested id. timeoutMs: see HttpClient.post. */
  async status(userIDList, { timeoutMs } = {}) {
    const answer = await this.client.post(
      "/user/get_users_online_status",
      { secret: this.secret, userIDList },
      {},
      { timeoutMs },
    );
    const result = expectStatus(answer, 200, "get_users_online_status").json.successResult;
    if (result.length !== userIDList.length)
      throw new Error(`status: ${result.length} entries for ${userIDList.length} ids`);
    return result;
  }

  /** Online uids among many (in chunks of 200, the route's limit). */
  async onlineAmong(uids) {
    const chunks = [];
    for (let i = 0; i < uids.length; i += 200) chunks.push(uids.slice(i, i + 200));
    const answers = await mapLimit(chunks, 4, (chunk) => this.status(chunk));
    return answers.flat().filter((entry) => entry.status === "online");
  }

  /** delete_user; answers its failedUidList. */
  async deleteUsers(deleteUidList) {
    const answer = await this.client.post("/manager/delete_user", { secret: this.secret, deleteUidList });
    const json = expectStatus(answer, 200, "delete_user").json;
    if (json.errCode !== 0) throw new Error(`delete_user: ${answer.text.slice(0, 200)}`);
    return json.failedUidList;
  }

  /** ban_user until `until` (Unix seconds; 0 lifts the ban). */
  async banUser(uid, until, reason = "bench") {
    const answer = await this.client.post("/manager/ban_user", { secret: this.secret, uid, until, reason });
    expectStatus(answer, 200, `ban_user ${uid}`);
  }

  /** set_presence_grants: `add` and `remove` of at most 1,000 uids each. */
  async setPresenceGrants(uid, { add, remove }) {
    const answer = await this.client.post("/manager/set_presence_grants", {
      secret: this.secret,
      uid,
      ...(add?.length ? { add } : {}),
      ...(remove?.length ? { remove } : {}),
    });
    expectStatus(answer, 200, `set_presence_grants ${uid}`);
  }

  /** Registers uids and returns a token for each (for `platform`), in order. */
  registerAll(uids, { platform = 1, concurrency = 16 } = {}) {
    return mapLimit(uids, concurrency, (uid) => this.register(uid, platform));
  }
}
