/** OpenIM's platform ids and their exact spelling (SPEC §4). */
export const PLATFORM_NAMES = {
    1: "IOS",
    2: "Android",
    3: "Windows",
    4: "OSX",
    5: "Web",
    6: "MiniWeb",
    7: "Linux",
};
/** Platform ids by name: `Platform.Web` is 5. */
export const Platform = {
    IOS: 1,
    Android: 2,
    Windows: 3,
    OSX: 4,
    Web: 5,
    MiniWeb: 6,
    Linux: 7,
};
