/** Types of check-install.mjs, for the tests. */
export interface LockEntry {
  name?: string;
  version?: string;
  engines?: { node?: string };
  hasInstallScript?: boolean;
  link?: boolean;
}
export interface Lockfile {
  name: string;
  packages: Record<string, LockEntry>;
}
/** `root`: the project itself. */
export type InstalledPackage = LockEntry & { name: string; root: boolean };
/** The part of the `semver` package the check uses. */
export interface Semver {
  satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
  validRange(range: string): string | null;
}
export declare function installedPackages(lockfile: Lockfile, installed?: (path: string) => boolean): InstalledPackage[];
export declare function refusingNode(packages: InstalledPackage[], nodeVersion: string, semver: Semver): string[];
export declare function undecidedScripts(packages: InstalledPackage[], allowScripts: Record<string, boolean> | undefined, semver: Semver): string[];
