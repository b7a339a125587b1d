"""Integration tests: real LocalClusters on this machine, and a jobqueue cluster that submits nothing."""

from __future__ import annotations

import time

import dask
import dask.array as da
import pytest
from distributed import get_worker

from ai4geo_kernel import compute
from ai4geo_kernel.errors import ConfigurationError

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _no_user_cluster_config():
    with dask.config.set({"ai4geo": {}}):
        yield


def _worker_name_and_gpus() -> tuple[str, float]:
    worker = get_worker()
    return str(worker.name), float(worker.state.total_resources.get("GPU", 0))


def _describe(dask_worker) -> tuple[str, float]:
    """For ``client.run``, which passes the worker itself."""
    return str(dask_worker.name), float(dask_worker.state.total_resources.get("GPU", 0))


def _busy_interval(seconds: float) -> tuple[float, float]:
    start = time.time()
    time.sleep(seconds)
    return start, time.time()


def test_local_cluster_computes_and_is_reused() -> None:
    started = time.perf_counter()
    client = compute.cluster("local", new=True, n_workers=2, threads_per_worker=1)
    elapsed = time.perf_counter() - started
    cluster = client.cluster
    try:
        print(f"LocalCluster 2x1 started in {elapsed:.2f} s")
        assert len(client.scheduler_info()["workers"]) == 2
        array = da.arange(1_000_000, chunks=100_000)
        assert array.sum().compute() == 499_999_500_000  # default scheduler is this client
        assert compute.cluster() is client
        assert compute.cluster("local", n_workers=2, threads_per_worker=1) is client
        assert compute.current_client() is client
        with pytest.raises(ConfigurationError, match="new=True"):
            compute.cluster("local", n_workers=1)
    finally:
        client.close()
    assert cluster.status.name == "closed"  # the client closed the cluster it started
    assert compute.current_client() is None


def test_submit_gpu_runs_on_the_gpu_tagged_worker() -> None:
    client = compute.cluster("local", new=True, n_workers=2, threads_per_worker=2, gpus=1)
    try:
        assert list(compute.gpu_workers(client).values()) == [1.0]
        placed = client.gather(
            [compute.submit_gpu(client, _worker_name_and_gpus, pure=False) for _ in range(6)]
        )
        assert set(placed) == {("gpu-0", 1.0)}
        # the worker has 2 threads but 1 GPU: GPU tasks never overlap
        first, second = client.gather(
            [compute.submit_gpu(client, _busy_interval, 0.5, pure=False) for _ in range(2)]
        )
        assert first[1] <= second[0] or second[1] <= first[0]
        # ordinary tasks may still use every worker
        everywhere = client.run(_describe)
        assert sorted(everywhere.values()) == [("0", 0.0), ("gpu-0", 1.0)]
    finally:
        client.close()


def test_local_resources_tag_every_worker() -> None:
    client = compute.cluster("local", new=True, n_workers=2, threads_per_worker=1, resources={"GPU": 1})
    try:
        assert len(compute.gpu_workers(client)) == 2
        name, gpus = compute.submit_gpu(client, _worker_name_and_gpus, pure=False).result()
        assert gpus == 1.0
    finally:
        client.close()


def test_slurm_cluster_class_writes_the_same_job_script() -> None:
    """SLURMCluster starts only its scheduler here: we never scale, so sbatch never runs."""
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    # bind the scheduler to loopback: by default jobqueue finds this host's address by routing to 8.8.8.8
    options = dict(cores=4, memory="16GiB", queue="gpu", gpus=1, scheduler_options={"host": "127.0.0.1"})
    config = compute.cluster_config("slurm", **options)
    with dask_jobqueue.SLURMCluster(**config["cluster"]) as cluster:
        script = cluster.job_script()
    ours = compute.job_script("slurm", **options)
    sbatch = [line for line in script.splitlines() if line.startswith("#SBATCH")]
    assert sbatch[1:] == [line for line in ours.splitlines() if line.startswith("#SBATCH")][1:]
    assert "#SBATCH --gres=gpu:1" in sbatch
    assert "--resources GPU=1" in script
