"""``corpus.executor=ray``: corpus rows as Ray tasks on whatever ``ray.init(address=…)`` reaches.

Each row is one task running ``harness.corpus.execute_row`` (the same function the local
executor calls, so the results are identical except timings). Ray reuses worker processes, and
models are cached per process (``harness.models``), so they load once per worker. Row
directories are written by the workers: on a multi-node cluster the output folder must be on a
filesystem every node sees.

Ray is an optional extra: ``pip install -e ".[ray]"``. The Hydra Ray launcher
(``hydra-ray-launcher``) is not used: it launches whole Hydra jobs (on AWS), not rows, and its
latest release (1.2.2) pins ``cloudpickle<3``, which current Ray and this environment have moved
past.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Sequence

from harness.errors import BackendUnavailableError

log = logging.getLogger(__name__)

# Object store of a local instance: rows return small dicts, so the default (30% of RAM) would
# only reserve shared memory other processes could use.
LOCAL_OBJECT_STORE_BYTES = 200 * 1024 * 1024


def run_rows_ray(
    jobs: Sequence[tuple[str, Mapping[str, Any]]],
    ray_cfg: Mapping[str, Any],
    on_done: Callable[[int, Mapping[str, Any]], None],
) -> None:
    """Run ``execute_row(config, row_dir)`` for every ``(row_dir, config)`` as a Ray task and call
    ``on_done(job index, result)`` as each finishes (completion order).

    Joins ``ray_cfg["address"]`` when set (``"auto"``, ``"ray://host:10001"``), else starts a
    local instance with ``num_cpus`` CPUs and no dashboard, shut down at the end. An instance
    already initialised in this process is used as it is.

    Raises:
        BackendUnavailableError: ray is not installed.
    """
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailableError(
            'corpus.executor=ray needs Ray: pip install -e ".[ray]" (or corpus.executor=local)'
        ) from exc
    from harness.corpus import execute_row

    started = False
    if not ray.is_initialized():
        address = ray_cfg.get("address")
        if address:
            ray.init(address=str(address), log_to_driver=False)
        else:
            ray.init(num_cpus=int(ray_cfg.get("num_cpus") or 2), include_dashboard=False, log_to_driver=False,
                     object_store_memory=LOCAL_OBJECT_STORE_BYTES)
        started = True
    log.info("ray: %s CPUs in the cluster", ray.cluster_resources().get("CPU"))
    try:
        task = ray.remote(num_cpus=float(ray_cfg.get("cpus_per_row") or 1), max_retries=0)(execute_row)
        pending = {task.remote(dict(config), row_dir): i for i, (row_dir, config) in enumerate(jobs)}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                index = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # a worker that died (out of memory, killed node)
                    result = {"status": "error", "error": f"ray task failed: {str(exc).splitlines()[0]}"}
                on_done(index, result)
    finally:
        if started:
            ray.shutdown()
