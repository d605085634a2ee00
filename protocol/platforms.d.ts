/** OpenIM's platform ids and their exact spelling (SPEC §4). */
export declare const PLATFORM_NAMES: {
    readonly 1: "IOS";
    readonly 2: "Android";
    readonly 3: "Windows";
    readonly 4: "OSX";
    readonly 5: "Web";
    readonly 6: "MiniWeb";
    readonly 7: "Linux";
};
export type PlatformId = keyof typeof PLATFORM_NAMES;
export type PlatformName = (typeof PLATFORM_NAMES)[PlatformId];
/** Platform ids by name: `Platform.Web` is 5. */
export declare const Platform: {
    readonly IOS: 1;
    readonly Android: 2;
    readonly Windows: 3;
    readonly OSX: 4;
    readonly Web: 5;
    readonly MiniWeb: 6;
    readonly Linux: 7;
};
