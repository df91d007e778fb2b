/**
 * How the queue's statements are read by SQLite, on the paths that run on every hand-out, on the
 * alarm and on cancel_goal: each statement they send is recorded and its plan asked for
 * (EXPLAIN QUERY PLAN). A plan that walks every task of a status or of a goal for each row is
 * correct and fast on a small queue, and quadratic on a large one — which no functional test
 * notices, so these rules hold the plans themselves:
 *   - no statement scans `tasks` or `task_deps` whole (but one meant for every task);
 *   - leases are found through their expiry index, never through the tasks in progress;
 *   - a per-row count over dependencies starts from `task_deps` by its key.
 */
import { describe, expect, it } from "vitest";
import { handOut, settleDue } from "../src/runtime/dispatch";
import { cancelGoal } from "../src/runtime/tasks/cancel";
import { recomputeDerived } from "../src/runtime/tasks/derived";
import { nextLeaseExpiry, releaseExpiredLeases } from "../src/runtime/tasks/leases";
import { freshRuntime, value, withSql } from "./helpers/runtime";

interface Sent {
  query: string;
  params: SqlStorageValue[];
}

/** An SqlStorage that records every statement before running it. */
function recording(sql: SqlStorage, sent: Sent[]): SqlStorage {
  return new Proxy(sql, {
    get(target, key) {
      if (key !== "exec") return Reflect.get(target, key, target);
      return (query: string, ...params: SqlStorageValue[]) => {
        sent.push({ query, params });
        return target.exec(query, ...params);
      };
    },
  });
}

function planOf(sql: SqlStorage, { query, params }: Sent): string[] {
  return sql
    .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query.replace(/\s+RETURNING[\s\S]*$/, "")}`, ...params)
    .toArray()
    .map((row) => row.detail);
}

/** The plan's lines that break the rules above, with the statement they belong to. */
function badPlans(sql: SqlStorage, sent: Sent[], { everyTask = false } = {}): string[] {
  const bad: string[] = [];
  for (const statement of sent) {
    if (!/^\s*(SELECT|UPDATE|DELETE|INSERT\s+INTO\s+\w+\s*\([^)]*\)\s*SELECT)/i.test(statement.query)) continue;
    const plan = planOf(sql, statement);
    const short = statement.query.replace(/\s+/g, " ").slice(0, 90);
    plan.forEach((line, i) => {
      const whole = /^SCAN (tasks|task_deps|t|d|dep)\b(?! USING (COVERING )?INDEX tasks_(doomed|deferred))/.test(line);
      if (whole && !(everyTask && line === "SCAN tasks")) bad.push(`${line} — ${short}`);
      if (/lease_expires_at/.test(statement.query) && /status = 'in_progress'/.test(statement.query) && /tasks_by_status/.test(line)) bad.push(`${line} — ${short}`);
      if (line.startsWith("CORRELATED SCALAR SUBQUERY") && /task_deps/.test(statement.query) && plan[i + 1] && !/^SEARCH d USING (COVERING INDEX sqlite_autoindex_task_deps|PRIMARY KEY) \(task_id=\?/.test(plan[i + 1])) {
        bad.push(`${line} → ${plan[i + 1]} — ${short}`);
      }
    });
  }
  return bad;
}

describe("the queue's hot paths read through indexes", () => {
  it("a hand-out, the alarm's settling and the lease lookups", async () => {
    const rt = freshRuntime("plans-queue");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    const first = value(await rt.createTask({ title: "first", goal_id: goal.id, role: "coder" }));
    value(await rt.createTask({ title: "second", goal_id: goal.id, role: "coder", dependencies: [first.id] }));
    value(await rt.nextTask({ agent_id: "other", roles: ["coder"] }));
    value(await rt.createTask({ title: "third", goal_id: goal.id, role: "coder" }));
    const bad = await withSql(rt, (sql) => {
      const sent: Sent[] = [];
      const spy = recording(sql, sent);
      const now = Date.now();
      handOut(spy, { agent_id: "coder-1", roles: ["coder"], goal_id: goal.id }, now);
      handOut(spy, { roles: ["coder", "tester"] }, now);
      settleDue(spy, now + 3_600_000);
      nextLeaseExpiry(spy);
      releaseExpiredLeases(spy, now + 3_600_000);
      return badPlans(sql, sent);
    });
    expect(bad).toEqual([]);
  });

  it("cancel_goal and the recompute of every task's counters", async () => {
    const rt = freshRuntime("plans-cancel");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    const other = value(await rt.createGoal({ name: "other", description: "d" }));
    const a = value(await rt.createTask({ title: "a", goal_id: goal.id }));
    const b = value(await rt.createTask({ title: "b", goal_id: goal.id, dependencies: [a.id] }));
    value(await rt.createTask({ title: "c", goal_id: other.id, dependencies: [a.id, b.id], run_when: "all_finished" }));
    const bad = await withSql(rt, (sql, state) => {
      const sent: Sent[] = [];
      const spy = recording(sql, sent);
      // Each in a transaction that is rolled back: the plans need the statements, not their effects.
      const planned = (run: () => void) => {
        try {
          state.storage.transactionSync(() => {
            run();
            throw new Error("roll back");
          });
        } catch {
          // rolled back
        }
      };
      planned(() => cancelGoal(spy, goal.id, "plans", Date.now()));
      const cancelling = badPlans(sql, sent.splice(0));
      planned(() => recomputeDerived(spy));
      return [...cancelling, ...badPlans(sql, sent, { everyTask: true })];
    });
    expect(bad).toEqual([]);
  });
});
