/**
 * `npm start`'s first-run step (scripts/dev-vars.mjs), in Node like the rest of this project: it
 * creates .dev.vars once, owner-only, prints the password only then, and never overwrites it.
 * wrangler is not started; the step runs in a temporary directory.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEV_VARS_MODE, ensureDevVars } from "../../scripts/dev-vars.mjs";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agent-runtime-dev-vars-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const devVars = () => join(dir, ".dev.vars");
const modeOf = (path: string) => statSync(path).mode & 0o777;

describe("npm start's .dev.vars", () => {
  it("is created on the first run with a random password of at least 16 characters, owner-only, and the password is printed", () => {
    const first = ensureDevVars(dir);
    expect(first.created).toBe(true);
    const password = /^OWNER_PASSWORD=(.+)$/m.exec(readFileSync(devVars(), "utf8"))?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(first.lines.join("\n")).toContain(password);
    expect(modeOf(devVars())).toBe(DEV_VARS_MODE);
    // Nothing but .dev.vars is left behind.
    expect(readdirSync(dir)).toEqual([".dev.vars"]);
  });

  it("is kept on later runs, and its password is not printed again", () => {
    ensureDevVars(dir);
    const content = readFileSync(devVars(), "utf8");
    const password = /^OWNER_PASSWORD=(.+)$/m.exec(content)![1];
    const second = ensureDevVars(dir);
    expect(second.created).toBe(false);
    expect(second.lines.join("\n")).not.toContain(password);
    expect(readFileSync(devVars(), "utf8")).toBe(content);
  });

  it("is made owner-only again on every run, whoever loosened it", () => {
    writeFileSync(devVars(), "OWNER_PASSWORD=a-password-of-some-length\nANTHROPIC_API_KEY=sk-test\n");
    chmodSync(devVars(), 0o644);
    const run = ensureDevVars(dir);
    expect(run.created).toBe(false);
    expect(modeOf(devVars())).toBe(DEV_VARS_MODE);
    expect(readFileSync(devVars(), "utf8")).toContain("ANTHROPIC_API_KEY=sk-test");
    expect(run.lines.join("\n")).not.toContain("a-password-of-some-length");
  });

  it("warns when the password in it is missing or too short to sign in with", () => {
    writeFileSync(devVars(), "OWNER_PASSWORD=short\n");
    expect(ensureDevVars(dir).lines.join("\n")).toMatch(/shorter than 16 characters/);
    writeFileSync(devVars(), "# nothing here\n");
    expect(ensureDevVars(dir).lines.join("\n")).toMatch(/no OWNER_PASSWORD/);
  });
});
