/** The heartbeat: the client sends exactly this text, the server answers PONG without waking the user's object. */
export declare const PING = "ping";
export declare const PONG = "pong";
/** Close codes the server sends on a session socket. */
export declare const CloseCode: {
    readonly kicked: 4001;
    readonly loggedOut: 4002;
    readonly heartbeatTimeout: 4003;
    readonly tokenExpired: 4004;
    /** Policy violation (a standard code): the socket sent more frames than its budget allows. */
    readonly tooManyFrames: 1008;
};
