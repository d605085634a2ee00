/**
 * Every route's method and path, spelled once. The worker registers its
 * routes from these (src/routes/table.ts), answers 405 from them, and builds
 * its OpenAPI document from them; the SDKs call them.
 */
export declare const Route: {
    readonly registerUser: {
        readonly method: "POST";
        readonly path: "/auth/user_register";
    };
    readonly userToken: {
        readonly method: "POST";
        readonly path: "/auth/user_token";
    };
    readonly forceLogout: {
        readonly method: "POST";
        readonly path: "/auth/force_logout";
    };
    readonly onlineStatus: {
        readonly method: "POST";
        readonly path: "/user/get_users_online_status";
    };
    /** The client's WebSocket, at OpenIM's root path and at /ws. */
    readonly connect: {
        readonly method: "GET";
        readonly path: "/";
    };
    readonly connectWs: {
        readonly method: "GET";
        readonly path: "/ws";
    };
    readonly health: {
        readonly method: "GET";
        readonly path: "/healthz";
    };
    readonly openApi: {
        readonly method: "GET";
        readonly path: "/openapi.json";
    };
    readonly docs: {
        readonly method: "GET";
        readonly path: "/docs";
    };
    /** The dev console (local development only). */
    readonly consolePage: {
        readonly method: "GET";
        readonly path: "/console";
    };
    readonly consoleScript: {
        readonly method: "GET";
        readonly path: "/console/app.js";
    };
};
export type RouteName = keyof typeof Route;
export type AppServerRouteName = "registerUser" | "userToken" | "forceLogout" | "onlineStatus";
