"""Every Redis key stepmap writes: one prefix, one schema version, ids last.

Templates are methods of :class:`Keys` so a prefix can be set per deployment or per test.
Values:

========================  ======  =================================================================
key                       type    content
========================  ======  =================================================================
sm:{arn}                  hash    state machine record (name, definition, type, roleArn, dates ...)
sm:index                  zset    state machine ARNs by creation time
sm:{arn}:executions       zset    execution ARNs of one state machine by start time
ex:{arn}                  hash    execution record (status, input, output, error, cause, dates ...)
ex:{arn}:history          list    history events (JSON), in id order
ex:{arn}:checkpoint       string  engine checkpoint (JSON) of a suspended parent execution
ex:{arn}:mapruns          zset    Map Run ARNs of one execution by start time
ex:{arn}:lock             string  advance lock (one control process advances an execution)
mr:{arn}                  hash    Map Run record (request, settings, status, dates, cursor ...)
mr:{arn}:counters         hash    item and execution counters (i.<name>, e.<name>)
mr:{arn}:inputs           hash    child index -> child input (JSON): the dispatch window
mr:{arn}:children         hash    child index -> child record (JSON)
mr:{arn}:status           hash    child index -> terminal status (the idempotent transition)
mr:{arn}:status:outbox    hash    child index -> ChildOutcome JSON a worker wrote as its child ended
mr:{arn}:status:redrive   hash    child index -> a failed STANDARD child's journal (redrive point)
mr:{arn}:queue            zset    child indexes ready to dispatch (score = index)
mr:{arn}:sem              zset    concurrency permits: holder -> lease expiry (ms)
mr:{arn}:sem:wake         string  200-ms mark: a pool already woke this hungry Map Run
mr:{arn}:sem:wake-rate    string  mark: a delayed dispatch waits for this Map Run's rate tokens
pool:{name}               hash    named pool: maxConcurrency, itemsPerSecond, dates, bucket state
pool:{name}:runs          hash    open Map Runs in the pool: arn -> "{sem key}\t{queue key}\t{run key}"
pool-index                zset    pool names by creation time
mr:{arn}:segments         hash    chord segment id -> JSON {children, deadline, closed}
mr:{arn}:stream           string  result files streamed to S3 while children run (store/result_stream.py)
mr:{arn}:write            string  result-stream lease (one control process writes parts at a time)
mr:{arn}:feed             string  feeder lease
mr:open                   zset    open Map Run ARNs by start time (the reconciler's work list)
proc:{digest}             string  an ItemProcessor definition (JSON), read by workers
ex:{arn}:task:{seq}       string  result of a parent Task run on a worker (JSON)
mr:{arn}:finalize         string  finalizer lease (short, renewed while the Map Run closes)
reconcile:lock            string  one reconciler pass at a time
child:{name}              string  child execution name -> "{map run arn}|{index}"
token:{id}                string  pagination token payload (JSON), 24 h TTL
cb:{token}                hash    a task token: execution, sequence, timers, answer (store/callbacks.py)
cb:ex:{arn}:{seq}         string  the task token of a parent call (execution ARN, call sequence)
act:{arn}                 hash    activity record (activityArn, name, creationDate)
act:index                 zset    activity ARNs by creation time
act:{arn}:tasks           list    task tokens waiting for GetActivityTask (FIFO)
devstack:ready:{n}:{id}   string  pid of a local stack's Celery worker once it consumes
metrics:children          hash    finished children: duration buckets, seconds, errors by name
metrics:children:errors   set     error names kept as labels of ``metrics:children`` (capped)
adm:limit                 string  open-Map-Run limit set live (API/CLI); absent: the setting
adm:ring                  zset    admission keys with queued Map Runs -> turn (lowest goes next)
adm:q:{key}               list    ARNs of the Map Runs queued under one admission key (FIFO)
========================  ======  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Keys:
    """Key templates under ``{prefix}:{SCHEMA_VERSION}:``."""

    prefix: str = "stepmap"

    @property
    def base(self) -> str:
        """The namespace every key starts with."""
        return f"{self.prefix}:{SCHEMA_VERSION}"

    # state machines
    def state_machine(self, arn: str) -> str:
        return f"{self.base}:sm:{arn}"

    def state_machine_index(self) -> str:
        return f"{self.base}:sm:index"

    def state_machine_executions(self, arn: str) -> str:
        return f"{self.base}:sm:{arn}:executions"

    # executions
    def open_executions(self) -> str:
        """Zset: RUNNING execution ARN -> when it was last looked at (the liveness sweep)."""
        return f"{self.base}:ex-open"

    def execution(self, arn: str) -> str:
        return f"{self.base}:ex:{arn}"

    def history(self, arn: str) -> str:
        return f"{self.base}:ex:{arn}:history"

    def checkpoint(self, arn: str) -> str:
        return f"{self.base}:ex:{arn}:checkpoint"

    def execution_map_runs(self, arn: str) -> str:
        return f"{self.base}:ex:{arn}:mapruns"

    def execution_lock(self, arn: str) -> str:
        return f"{self.base}:ex:{arn}:lock"

    # map runs
    def map_run(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}"

    def map_run_counters(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:counters"

    def map_run_inputs(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:inputs"

    def map_run_children(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:children"

    def map_run_status(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:status"

    def map_run_queue(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:queue"

    def map_run_outbox(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:status:outbox"

    def map_run_journals(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:status:redrive"

    def map_run_semaphore(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:sem"

    def map_run_claims(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:sem:claims"

    def map_run_segments(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:segments"

    def map_run_stream(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:stream"

    def map_run_write_lock(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:write"

    def map_run_feed_lock(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:feed"

    def open_map_runs(self) -> str:
        return f"{self.base}:mr:open"

    # admission (stepmap extension, docs/extensions.md)
    def admission_limit(self) -> str:
        return f"{self.base}:adm:limit"

    def admission_ring(self) -> str:
        return f"{self.base}:adm:ring"

    def admission_queue(self, key: str) -> str:
        return f"{self.base}:adm:q:{key}"

    def processor(self, digest: str) -> str:
        return f"{self.base}:proc:{digest}"

    def reconcile_lock(self) -> str:
        return f"{self.base}:reconcile:lock"

    def map_run_finalize_lock(self, arn: str) -> str:
        return f"{self.base}:mr:{arn}:finalize"

    def advance_attempts(self, arn: str) -> str:
        return f"{self.base}:ex:{arn}:advancing"

    def task_result(self, arn: str, sequence: int) -> str:
        return f"{self.base}:ex:{arn}:task:{sequence}"

    def task_sent(self, arn: str, sequence: int) -> str:
        """String: the redrive in which a parent's Task call went to the broker."""
        return f"{self.base}:ex:{arn}:sent:{sequence}"

    def child(self, name: str) -> str:
        return f"{self.base}:child:{name}"

    def page_token(self, token_id: str) -> str:
        return f"{self.base}:token:{token_id}"

    def worker_ready(self, name: str, nonce: str) -> str:
        return f"{self.base}:devstack:ready:{name}:{nonce}"

    # named pools (store/pools.py); the grant script builds pool keys from ``pool_base``
    def pool_base(self) -> str:
        return f"{self.base}:pool:"

    def pool(self, name: str) -> str:
        return f"{self.pool_base()}{name}"

    def pool_runs(self, name: str) -> str:
        return f"{self.pool_base()}{name}:runs"

    def pool_index(self) -> str:
        return f"{self.base}:pool-index"

    # operator metrics (store/child_metrics.py)
    def child_metrics(self) -> str:
        return f"{self.base}:metrics:children"

    def child_error_names(self) -> str:
        return f"{self.base}:metrics:children:errors"

    # task tokens and activities (orchestrator/store/callbacks.py)
    def callback(self, token: str) -> str:
        return f"{self.base}:cb:{token}"

    def callback_of_call(self, arn: str, sequence: int) -> str:
        return f"{self.base}:cb:ex:{arn}:{sequence}"

    def activity(self, arn: str) -> str:
        return f"{self.base}:act:{arn}"

    def activity_index(self) -> str:
        return f"{self.base}:act:index"

    def activity_tasks(self, arn: str) -> str:
        return f"{self.base}:act:{arn}:tasks"
