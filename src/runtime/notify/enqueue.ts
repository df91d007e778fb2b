/**
 * The one way an event enters the outbox, called by the domain whose change raised it, inside
 * that change's transaction: the event exists exactly when the change does. Nothing here waits
 * for, or can fail because of, a receiver: delivery is the alarm's (runtime/webhooks.ts).
 *
 * Events are recorded only while notifications are on (NOTIFY_URL set and valid; the Runtime
 * says so when it starts, `configureOutbox`), so an instance without a receiver stores nothing.
 */
import { randomToken } from "../kernel/rows";
import { OUTBOX, type NotificationData, type NotificationType } from "./model";

export function enqueueNotification<T extends NotificationType>(sql: SqlStorage, type: T, data: NotificationData[T], now: number): void {
  if (sql.exec<{ recording: number }>(`SELECT recording FROM notify_state WHERE id = 1`).one().recording !== 1) return;
  sql.exec(
    `INSERT INTO notify_outbox (message_id, type, occurred_at, data, state, next_attempt_at) VALUES (?, ?, ?, ?, 'pending', ?)`,
    `msg_${randomToken(24)}`,
    type,
    now,
    JSON.stringify(bounded(data)),
    now,
  );
  // The bound: the oldest undelivered events make room. Counted, so the dashboard can say so.
  const dropped = sql
    .exec(
      `DELETE FROM notify_outbox WHERE state = 'pending' AND id <= (
         SELECT id FROM notify_outbox WHERE state = 'pending' ORDER BY id DESC LIMIT 1 OFFSET ?) RETURNING id`,
      OUTBOX.maxPending,
    )
    .toArray().length;
  if (dropped > 0) sql.exec(`UPDATE notify_state SET dropped = dropped + ?, last_dropped_at = ? WHERE id = 1`, dropped, now);
}

/** The data with every string cut to OUTBOX.textMax characters (names are shorter; reasons and errors may not be). */
function bounded<D extends object>(data: D): D {
  const cut = Object.entries(data).map(([key, value]) => [
    key,
    typeof value === "string" && value.length > OUTBOX.textMax ? `${value.slice(0, OUTBOX.textMax - 1)}…` : value,
  ]);
  return Object.fromEntries(cut) as D;
}
