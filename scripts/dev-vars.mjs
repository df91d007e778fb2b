// .dev.vars for `npm start`: the local secrets wrangler dev reads. Created once, with a random
// OWNER_PASSWORD, readable by its owner only; the password is printed only when it is created.
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Owner read/write only: the file holds the owner password (and perhaps an API key). */
export const DEV_VARS_MODE = 0o600;
/** The consent page refuses shorter owner passwords (src/auth/owner-sign-in.ts). */
const MIN_PASSWORD_LENGTH = 16;

/**
 * Makes sure `dir/.dev.vars` exists, holds only for its owner, and says what happened in lines
 * for the terminal. Creates it atomically: the content goes to a temporary file first, then is
 * linked into place, which fails if another `npm start` created it meanwhile (that one wins, and
 * its password is the one printed). Never overwrites an existing file.
 */
export function ensureDevVars(dir) {
  const path = join(dir, ".dev.vars");
  const password = existsSync(path) ? null : create(path, dir);
  // Also for a file made earlier, by hand or by an older version with a looser mode.
  chmodSync(path, DEV_VARS_MODE);
  if (password) return { created: true, lines: [`Created .dev.vars with a new owner password: ${password}`] };
  const created = false;

  const current = /^OWNER_PASSWORD=(.*)$/m.exec(readFileSync(path, "utf8"))?.[1].trim();
  if (!current) return { created, lines: ["Warning: .dev.vars has no OWNER_PASSWORD; sign-in will be refused."] };
  if ([...current].length < MIN_PASSWORD_LENGTH) {
    return { created, lines: [`Warning: the OWNER_PASSWORD in .dev.vars is shorter than ${MIN_PASSWORD_LENGTH} characters; sign-in will be refused.`] };
  }
  return { created, lines: ["Owner password: in .dev.vars (OWNER_PASSWORD)."] };
}

/** Writes a new .dev.vars at `path` and returns its password, or null if one appeared meanwhile. */
function create(path, dir) {
  const password = randomBytes(18).toString("base64url");
  const temp = join(dir, `.dev.vars.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", DEV_VARS_MODE);
  try {
    writeSync(fd, `# Local secrets for wrangler dev (not committed).\nOWNER_PASSWORD=${password}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return password;
  } catch (error) {
    if (error.code === "EEXIST") return null;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}
