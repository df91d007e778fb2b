/** Direct access to a user's Runtime Durable Object, typed as the tools see it. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { RuntimeApi } from "../../src/runtime/api";
import type { Outcome } from "../../src/runtime/kernel/errors";

/** A fresh user's Runtime, so tests never see each other's data. */
export function freshRuntime(prefix = "test"): RuntimeApi {
  return env.RUNTIME.getByName(`${prefix}-${crypto.randomUUID()}`) as unknown as RuntimeApi;
}

/** The value of a successful outcome; fails the test with the error otherwise. */
export function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  return outcome.value;
}

/** Runs `query` against the object's SQLite, inside the object. */
export function withSql<T>(runtime: RuntimeApi, query: (sql: SqlStorage, state: DurableObjectState) => T): Promise<T> {
  return runInDurableObject(stubOf(runtime), (_instance, state) => query(state.storage.sql, state));
}

/** The Durable Object stub behind a Runtime, for the `cloudflare:test` helpers. */
export const stubOf = (runtime: RuntimeApi): DurableObjectStub => runtime as unknown as DurableObjectStub;

/** When the object's one alarm is set for (ms), or null. */
export const alarmAt = (runtime: RuntimeApi): Promise<number | null> =>
  runInDurableObject(stubOf(runtime), (_instance, state) => state.storage.getAlarm());

/** Runs the object's alarm now, if one is set; true when it ran. */
export const fireAlarm = (runtime: RuntimeApi): Promise<boolean> => runDurableObjectAlarm(stubOf(runtime));

/**
 * Every row of every table of the object's SQLite (the id sequences included; the platform's own
 * `_cf_` tables aside), each table's rows in a stable order: equal snapshots before and after a refused call
 * prove it changed nothing. `except` leaves out tables that record a fact rather than a change
 * (the model calls a refused decomposition did make).
 */
export function snapshot(runtime: RuntimeApi, except: readonly string[] = []): Promise<Record<string, Record<string, SqlStorageValue>[]>> {
  return withSql(runtime, (sql) => {
    const tables = sql
      // _cf_* are Cloudflare's own tables, closed to SQL; of SQLite's own, the id sequences count.
      .exec<{ name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 4) != '_cf_'
           AND (substr(name, 1, 7) != 'sqlite_' OR name = 'sqlite_sequence') ORDER BY name`,
      )
      .toArray()
      .filter(({ name }) => !except.includes(name));
    const rows: Record<string, Record<string, SqlStorageValue>[]> = {};
    for (const { name } of tables) {
      const table = sql.exec<Record<string, SqlStorageValue>>(`SELECT * FROM "${name}"`).toArray();
      rows[name] = table.map((row) => [JSON.stringify(row), row] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    }
    return rows;
  });
}
