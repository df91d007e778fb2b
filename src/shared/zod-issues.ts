/** How a zod validation failure reads to a user: `tasks[2].title: …; dependencies[0]: …`. */
import type { z } from "zod";

/** `tasks[2].title`, `dependencies[0]`, `metadata`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = fieldPath(issue.path);
      // Unknown keys have an empty path; name them as the field.
      const keys = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "";
      return `${field || keys || "arguments"}: ${issue.message}`;
    })
    .join("; ");
}
