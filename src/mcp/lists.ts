/**
 * What every list tool shares (docs/lists.md): `limit`, `cursor` and `view` in; `count`,
 * `next_cursor` (null at the end) and `truncated` (the page reached its size bound) out. Lists
 * answer brief items unless `view` is "full"; an item schema names the brief fields required and
 * the rest optional, which is true of both views (SDK clients validate results against it).
 */
import { z } from "zod";
import { CURSOR_MAX_CHARS } from "../runtime/kernel/cursor";
import { VIEWS, type Page } from "../runtime/kernel/page";
import { STANDARD_LIMITS } from "./json-schema";
import { limit } from "./schemas";

export const listInput = {
  limit,
  cursor: z.string().min(1).max(CURSOR_MAX_CHARS).meta({ [STANDARD_LIMITS]: true }).optional().describe("next_cursor of the previous page"),
  view: z.enum(VIEWS).default("brief"),
};

export const pageOutput = {
  count: z.number(),
  next_cursor: z.string().nullable(),
  truncated: z.literal(true).optional(),
};

/** The page as the tool answers it, its items under `key`. */
export function pageAnswer<Key extends string, T>(key: Key, page: Page<T>): Record<Key, T[]> & Omit<Page<T>, "items"> & { count: number } {
  // A computed key widens to `string` in TypeScript; it is exactly `key`.
  const items = { [key]: page.items } as Record<Key, T[]>;
  return { ...items, count: page.items.length, next_cursor: page.next_cursor, ...(page.truncated ? { truncated: true as const } : {}) };
}
