/** The most uids one get_users_online_status call may carry (docs/api.md#post-userget_users_online_status). */
export const MAX_UIDS_PER_STATUS_QUERY = 200;
/** The most uids one get_user_info call may carry. */
export const MAX_UIDS_PER_USER_INFO_QUERY = 200;
/** The most uids one account_check or delete_user call may carry. */
export const MAX_UIDS_PER_MANAGE_CALL = 100;
/** The largest page get_all_users_uid answers, and its default. */
export const MAX_UIDS_PER_PAGE = 1000;
/**
 * Frames one socket may send per window, besides the exact "ping"
 * (docs/protocol.md#frame-budget); one more closes it with 1008. Clients
 * send bursts of up to ~15 subscribe/unsubscribe frames, so the budget must
 * not go below 20 per 10 s. The client SDK paces its own retries by it.
 */
export const FRAME_BUDGET = { frames: 20, windowMs: 10_000 } as const;
