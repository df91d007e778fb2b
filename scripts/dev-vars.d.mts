/** Types of dev-vars.mjs, for the tests. */
export declare const DEV_VARS_MODE: number;
export declare function ensureDevVars(dir: string): { created: boolean; lines: string[] };
