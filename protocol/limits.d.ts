/** The most uids one get_users_online_status call may carry (SPEC §4). */
export declare const MAX_UIDS_PER_STATUS_QUERY = 200;
