"""What a SageMaker endpoint runs: its deployment, the variants in it, and how they start.

:class:`Deployer` starts every production variant of an endpoint config: the model data
(``model.tar.gz`` or a prefix of plain files, plus any ``SAGEMAKER_SUBMIT_DIRECTORY`` code) is
fetched from sandbox S3 and unpacked (:func:`fetch_model`), a
:class:`~crosstrain.sandbox.core.workers.WorkerPool` running :mod:`.serving` loads it, and the
variant counts as started once its model answered a ping. A :class:`Deployment` holds the running
variants of one config, picks one per request by weight, and closes when retired and idle.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.sandbox.core.environment import worker_env
from crosstrain.sandbox.core.router import Router
from crosstrain.sandbox.core.telemetry import put_log_lines
from crosstrain.sandbox.core.workers import WorkerError, WorkerInitError, WorkerPool, WorkerSpec
from crosstrain.sandbox.services.sagemaker.common import (
    ApiError,
    ArtifactError,
    download,
    download_prefix,
    sagemaker_backend,
    unpack,
)

log = logging.getLogger("crosstrain.sandbox.sagemaker")

SERVING = Path(__file__).with_name("serving.py")
INIT_TIMEOUT = 120.0  # loading a model (importing torch alone takes a second or two)
# Single-thread math libraries: a 2-core laptop runs several workers at once.
_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# The model's execution role, carried with its container to the workers (not an AWS field).
ROLE = "crosstrain:ExecutionRoleArn"


MODEL_BUILDER_OBJECT = (
    "This model was packaged by ModelBuilder(model=...) (code/serve.pkl): it is served by the "
    "SageMaker SDK's own model server inside the container, which crosstrain's sandbox does not "
    "run. Save the model (joblib, TorchScript, or code/inference.py with model_fn) in a "
    "model.tar.gz and use ModelBuilder(s3_model_data_url=..., image_uri=...) or "
    "sagemaker-core Model.create; see docs/sandbox/sagemaker-sdk.md."
)


class DeployError(Exception):
    """A variant could not be started; the message is the endpoint's ``FailureReason``."""


@dataclass
class Variant:
    """One production variant: its weight and the warm workers serving its model."""

    name: str
    weight: float
    pool: WorkerPool
    folder: Path
    instances: int = 1  # the instance count AWS would report (workers are capped lower)
    streams: dict[str, str] = field(default_factory=dict)  # worker id -> log stream

    def stream(self, worker_id: str) -> str:
        if worker_id not in self.streams:
            self.streams[worker_id] = f"{self.name}/i-{uuid.uuid4().hex[:17]}"
        return self.streams[worker_id]


class Deployment:
    """The running variants of one endpoint config; closed once retired and idle."""

    def __init__(self, config_name: str, variants: list[Variant]):
        self.config_name = config_name
        self.variants = variants
        self._active = 0
        self._retired = False
        self._lock = threading.Lock()

    def pick(self, target: str | None) -> Variant:
        if target:
            for variant in self.variants:
                if variant.name == target:
                    return variant
            names = ", ".join(v.name for v in self.variants)
            raise ApiError(
                "ValidationError",
                f"Variant {target} not found in endpoint configuration {self.config_name} "
                f"(variants: {names}).",
            )
        weights = [max(0.0, v.weight) for v in self.variants]
        if not any(weights):
            raise ApiError("ValidationError", "Every production variant has weight 0.")
        return random.choices(self.variants, weights)[0]

    def enter(self) -> bool:
        """Count a request in; False when this deployment is already retired."""
        with self._lock:
            if self._retired:
                return False
            self._active += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._active -= 1
            done = self._retired and self._active == 0
        if done:
            self.close()

    def retire(self) -> None:
        """Close now if no request is in flight, else when the last one ends."""
        with self._lock:
            self._retired = True
            done = self._active == 0
        if done:
            self.close()

    def close(self) -> None:
        for variant in self.variants:
            variant.pool.close()
            shutil.rmtree(variant.folder, ignore_errors=True)


@dataclass
class Endpoint:
    account: str
    region: str
    name: str
    arn: str
    deployment: Deployment | None = None

    @property
    def log_group(self) -> str:
        return f"/aws/sagemaker/Endpoints/{self.name}"

    @property
    def stream_arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{self.log_group}"


def log_worker(router: Router, endpoint: Endpoint, variant: Variant, info) -> None:
    """Write what a worker printed (at start-up too, when cold) to the variant's log stream."""
    if info is None or not info.worker_id:
        return
    lines = []
    if info.cold:
        lines += info.init_output.splitlines()
    lines += info.output.splitlines()
    if any(line.strip() for line in lines):
        stream = variant.stream(info.worker_id)
        put_log_lines(router, endpoint.account, endpoint.region, endpoint.log_group, stream, lines)


def fetch_model(s3, container: dict, folder: Path) -> tuple[Path, Path]:
    """Download and unpack the model (and ``SAGEMAKER_SUBMIT_DIRECTORY`` code)."""
    model_dir = folder / "model"
    model_dir.mkdir()
    source = (container.get("ModelDataSource") or {}).get("S3DataSource") or {}
    url = container.get("ModelDataUrl") or source.get("S3Uri")
    if url and source.get("CompressionType") == "None":  # a prefix of plain files
        if download_prefix(s3, url, model_dir) == 0:
            raise ArtifactError(f"Could not find model data at {url}.")
    elif url:
        try:
            archive = download(s3, url, folder / "model.tar.gz")
        except ArtifactError:
            raise ArtifactError(f"Could not find model data at {url}.") from None
        try:
            unpack(archive, model_dir)
        except ArtifactError as exc:
            raise ArtifactError(
                f'Failed to extract model data archive from URL "{url}": {exc}. Please '
                "ensure that the object located at the URL is a valid tar.gz archive."
            ) from None
        archive.unlink()
    code_dir = model_dir / "code"
    if (code_dir / "serve.pkl").is_file():
        raise ArtifactError(MODEL_BUILDER_OBJECT)
    submit = (container.get("Environment") or {}).get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    if submit.startswith("s3://"):
        code_dir = folder / "code"
        try:
            unpack(download(s3, submit, folder / "sourcedir.tar.gz"), code_dir)
        except ArtifactError as exc:
            raise ArtifactError(f"SAGEMAKER_SUBMIT_DIRECTORY {submit}: {exc}") from None
    return model_dir, code_dir


class Deployer:
    """Starts the variants of endpoint configs, each in a folder under ``root``.

    ``s3`` gives the sandbox's S3 client (made on first use, shared with training jobs).
    """

    def __init__(self, router: Router, root: Path, s3: Callable[[], object]):
        self.router = router
        self.root = root
        self.s3 = s3

    def deploy(self, endpoint: Endpoint, config_name: str) -> tuple[Deployment | None, str]:
        """Start every variant of ``config_name``: ``(deployment, "")`` or ``(None, reason)``."""
        try:
            return self.start_variants(endpoint, config_name), ""
        except DeployError as exc:
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 - the endpoint fails, the sandbox goes on
            log.exception("deploying endpoint %s failed", endpoint.name)
            return None, f"InternalFailure: {type(exc).__name__}: {exc}"

    def start_variants(self, endpoint: Endpoint, config_name: str) -> Deployment:
        """Start and ping every variant, in parallel; raises :class:`DeployError`."""
        with self.router.moto_lock:
            backend = sagemaker_backend(endpoint.account, endpoint.region)
            config = backend.endpoint_configs.get(config_name)
            if config is None:
                raise DeployError(f"Could not find endpoint configuration '{config_name}'.")
            plans = []
            for settings in config.production_variants:
                model = backend._models.get(settings["ModelName"])
                if model is None:
                    raise DeployError(f"Could not find model '{settings['ModelName']}'.")
                container = model.primary_container or (model.containers or [{}])[0]
                role = {ROLE: getattr(model, "execution_role_arn", "") or ""}
                plans.append((dict(settings), {**dict(container or {}), **role}))
        with ThreadPoolExecutor(max(1, len(plans)), thread_name_prefix="sagemaker-variant") as ex:
            futures = [ex.submit(self.start_variant, endpoint, *plan) for plan in plans]
        variants, errors = [], []
        for future in futures:
            try:
                variants.append(future.result())
            except Exception as exc:  # noqa: BLE001 - reported below, once the others are closed
                errors.append(exc)
        if errors:
            Deployment(config_name, variants).close()
            raise errors[0]
        return Deployment(config_name, variants)

    def start_variant(self, endpoint: Endpoint, settings: dict, container: dict) -> Variant:
        """Fetch the variant's model, start its workers and wait for the model's ping."""
        name = settings["VariantName"]
        folder = Path(tempfile.mkdtemp(dir=self.root, prefix=f"{endpoint.name}-{name}-"))
        try:
            model_dir, code_dir = fetch_model(self.s3(), container, folder)
        except ArtifactError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise DeployError(str(exc)) from None
        spec = self.worker_spec(endpoint, container, model_dir, code_dir, folder)
        instances = int(settings.get("InitialInstanceCount") or 1)
        pool = WorkerPool(
            spec,
            max_workers=max(1, min(instances, self.router.settings["sagemaker_max_workers"])),
            idle_seconds=float("inf"),  # an endpoint's instances stay warm
            output_dir=folder,
            name=f"{endpoint.name}-{name}",
        )
        weight = settings.get("InitialVariantWeight")
        variant = Variant(name, 1.0 if weight is None else float(weight), pool, folder, instances)
        self.ping(endpoint, variant)
        return variant

    def worker_spec(
        self, endpoint: Endpoint, container: dict, model_dir: Path, code_dir: Path, folder: Path
    ) -> WorkerSpec:
        """How a worker runs :mod:`.serving` on the model, with the container's environment."""
        container_env = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(folder)),
            "LANG": "C.UTF-8",
            **_THREADS,
            **worker_env(
                self.router, container.get(ROLE), "sagemaker.amazonaws.com", endpoint.name
            ),
            "AWS_REGION": endpoint.region,
            "AWS_DEFAULT_REGION": endpoint.region,
            "SM_MODEL_DIR": str(model_dir),
            "SAGEMAKER_ENDPOINT_NAME": endpoint.name,
            **container_env,
        }
        return WorkerSpec(
            factory=f"{SERVING}:make",
            config={
                "model_dir": str(model_dir),
                "code_dir": str(code_dir),
                "program": container_env.get("SAGEMAKER_PROGRAM") or "inference.py",
            },
            env=env,
            cwd=str(model_dir),
            init_timeout=INIT_TIMEOUT,
        )

    def ping(self, endpoint: Endpoint, variant: Variant) -> None:
        """Load the model and ping it; on failure close the variant and raise DeployError."""
        try:
            result = variant.pool.call({"ping": True}, timeout=INIT_TIMEOUT)
        except WorkerError as exc:
            log_worker(self.router, endpoint, variant, exc.info)
            variant.pool.close()
            shutil.rmtree(variant.folder, ignore_errors=True)
            if isinstance(exc, WorkerInitError):
                error = exc.error
                why = f"{error.get('type', 'Error')}: {error.get('message', '')}"
            else:
                why = str(exc)
            raise DeployError(
                f"The primary container for production variant {variant.name} did not pass the "
                f"ping health check: {why}. Please check CloudWatch logs for this endpoint "
                f"({endpoint.log_group})."
            ) from None
        log_worker(self.router, endpoint, variant, result.info)


def apply_current(deployment, moto_endpoint, max_workers: int) -> None:
    """Give the running variants the weights and instance counts moto's endpoint reports (set by
    ``UpdateEndpointWeightsAndCapacities``, kept across restarts). Call with the moto lock."""
    ours = {variant.name: variant for variant in deployment.variants}
    for settings in moto_endpoint.production_variants:
        variant = ours.get(settings["VariantName"])
        if variant is None:
            continue
        if settings.get("CurrentWeight") is not None:
            variant.weight = float(settings["CurrentWeight"])
        if settings.get("CurrentInstanceCount"):
            variant.instances = int(settings["CurrentInstanceCount"])
            variant.pool.max_workers = min(variant.instances, max_workers)
        else:  # moto blanks the counts a weights-only change leaves out; AWS keeps them
            settings["CurrentInstanceCount"] = variant.instances
            settings["DesiredInstanceCount"] = variant.instances
