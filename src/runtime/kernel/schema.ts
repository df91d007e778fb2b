/**
 * The Runtime's SQLite schema, as named forward-only migrations. Applied names are recorded in
 * `schema_migrations`, so a migration runs once per Durable Object whatever order the code was
 * deployed in; new ones are appended at the end of the list and never edited once shipped.
 *
 * Times are stored as integer milliseconds since the epoch (cheap to index and compare, and what
 * the alarm needs); they become ISO 8601 strings only at the edge.
 */
export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    name: "001_goals_tasks",
    sql: `
      CREATE TABLE goals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER
      );
      CREATE INDEX goals_by_status ON goals(status, id);

      CREATE TABLE tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        goal_id INTEGER REFERENCES goals(id),
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        priority INTEGER NOT NULL,
        -- Dependencies not yet completed. Kept up to date on every completion so that the ready
        -- queue is an index scan instead of a graph walk.
        unmet_deps INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER,
        result TEXT,
        error TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        assigned_to TEXT,
        attempt INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 3,
        lease_id TEXT,
        lease_expires_at INTEGER,
        progress TEXT
      );
      -- The ready queue: only ready rows are in these indexes, in hand-out order.
      CREATE INDEX tasks_ready ON tasks(priority DESC, id) WHERE status = 'pending' AND unmet_deps = 0;
      CREATE INDEX tasks_ready_by_goal ON tasks(goal_id, priority DESC, id) WHERE status = 'pending' AND unmet_deps = 0;
      CREATE INDEX tasks_by_goal ON tasks(goal_id, status);
      CREATE INDEX tasks_by_status ON tasks(status, id);
      CREATE INDEX tasks_lease_expiry ON tasks(lease_expires_at) WHERE lease_expires_at IS NOT NULL;

      CREATE TABLE task_deps (
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        depends_on INTEGER NOT NULL REFERENCES tasks(id),
        PRIMARY KEY (task_id, depends_on)
      ) WITHOUT ROWID;
      CREATE INDEX task_deps_reverse ON task_deps(depends_on, task_id);
    `,
  },
  {
    name: "002_breakers",
    sql: `
      -- One circuit breaker per agent: its settings, counters and state timestamps.
      CREATE TABLE breakers (
        agent_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        failure_threshold INTEGER NOT NULL,
        window_seconds INTEGER NOT NULL,
        cooldown_seconds INTEGER NOT NULL,
        half_open_max_calls INTEGER NOT NULL,
        success_threshold INTEGER NOT NULL,
        probe_timeout_seconds INTEGER NOT NULL,
        fallback_agent TEXT NOT NULL,
        -- Successes since the last state change (in HALF_OPEN: toward success_threshold).
        success_count INTEGER NOT NULL DEFAULT 0,
        total_failures INTEGER NOT NULL DEFAULT 0,
        total_successes INTEGER NOT NULL DEFAULT 0,
        trip_count INTEGER NOT NULL DEFAULT 0,
        -- Failures before this time never count toward a trip (set when the breaker closes).
        failures_since INTEGER NOT NULL,
        last_failure_at INTEGER,
        last_success_at INTEGER,
        state_changed_at INTEGER NOT NULL,
        opened_at INTEGER,
        half_open_at INTEGER,
        -- Set only while OPEN: the due time at which the alarm moves the breaker to HALF_OPEN.
        cooldown_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX breakers_by_state ON breakers(state, agent_id);
      CREATE INDEX breakers_cooldown ON breakers(cooldown_until) WHERE cooldown_until IS NOT NULL;

      -- The newest failures of each breaker (pruned to max(failure_threshold, 10)).
      CREATE TABLE breaker_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        agent_id TEXT NOT NULL,
        failure_type TEXT NOT NULL,
        message TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX breaker_failures_by_agent ON breaker_failures(agent_id, id);

      -- Append-only log of state transitions (pruned to the newest 50 per breaker).
      CREATE TABLE breaker_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        agent_id TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX breaker_events_by_agent ON breaker_events(agent_id, id);

      -- Calls let through while HALF_OPEN and not yet reported; expires_at is a due time.
      CREATE TABLE breaker_probes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        agent_id TEXT NOT NULL,
        task_id INTEGER,
        taken_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX breaker_probes_by_agent ON breaker_probes(agent_id, id);
      CREATE INDEX breaker_probes_expiry ON breaker_probes(expires_at);
    `,
  },
  {
    name: "003_relay",
    sql: `
      -- A relay pipeline: an ordered chain of agent steps working on one goal. The public id is
      -- random; seq gives "newest first" without relying on clock ties.
      CREATE TABLE pipelines (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        goal TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        current_step INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER NOT NULL,
        token_budget INTEGER NOT NULL,
        tokens_used INTEGER NOT NULL DEFAULT 0,
        -- The rules a pipeline was created under stay with it.
        l_score_threshold REAL NOT NULL,
        max_retries INTEGER NOT NULL,
        failure_reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE INDEX pipelines_by_status ON pipelines(status, seq);

      CREATE TABLE relay_steps (
        pipeline_id TEXT NOT NULL REFERENCES pipelines(id),
        step_index INTEGER NOT NULL,
        agent_type TEXT NOT NULL,
        status TEXT NOT NULL,
        quality_threshold REAL NOT NULL,
        -- The latest attempt's report; tokens add up over all attempts (the work was done).
        quality_score REAL,
        l_score REAL,
        tokens_used INTEGER NOT NULL DEFAULT 0,
        retry_count INTEGER NOT NULL DEFAULT 0,
        output_summary TEXT,
        output_entity_id TEXT,
        started_at INTEGER,
        finished_at INTEGER,
        PRIMARY KEY (pipeline_id, step_index)
      ) WITHOUT ROWID;

      -- Every baton ever handed out; status live | passed | failed | superseded. At most one is
      -- live per pipeline, enforced by the unique partial index.
      CREATE TABLE batons (
        id TEXT PRIMARY KEY,
        pipeline_id TEXT NOT NULL REFERENCES pipelines(id),
        step_index INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        closed_at INTEGER
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX batons_live ON batons(pipeline_id) WHERE status = 'live';
    `,
  },
  {
    name: "004_leases",
    sql: `
      -- The length a lease was claimed for: a heartbeat without extend_seconds extends by it.
      ALTER TABLE tasks ADD COLUMN lease_seconds INTEGER;

      -- A task's history (claims, heartbeats, lease expiries, status changes), newest by id.
      -- Bounded per task: consecutive heartbeats of one lease share one row (count), and only
      -- the newest LIMITS.taskEvents rows of a task are kept.
      CREATE TABLE task_events (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        agent_id TEXT,
        lease_id TEXT,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL,
        count INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX task_events_by_task ON task_events(task_id, id);
    `,
  },
  {
    name: "005_tasks_by_agent",
    sql: `
      -- The agents that ever held a task, for completing agent_id (resources, prompts).
      CREATE INDEX tasks_by_agent ON tasks(assigned_to) WHERE assigned_to IS NOT NULL;
    `,
  },
  {
    name: "006_lists",
    sql: `
      -- Keys this object makes for itself, e.g. 'cursor': the HMAC key of list cursors
      -- (kernel/cursor.ts). Not user data: never listed or exported.
      CREATE TABLE runtime_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
      -- A goal's tasks in creation order (the rowid follows goal_id in the index), so that a page
      -- of list_tasks {goal_id} is a range scan instead of a sort of all the goal's tasks.
      CREATE INDEX tasks_in_goal ON tasks(goal_id);
      -- What a pipeline summary needs of its steps, without their summaries. relay_steps is
      -- WITHOUT ROWID, so a range scan of its key compares whole rows, 20,000-character summaries
      -- included; this covering index lets list_relay_pipelines {view: "full"} read small rows.
      CREATE INDEX relay_step_outcomes ON relay_steps(pipeline_id, step_index, status, quality_score, l_score, output_entity_id);
    `,
  },
  {
    name: "007_decompose_budget",
    sql: `
      -- Model calls made for decomposition per UTC day ('YYYY-MM-DD'), counted before each call
      -- against DECOMPOSE_DAILY_LIMIT; only today's row is kept.
      CREATE TABLE model_calls (
        day TEXT PRIMARY KEY,
        calls INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    name: "008_task_routing",
    sql: `
      -- Who may take a task (NULL: anyone; 'owner': the owner, on the dashboard), and when it may
      -- run (docs/tasks.md): its dependency rule, and not before a time.
      ALTER TABLE tasks ADD COLUMN role TEXT;
      ALTER TABLE tasks ADD COLUMN run_when TEXT NOT NULL DEFAULT 'all_completed';
      ALTER TABLE tasks ADD COLUMN not_before INTEGER;
      -- Retries with back-off after a reported failure or a lease running out (NULL: none).
      ALTER TABLE tasks ADD COLUMN retry_backoff_seconds INTEGER;
      ALTER TABLE tasks ADD COLUMN retry_backoff_max_seconds INTEGER;
      -- Counters of the dependencies by outcome, kept up to date on every move of a dependency
      -- (unmet_deps counts those not completed), so that every rule is judged without reading
      -- edges; and the judgement itself, so that the ready queue stays a partial index:
      -- hold 0 ready, 1 waiting for dependencies, 2 waiting for not_before, 3 never (to be skipped).
      ALTER TABLE tasks ADD COLUMN dep_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE tasks ADD COLUMN failed_deps INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE tasks ADD COLUMN cancelled_deps INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE tasks ADD COLUMN hold INTEGER NOT NULL DEFAULT 0;
      -- CROSS JOIN: task_deps by its key for each task, never every task of a status for each.
      UPDATE tasks SET
        dep_count = (SELECT count(*) FROM task_deps WHERE task_id = tasks.id),
        failed_deps = (SELECT count(*) FROM task_deps d CROSS JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = tasks.id AND t.status = 'failed'),
        cancelled_deps = (SELECT count(*) FROM task_deps d CROSS JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = tasks.id AND t.status = 'cancelled');
      -- Every existing task keeps today's rule (all_completed); one waiting on a cancelled task can
      -- never run, and is skipped by the alarm.
      UPDATE tasks SET hold = CASE WHEN cancelled_deps > 0 THEN 3 WHEN unmet_deps > 0 THEN 1 ELSE 0 END;

      DROP INDEX tasks_ready;
      DROP INDEX tasks_ready_by_goal;
      -- The ready queue by role (NULL first), in hand-out order: a caller's next task is one index
      -- entry per role it may take, however many tasks other roles have.
      CREATE INDEX tasks_ready ON tasks(role, priority DESC, id) WHERE status = 'pending' AND hold = 0;
      CREATE INDEX tasks_ready_by_goal ON tasks(goal_id, role, priority DESC, id) WHERE status = 'pending' AND hold = 0;
      -- Pending work by role, to say why nothing is ready for a caller.
      CREATE INDEX tasks_pending_by_role ON tasks(role, goal_id) WHERE status = 'pending';
      -- Tasks that become ready by time alone, in due order (the alarm's, and next_ready_at).
      CREATE INDEX tasks_deferred ON tasks(not_before) WHERE status = 'pending' AND hold = 2;
      -- Tasks whose rule can never hold, waiting to be skipped in bounded batches.
      CREATE INDEX tasks_doomed ON tasks(id) WHERE status = 'pending' AND hold = 3;
      -- list_tasks {role}.
      CREATE INDEX tasks_by_role ON tasks(role, id);
    `,
  },
  {
    name: "010_schedules",
    sql: `
      -- Recurring work (docs/schedules.md): at each due time the alarm makes one task from the
      -- schedule's fields. The public id is random; seq gives "newest first" and list cursors.
      CREATE TABLE schedules (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        goal_id INTEGER REFERENCES goals(id),
        role TEXT,
        priority INTEGER NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        -- Exactly one of the two rules is set; timezone applies to cron.
        every_seconds INTEGER,
        cron TEXT,
        timezone TEXT NOT NULL,
        overlap TEXT NOT NULL,
        starts_at INTEGER,
        ends_at INTEGER,
        keep_runs INTEGER NOT NULL,
        status TEXT NOT NULL,
        -- Set only while active: the due time of the next run.
        next_run_at INTEGER,
        last_run_at INTEGER,
        last_task_id INTEGER,
        runs INTEGER NOT NULL DEFAULT 0,
        skipped_runs INTEGER NOT NULL DEFAULT 0,
        -- Set while finished runs beyond keep_runs may be left to remove: a due time too.
        prune_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX schedules_by_status ON schedules(status, seq);
      CREATE INDEX schedules_due ON schedules(next_run_at) WHERE next_run_at IS NOT NULL;
      CREATE INDEX schedules_prune ON schedules(prune_at) WHERE prune_at IS NOT NULL;

      -- The schedule a task was made by; its runs in creation order, and its finished runs alone,
      -- so that finding those beyond keep_runs reads index entries only.
      ALTER TABLE tasks ADD COLUMN schedule_id TEXT REFERENCES schedules(id);
      CREATE INDEX tasks_of_schedule ON tasks(schedule_id, id) WHERE schedule_id IS NOT NULL;
      CREATE INDEX tasks_finished_of_schedule ON tasks(schedule_id, id)
        WHERE schedule_id IS NOT NULL AND status IN ('completed', 'failed', 'cancelled');
    `,
  },
  {
    name: "011_notify_outbox",
    sql: `
      -- Notifications waiting to be delivered to NOTIFY_URL (runtime/notify/), oldest id first.
      -- A row is written in the same transaction as the change that raised it, and deleted once a
      -- receiver took it. state: 'pending' (next_attempt_at is its due time for the alarm; while a
      -- delivery is in flight, the time it is tried again if the object restarts) or 'given_up'
      -- (a day of failed attempts; the newest few are kept to show on the dashboard).
      CREATE TABLE notify_outbox (
        -- A plain rowid (no AUTOINCREMENT): larger than every id present, which is all the order
        -- needs, and no sqlite_sequence row for the export to carry.
        id INTEGER PRIMARY KEY,
        -- The webhook-id header: the same on every attempt, so a receiver can drop duplicates.
        message_id TEXT NOT NULL,
        type TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        last_attempt_at INTEGER,
        last_error TEXT,
        given_up_at INTEGER
      );
      CREATE INDEX notify_outbox_due ON notify_outbox(next_attempt_at, id) WHERE state = 'pending';
      CREATE INDEX notify_outbox_by_state ON notify_outbox(state, id);

      -- One row: whether events are recorded at all (NOTIFY_URL set and valid, written by the
      -- Runtime when it starts), and what happened to the events no longer in the outbox.
      CREATE TABLE notify_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        recording INTEGER NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 0,
        last_delivered_at INTEGER,
        dropped INTEGER NOT NULL DEFAULT 0,
        last_dropped_at INTEGER,
        given_up INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO notify_state (id) VALUES (1);
    `,
  },
  {
    name: "012_agent_keys",
    sql: `
      -- Agent keys (docs/security.md): credentials of this instance, never exported. Only the
      -- SHA-256 of a key's secret is kept. roles is a JSON array, or NULL for any roles; endpoint
      -- is the path of the endpoint set the key works on ('/mcp': all of them).
      CREATE TABLE agent_keys (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        roles TEXT,
        endpoint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        -- Written at most once a minute per key, so that checking a key is a read.
        last_used_at INTEGER
      ) WITHOUT ROWID;
    `,
  },
];

export function migrate(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`);
  const applied = new Set(sql.exec<{ name: string }>(`SELECT name FROM schema_migrations`).toArray().map((r) => r.name));
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.name)) continue;
    sql.exec(migration.sql);
    sql.exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, migration.name, Date.now());
  }
}
