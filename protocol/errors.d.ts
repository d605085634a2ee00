/** Every errCode the service answers with (SPEC §1, §5): the HTTP envelope's and the socket frames'. */
export declare const ErrCode: {
    readonly ok: 0;
    readonly badRequest: 400;
    readonly notAuthorized: 401;
    readonly notFound: 404;
    readonly methodNotAllowed: 405;
    readonly tooLarge: 413;
    readonly rateLimited: 429;
    readonly internal: 500;
    readonly alreadyRegistered: 601;
    readonly notRegistered: 602;
    readonly tokenExpired: 701;
    readonly tokenInvalidated: 702;
    readonly tokenMalformed: 703;
    readonly tokenNotActiveYet: 704;
    readonly tokenUnknown: 705;
};
export type KnownErrCode = (typeof ErrCode)[keyof typeof ErrCode];
