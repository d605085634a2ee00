/** The most uids one get_users_online_status call may carry (docs/api.md#post-userget_users_online_status). */
export const MAX_UIDS_PER_STATUS_QUERY = 200;
/** The most uids one get_user_info call may carry. */
export const MAX_UIDS_PER_USER_INFO_QUERY = 200;
/** The most uids one account_check or delete_user call may carry. */
export const MAX_UIDS_PER_MANAGE_CALL = 100;
/** The largest page get_all_users_uid answers, and its default. */
export const MAX_UIDS_PER_PAGE = 1000;
