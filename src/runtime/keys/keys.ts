/**
 * Storing, listing, revoking and checking agent keys (./model.ts). Revocation is a write in this
 * object, which every keyed request asks, so a revoked key is refused on its very next call.
 */
import { conflict, exhausted, notFound } from "../kernel/errors";
import { iso } from "../kernel/rows";
import {
  checkNewKey,
  grantOf,
  KEY_ID,
  KEY_LIMITS,
  SECRET_HASH,
  statusOf,
  type AgentKey,
  type AgentKeyRow,
  type KeyCheck,
  type NewAgentKey,
} from "./model";

const toKey = (row: AgentKeyRow, now: number): AgentKey => ({
  ...grantOf(row),
  status: statusOf(row, now),
  created_at: iso(row.created_at)!,
  expires_at: iso(row.expires_at),
  revoked_at: iso(row.revoked_at),
  last_used_at: iso(row.last_used_at),
});

function keyRow(sql: SqlStorage, keyId: string): AgentKeyRow | undefined {
  return sql.exec<AgentKeyRow>(`SELECT * FROM agent_keys WHERE id = ?`, keyId).toArray()[0];
}

/**
 * Stores a new key. At most KEY_LIMITS.keys are kept: when full, the oldest revoked or expired
 * key makes room; when every key is live, the owner must revoke one first.
 */
export function createAgentKey(sql: SqlStorage, input: NewAgentKey, now: number): AgentKey {
  const row = checkNewKey(input, now);
  if (keyRow(sql, row.id)) throw conflict(`key_id: ${row.id} is taken`);
  const count = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM agent_keys`).one().n;
  if (count >= KEY_LIMITS.keys) {
    const spent = sql
      .exec<{ id: string }>(
        `SELECT id FROM agent_keys WHERE revoked_at IS NOT NULL OR expires_at <= ?
         ORDER BY coalesce(revoked_at, expires_at), id LIMIT 1`,
        now,
      )
      .toArray()[0];
    if (!spent) throw exhausted(`at most ${KEY_LIMITS.keys} agent keys: revoke one first`);
    sql.exec(`DELETE FROM agent_keys WHERE id = ?`, spent.id);
  }
  const stored = sql
    .exec<AgentKeyRow>(
      `INSERT INTO agent_keys (id, secret_hash, agent_id, roles, endpoint, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      row.id,
      row.secret_hash,
      row.agent_id,
      row.roles,
      row.endpoint,
      now,
      row.expires_at,
    )
    .one();
  return toKey(stored, now);
}

/** Every key kept, newest first (at most KEY_LIMITS.keys). */
export function listAgentKeys(sql: SqlStorage, now: number): AgentKey[] {
  return sql
    .exec<AgentKeyRow>(`SELECT * FROM agent_keys ORDER BY created_at DESC, id`)
    .toArray()
    .map((row) => toKey(row, now));
}

/** Revokes a key from now on; revoking it again changes nothing. */
export function revokeAgentKey(sql: SqlStorage, keyId: string, now: number): AgentKey {
  const row = keyRow(sql, keyId);
  if (!row) throw notFound(`agent key ${keyId} does not exist`);
  if (row.revoked_at !== null) return toKey(row, now);
  return toKey(sql.exec<AgentKeyRow>(`UPDATE agent_keys SET revoked_at = ? WHERE id = ? RETURNING *`, now, keyId).one(), now);
}

/**
 * Who the bearer of key `keyId` with a secret hashing to `secretHash` is. A read: `useDue` says
 * whether the caller should record this use (recordKeyUse), at most once a minute per key.
 */
export function checkAgentKey(sql: SqlStorage, keyId: string, secretHash: string, now: number): KeyCheck & { useDue?: boolean } {
  if (!KEY_ID.test(keyId) || !SECRET_HASH.test(secretHash)) return { ok: false, reason: "unknown" };
  const row = keyRow(sql, keyId);
  if (!row || !sameHash(row.secret_hash, secretHash)) return { ok: false, reason: "unknown" };
  const status = statusOf(row, now);
  if (status !== "active") return { ok: false, reason: status };
  const useDue = row.last_used_at === null || now - row.last_used_at >= KEY_LIMITS.lastUseEveryMs;
  return { ok: true, grant: grantOf(row), expires_at: row.expires_at, useDue };
}

export function recordKeyUse(sql: SqlStorage, keyId: string, now: number): void {
  sql.exec(`UPDATE agent_keys SET last_used_at = ? WHERE id = ?`, now, keyId);
}

/** Two hex SHA-256s compared in constant time (both are 64 characters, checked before). */
function sameHash(stored: string, given: string): boolean {
  const encoder = new TextEncoder();
  return crypto.subtle.timingSafeEqual(encoder.encode(stored), encoder.encode(given));
}
