/** The most uids one get_users_online_status call may carry (docs/api.md#post-userget_users_online_status). */
export const MAX_UIDS_PER_STATUS_QUERY = 200;
