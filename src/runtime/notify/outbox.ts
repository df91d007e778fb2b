/**
 * The outbox's life after an event is written (enqueue.ts): the alarm takes the due events in
 * order, the Runtime POSTs them (runtime/webhooks.ts, I/O, outside any transaction), and their
 * outcomes come back here in a new transaction. A delivered event is deleted; a failed one is
 * tried again with exponential back-off and jitter until a day after it occurred, then given up
 * and kept (the newest few) for the dashboard.
 *
 * At least once: an event is marked in flight — due again `OUTBOX.inFlightMs` later — in the
 * same transaction that hands it out, so an object that restarts before the outcome is recorded
 * sends it again. A receiver tells repeats apart by the webhook-id, the same on every attempt.
 */
import { idList, iso } from "../kernel/rows";
import { OUTBOX, type NotificationType, type OutboxRow } from "./model";

/**
 * Turns recording on or off (the Runtime, when it starts, from NOTIFY_URL). Turning it off drops
 * the undelivered events, counted: with no receiver they would only wait to be given up.
 */
export function configureOutbox(sql: SqlStorage, recording: boolean, now: number): void {
  const flag = recording ? 1 : 0;
  if (sql.exec<{ recording: number }>(`SELECT recording FROM notify_state WHERE id = 1`).one().recording === flag) return;
  sql.exec(`UPDATE notify_state SET recording = ? WHERE id = 1`, flag);
  if (recording) return;
  const dropped = sql.exec(`DELETE FROM notify_outbox WHERE state = 'pending' RETURNING id`).toArray().length;
  if (dropped > 0) sql.exec(`UPDATE notify_state SET dropped = dropped + ?, last_dropped_at = ? WHERE id = 1`, dropped, now);
}

/** The earliest due delivery (ms), or null: one read of the due index. */
export function nextDelivery(sql: SqlStorage): number | null {
  return sql.exec<{ due: number | null }>(`SELECT min(next_attempt_at) AS due FROM notify_outbox WHERE state = 'pending'`).one().due;
}

/** An event handed out for one attempt: its webhook-id and the exact body to sign and send. */
export interface DueNotification {
  id: number;
  message_id: string;
  body: string;
  /** This attempt's number (1 for the first). */
  attempt: number;
}

/** Up to `limit` due events, oldest due first, marked in flight (one transaction: the caller's). */
export function takeDue(sql: SqlStorage, now: number, limit: number = OUTBOX.batch): DueNotification[] {
  const rows = sql
    .exec<Pick<OutboxRow, "id" | "message_id" | "type" | "occurred_at" | "data" | "attempts">>(
      `SELECT id, message_id, type, occurred_at, data, attempts FROM notify_outbox
       WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
      now,
      limit,
    )
    .toArray();
  if (rows.length === 0) return [];
  sql.exec(
    `UPDATE notify_outbox SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ?
     WHERE id IN (SELECT value FROM json_each(?))`,
    now,
    now + OUTBOX.inFlightMs,
    idList(rows.map((r) => r.id)),
  );
  return rows.map((row) => ({
    id: row.id,
    message_id: row.message_id,
    // The data is stored as the JSON it was built as; the envelope puts it under `data` unchanged.
    body: `{"type":${JSON.stringify(row.type)},"occurred_at":${JSON.stringify(iso(row.occurred_at))},"data":${row.data}}`,
    attempt: row.attempts + 1,
  }));
}

export type DeliveryOutcome = { id: number; delivered: true } | { id: number; delivered: false; error: string };

/**
 * Records what the receiver did with each event handed out: delivered ones leave the outbox, failed
 * ones wait for their next attempt or, a day after they occurred, are given up. An event that left
 * the outbox meanwhile (dropped by the bound, notifications turned off) is skipped.
 */
export function recordOutcomes(sql: SqlStorage, outcomes: readonly DeliveryOutcome[], now: number, random: () => number = Math.random): void {
  let delivered = 0;
  let givenUp = 0;
  for (const outcome of outcomes) {
    const row = sql
      .exec<Pick<OutboxRow, "occurred_at" | "attempts">>(`SELECT occurred_at, attempts FROM notify_outbox WHERE id = ? AND state = 'pending'`, outcome.id)
      .toArray()[0];
    if (!row) continue;
    if (outcome.delivered) {
      sql.exec(`DELETE FROM notify_outbox WHERE id = ?`, outcome.id);
      delivered++;
      continue;
    }
    const deadline = row.occurred_at + OUTBOX.giveUpAfterMs;
    const error = outcome.error.slice(0, OUTBOX.textMax);
    if (now >= deadline) {
      sql.exec(
        `UPDATE notify_outbox SET state = 'given_up', next_attempt_at = NULL, last_error = ?, given_up_at = ? WHERE id = ?`,
        error,
        now,
        outcome.id,
      );
      givenUp++;
    } else {
      // The last attempt falls on the deadline itself, so "a day" means a day.
      const next = Math.min(now + retryDelay(row.attempts, random), deadline);
      sql.exec(`UPDATE notify_outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?`, next, error, outcome.id);
    }
  }
  if (delivered > 0) sql.exec(`UPDATE notify_state SET delivered = delivered + ?, last_delivered_at = ? WHERE id = 1`, delivered, now);
  if (givenUp > 0) {
    sql.exec(`UPDATE notify_state SET given_up = given_up + ? WHERE id = 1`, givenUp);
    sql.exec(
      `DELETE FROM notify_outbox WHERE state = 'given_up' AND id < (
         SELECT min(id) FROM (SELECT id FROM notify_outbox WHERE state = 'given_up' ORDER BY id DESC LIMIT ?))`,
      OUTBOX.givenUpKept,
    );
  }
}

/** The wait after the `attempts`-th failed attempt: base × 2^(attempts − 1), capped, ± 20 % jitter. */
export function retryDelay(attempts: number, random: () => number = Math.random): number {
  const exponential = Math.min(OUTBOX.retryMaxMs, OUTBOX.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

// --- the dashboard's view ----------------------------------------------------------------------

/** An event as the dashboard lists it. */
export interface OutboxEntry {
  message_id: string;
  type: NotificationType;
  occurred_at: string;
  data: Record<string, unknown>;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  given_up_at: string | null;
}

export interface OutboxStatus {
  recording: boolean;
  pending: number;
  oldest_pending_at: string | null;
  next_attempt_at: string | null;
  delivered: number;
  last_delivered_at: string | null;
  dropped: number;
  last_dropped_at: string | null;
  given_up: number;
  /** Undelivered events that have failed at least once, newest first. */
  failing: OutboxEntry[];
  /** Given-up events, newest first. */
  given_up_recent: OutboxEntry[];
}

/** Entries listed per section of the dashboard's page. */
const LISTED = 20;

export function outboxStatus(sql: SqlStorage): OutboxStatus {
  const state = sql
    .exec<{ recording: number; delivered: number; last_delivered_at: number | null; dropped: number; last_dropped_at: number | null; given_up: number }>(
      `SELECT recording, delivered, last_delivered_at, dropped, last_dropped_at, given_up FROM notify_state WHERE id = 1`,
    )
    .one();
  const pending = sql
    .exec<{ n: number; oldest: number | null; due: number | null }>(
      `SELECT count(*) AS n, min(occurred_at) AS oldest, min(next_attempt_at) AS due FROM notify_outbox WHERE state = 'pending'`,
    )
    .one();
  const entries = (where: string) =>
    sql.exec<OutboxRow>(`SELECT * FROM notify_outbox WHERE ${where} ORDER BY id DESC LIMIT ?`, LISTED).toArray().map(toEntry);
  return {
    recording: state.recording === 1,
    pending: pending.n,
    oldest_pending_at: iso(pending.oldest),
    next_attempt_at: iso(pending.due),
    delivered: state.delivered,
    last_delivered_at: iso(state.last_delivered_at),
    dropped: state.dropped,
    last_dropped_at: iso(state.last_dropped_at),
    given_up: state.given_up,
    failing: entries(`state = 'pending' AND last_error IS NOT NULL`),
    given_up_recent: entries(`state = 'given_up'`),
  };
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    message_id: row.message_id,
    type: row.type,
    occurred_at: iso(row.occurred_at)!,
    data: JSON.parse(row.data) as Record<string, unknown>,
    attempts: row.attempts,
    last_error: row.last_error,
    next_attempt_at: iso(row.next_attempt_at),
    given_up_at: iso(row.given_up_at),
  };
}
