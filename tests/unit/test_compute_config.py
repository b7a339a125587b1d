"""Unit tests of the cluster factories' configurations: nothing is started, no server contacted."""

from __future__ import annotations

import sys
import warnings

import dask
import pytest

from ai4geo_kernel import compute
from ai4geo_kernel.compute._local import LocalClusterFactory
from ai4geo_kernel.errors import ConfigurationError

GIB = 2**30


@pytest.fixture(autouse=True)
def _no_user_cluster_config():
    """Isolate every test from a user's ~/.config/dask/ai4geo.yaml."""
    with dask.config.set({"ai4geo": {}}):
        yield


# --- registry and selection ---------------------------------------------------------------


def test_every_factory_implements_the_protocol() -> None:
    assert set(compute.FACTORIES) == {"local", "slurm", "pbs", "gateway", "kubernetes", "scheduler"}
    for kind, factory in compute.FACTORIES.items():
        assert isinstance(factory, compute.ClusterFactory)
        assert factory.kind == kind


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        compute.cluster_config("yarn")
    for kind in compute.FACTORIES:
        assert kind in str(caught.value)
    with pytest.raises(ConfigurationError):
        compute.cluster("yarn")


def test_unknown_option_lists_the_accepted_ones() -> None:
    with pytest.raises(ConfigurationError, match="n_wokers.*accepted options:.*n_workers"):
        compute.cluster_config("local", n_wokers=3)


def test_default_kind_is_local() -> None:
    assert compute.cluster_config()["kind"] == "local"


def test_kind_and_options_come_from_the_dask_config() -> None:
    with dask.config.set({"ai4geo.cluster": {"kind": "slurm", "cores": 4, "memory": "8GiB", "queue": "cpu"}}):
        config = compute.cluster_config()
        assert config["kind"] == "slurm"
        assert config["cluster"] == {"cores": 4, "memory": "8GiB", "queue": "cpu"}
        # keyword options override the config, config options of the same kind stay
        assert compute.cluster_config(queue="gpu")["cluster"]["queue"] == "gpu"
        assert compute.cluster_config("slurm", cores=8)["cluster"]["memory"] == "8GiB"
        # another kind asked explicitly: the slurm options do not leak into it
        assert compute.cluster_config("local")["kind"] == "local"


def test_environment_variables_select_the_kind() -> None:
    env = {
        "DASK_AI4GEO__CLUSTER__KIND": "pbs",
        "DASK_AI4GEO__CLUSTER__CORES": "12",
        "DASK_AI4GEO__CLUSTER__MEMORY": "48GB",
    }
    with dask.config.set(dask.config.collect_env(env)):
        config = compute.cluster_config()
    assert config["kind"] == "pbs"
    assert config["cluster"]["cores"] == 12


def test_kebab_case_keys_from_yaml_are_accepted() -> None:
    with dask.config.set(
        {
            "ai4geo.cluster": {
                "kind": "slurm",
                "cores": 2,
                "memory": "4GiB",
                "job-extra-directives": ["--exclusive"],
            }
        }
    ):
        assert compute.cluster_config()["cluster"]["job_extra_directives"] == ["--exclusive"]


def test_scale_and_adapt_are_validated() -> None:
    assert compute.cluster_config("local", adapt={"minimum": 1, "maximum": 4})["adapt"] == {
        "minimum": 1,
        "maximum": 4,
    }
    assert compute.cluster_config("local", adapt=True)["adapt"] == {}
    with pytest.raises(ConfigurationError, match="exclude"):
        compute.cluster_config("local", scale=2, adapt=True)
    with pytest.raises(ConfigurationError, match="exceeds"):
        compute.cluster_config("local", adapt={"minimum": 5, "maximum": 1})
    with pytest.raises(ConfigurationError):
        compute.cluster_config("local", scale=-1)


# --- local ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cores", "workers", "threads"),
    [(1, 1, 1), (2, 2, 1), (4, 4, 1), (16, 4, 4), (32, 8, 4)],
)
def test_local_cluster_is_sized_to_the_machine(cores: int, workers: int, threads: int) -> None:
    config = LocalClusterFactory(cores=cores, memory_bytes=64 * GIB).build_config({})
    cluster = config["cluster"]
    assert (cluster["n_workers"], cluster["threads_per_worker"]) == (workers, threads)
    assert cluster["memory_limit"] == int(64 * GIB * 0.9 / workers)
    assert cluster["processes"] is True
    assert cluster["dashboard_address"] == ":0"
    assert config["gpu_workers"] == []


def test_local_options_override_the_sizing() -> None:
    config = compute.cluster_config("local", n_workers=3, threads_per_worker=2, memory_limit="2GiB")
    assert config["cluster"]["n_workers"] == 3
    assert config["cluster"]["threads_per_worker"] == 2
    assert config["cluster"]["memory_limit"] == "2GiB"


def test_local_resources_reach_every_worker() -> None:
    config = compute.cluster_config("local", n_workers=2, resources={"GPU": 1})
    assert config["cluster"]["resources"] == {"GPU": 1}


def test_local_gpus_tag_one_worker_per_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    config = LocalClusterFactory(cores=4, memory_bytes=8 * GIB).build_config({"gpus": 2})
    assert config["cluster"]["n_workers"] == 2  # CPU-only workers; 2 more carry the GPUs
    assert config["gpu_workers"] == [
        {"name": "gpu-0", "resources": {"GPU": 1}, "env": {"CUDA_VISIBLE_DEVICES": "2"}},
        {"name": "gpu-1", "resources": {"GPU": 1}, "env": {"CUDA_VISIBLE_DEVICES": "3"}},
    ]


def test_local_gpus_need_enough_workers_and_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="n_workers"):
        compute.cluster_config("local", n_workers=1, gpus=2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(ConfigurationError, match="CUDA_VISIBLE_DEVICES"):
        compute.cluster_config("local", n_workers=2, gpus=2)
    with pytest.raises(ConfigurationError, match="adapt"):
        compute.cluster_config("local", n_workers=2, gpus=1, adapt=True)


# --- job queues ----------------------------------------------------------------------------


def _header(script: str, directive: str) -> list[str]:
    return [line for line in script.splitlines() if line.startswith(directive)]


def test_slurm_job_script_carries_the_requested_resources() -> None:
    options = dict(
        cores=8,
        memory="32GiB",
        queue="gpu",
        account="ai4geo",
        walltime="02:00:00",
        job_extra=["--exclusive"],
        gpus=2,
    )
    config = compute.cluster_config("slurm", **options)
    assert config["cluster"]["processes"] == 2  # one worker per GPU
    script = compute.job_script("slurm", **options)
    header = _header(script, "#SBATCH")
    for line in (
        "#SBATCH -p gpu",
        "#SBATCH -A ai4geo",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --mem=32G",
        "#SBATCH -t 02:00:00",
        "#SBATCH --exclusive",
        "#SBATCH --gres=gpu:2",
    ):
        assert line in header, (line, header)
    assert "--resources GPU=1" in script
    assert "--nworkers 2" in script
    assert "<scheduler-address>" in script


def test_slurm_without_gpus_asks_for_none() -> None:
    script = compute.job_script("slurm", cores=4, memory="16GiB")
    assert "--gres" not in script
    assert "--resources" not in script


def test_pbs_job_script_selects_gpus() -> None:
    script = compute.job_script("pbs", cores=8, memory="32GiB", queue="gpu", walltime="01:00:00", gpus=1)
    header = _header(script, "#PBS")
    assert "#PBS -q gpu" in header
    assert "#PBS -l select=1:ncpus=8:ngpus=1:mem=35GB" in header
    assert "#PBS -l walltime=01:00:00" in header
    assert "--resources GPU=1" in script


def test_pbs_explicit_resource_spec_gets_the_gpus() -> None:
    config = compute.cluster_config("pbs", cores=4, memory="8GiB", resource_spec="select=1:ncpus=4", gpus=2)
    assert config["cluster"]["resource_spec"] == "select=1:ncpus=4:ngpus=2"
    with pytest.raises(ConfigurationError, match="ngpus"):
        compute.cluster_config("pbs", resource_spec="select=1:ngpus=1", gpus=1)


def test_gpus_must_split_evenly_between_worker_processes() -> None:
    with pytest.raises(ConfigurationError, match="evenly"):
        compute.cluster_config("slurm", cores=8, memory="8GiB", processes=2, gpus=3)


def test_list_options_must_be_lists() -> None:
    with pytest.raises(ConfigurationError, match="list of strings"):
        compute.cluster_config("slurm", job_extra_directives="--exclusive")


def test_job_script_is_only_for_job_queues() -> None:
    with pytest.raises(ConfigurationError, match="job queues"):
        compute.job_script("local")


# --- gateway, kubernetes, scheduler ----------------------------------------------------------


def test_gateway_config_names_server_and_options() -> None:
    config = compute.cluster_config(
        "gateway",
        address="https://gateway.example/services/dask-gateway",
        auth="jupyterhub",
        cluster_options={"worker_cores": 4, "image": "ai4geo/project:latest"},
        adapt={"maximum": 10},
    )
    assert config == {
        "kind": "gateway",
        "gateway": {"address": "https://gateway.example/services/dask-gateway", "auth": "jupyterhub"},
        "cluster_options": {"worker_cores": 4, "image": "ai4geo/project:latest"},
        "shutdown_on_close": True,
        "scale": None,
        "adapt": {"maximum": 10},
    }


def test_gateway_needs_an_address() -> None:
    with dask.config.set({"gateway.address": None}), pytest.raises(ConfigurationError, match="address"):
        compute.cluster_config("gateway")
    with dask.config.set({"gateway.address": "http://gw:8000"}):
        assert compute.cluster_config("gateway")["gateway"] == {}


def test_kubernetes_spec_puts_gpus_on_workers_only() -> None:
    resources = {"limits": {"cpu": "2", "memory": "8Gi"}}
    config = compute.cluster_config(
        "kubernetes",
        name="ai4geo-test",
        namespace="research",
        image="ai4geo/project:1",
        n_workers=2,
        resources=resources,
        gpus=1,
    )
    cluster = config["cluster"]
    assert cluster["name"] == "ai4geo-test"
    assert cluster["namespace"] == "research"
    spec = cluster["custom_cluster_spec"]
    assert spec["kind"] == "DaskCluster"
    worker = spec["spec"]["worker"]["spec"]["containers"][0]
    scheduler = spec["spec"]["scheduler"]["spec"]["containers"][0]
    assert spec["spec"]["worker"]["replicas"] == 2
    assert worker["image"] == scheduler["image"] == "ai4geo/project:1"
    assert worker["resources"]["limits"] == {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": 1}
    assert worker["args"][-2:] == ["--resources", "GPU=1"]
    assert scheduler["resources"] == {"limits": {"cpu": "2", "memory": "8Gi"}}
    assert resources == {"limits": {"cpu": "2", "memory": "8Gi"}}  # the caller's dict is untouched


def test_kubernetes_default_name_is_a_dns_label() -> None:
    name = compute.cluster_config("kubernetes")["cluster"]["name"]
    assert name.startswith("ai4geo-")
    assert all(char.isalnum() and char.islower() or char.isdigit() or char == "-" for char in name)


def test_scheduler_address_from_option_or_dask_config() -> None:
    assert (
        compute.cluster_config("scheduler", address="tcp://10.0.0.5:8786")["address"] == "tcp://10.0.0.5:8786"
    )
    with dask.config.set({"scheduler-address": "tcp://10.0.0.6:8786"}):
        assert compute.cluster_config("scheduler")["address"] == "tcp://10.0.0.6:8786"
    with dask.config.set({"scheduler-address": None}), pytest.raises(ConfigurationError, match="address"):
        compute.cluster_config("scheduler")


# --- optional packages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "module", "package", "options"),
    [
        ("slurm", "dask_jobqueue", "dask-jobqueue", {"cores": 1, "memory": "1GiB"}),
        ("pbs", "dask_jobqueue", "dask-jobqueue", {"cores": 1, "memory": "1GiB"}),
        ("gateway", "dask_gateway", "dask-gateway", {"address": "http://gw:8000"}),
        ("kubernetes", "dask_kubernetes.operator", "dask-kubernetes", {}),
    ],
)
def test_missing_backend_package_is_named(
    monkeypatch: pytest.MonkeyPatch, kind: str, module: str, package: str, options: dict
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ConfigurationError, match=package):
        factory = compute.get_factory(kind)
        factory.start(factory.build_config(options))


# --- GPU submission ---------------------------------------------------------------------------


class _RecordingClient:
    def __init__(self, resources: dict[str, float]) -> None:
        self.submitted: list[tuple] = []
        self._resources = resources

    def scheduler_info(self, n_workers: int = 5) -> dict:
        return {"workers": {"tcp://127.0.0.1:1": {"resources": self._resources}}}

    def submit(self, fn, *args, **kwargs):
        self.submitted.append((fn, args, kwargs))
        return "future"


def test_submit_gpu_asks_for_one_gpu_and_passes_arguments() -> None:
    client = _RecordingClient({"GPU": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compute.submit_gpu(client, max, 1, 2, key="k", resources={"MEMORY": 1}) == "future"
    fn, args, kwargs = client.submitted[0]
    assert fn is max and args == (1, 2)
    assert kwargs == {"key": "k", "resources": {"MEMORY": 1, "GPU": 1}}


def test_submit_gpu_warns_without_gpu_workers() -> None:
    client = _RecordingClient({})
    with pytest.warns(UserWarning, match="no worker"):
        compute.submit_gpu(client, max, 1, 2)
    assert client.submitted[0][2]["resources"] == {"GPU": 1}
