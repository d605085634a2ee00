/// <reference types="node" />
import type { FetchLike } from "../../../sdk/appserver";

const realFetch: FetchLike = (url, init) => fetch(url, init);

export type FetchAction = "pass" | "fail-before" | "fail-after" | Response;

/** A fetch that counts calls per route and lets a test break chosen calls. */
export function scriptedFetch(script: (route: string, call: number) => FetchAction) {
  const calls: string[] = [];
  const fetchLike: FetchLike = async (url, init) => {
    const route = new URL(url).pathname;
    calls.push(route);
    const action = script(route, calls.filter((r) => r === route).length);
    if (action === "fail-before") throw new TypeError("fetch failed: connection refused");
    if (action instanceof Response) return action;
    const response = await realFetch(url, init);
    // The request reached the worker and took effect; only its answer is lost.
    if (action === "fail-after") throw new TypeError("fetch failed: connection reset");
    return response;
  };
  return { fetch: fetchLike, calls };
}

export const fastRetry = { initialDelayMs: 10, maxDelayMs: 50 };
