"""SageMaker for real: endpoints serve the model, training jobs run the script.

moto stores models, endpoint configs, endpoints and training jobs (control plane). This runtime
watches the calls moto answered and does the work behind them:

- ``CreateEndpoint``: every production variant's ``model.tar.gz`` is fetched from sandbox S3,
  unpacked, and loaded by a :class:`~crosstrain.sandbox.core.workers.WorkerPool` running
  :mod:`.serving` (the inference-toolkit conventions). The endpoint reads ``Creating``
  until the model answered a ping, then ``InService``, or ``Failed`` with a ``FailureReason``.
- ``InvokeEndpoint`` (sagemaker-runtime) is served here: a variant is picked by weight (or
  ``TargetVariant``), its worker runs the handlers, errors come back as ``ModelError``.
- ``UpdateEndpoint`` (which moto lacks) is blue/green: the new config's workers start and pass
  their ping while the old ones keep serving; then traffic switches and the old workers are
  retired once their last request ends. A failed update rolls back.
- Logs go to ``/aws/sagemaker/Endpoints/<name>`` (a stream per worker), metrics to
  ``AWS/SageMaker``. Training jobs are run by :mod:`.training`.

Instance types are ignored; each variant runs ``min(InitialInstanceCount, 2)`` worker processes.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.accounts import account_for
from crosstrain.sandbox.core.router import (
    Call,
    Handler,
    Router,
    Runtime,
    json_response,
    signing_scope,
)
from crosstrain.sandbox.core.telemetry import metric, put_log_lines, put_metrics
from crosstrain.sandbox.core.workers import (
    PoolClosed,
    WorkerDied,
    WorkerError,
    WorkerInitError,
    WorkerPool,
    WorkerSpec,
    WorkerTimeout,
)
from crosstrain.sandbox.services.sagemaker.common import (
    ApiError,
    ArtifactError,
    download,
    download_prefix,
    sagemaker_backend,
    unpack,
)
from crosstrain.sandbox.services.sagemaker.training import TrainingJobs

log = logging.getLogger("crosstrain.sandbox.sagemaker")

SERVING = Path(__file__).with_name("serving.py")
MAX_INSTANCES = int(os.environ.get("CROSSTRAIN_SAGEMAKER_MAX_WORKERS", "2"))
INIT_TIMEOUT = 120.0  # loading a model (importing torch alone takes a second or two)
INVOKE_TIMEOUT = 60.0  # AWS gives a model 60 s to answer
MAX_PAYLOAD = 6 * 1024 * 1024
_INVOKE = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations/?$")
# Single-thread math libraries: a 2-core laptop runs several workers at once.
_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _params(request: Request) -> dict:
    """The JSON body of a SageMaker API request (``{}`` when it is not JSON)."""
    try:
        params = json.loads(request.get_data() or b"{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


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


class SageMakerRuntime(Runtime):
    """Serves endpoints (InvokeEndpoint, UpdateEndpoint) and runs training jobs."""

    name = "sagemaker"

    def __init__(self, router: Router):
        super().__init__(router)
        self._root = Path(tempfile.mkdtemp(prefix="crosstrain-sagemaker-"))
        self._endpoints: dict[tuple[str, str, str], Endpoint] = {}
        self._lock = threading.Lock()  # never taken while holding the moto lock
        self._restoring = threading.Lock()
        self.training = TrainingJobs(router, self._root / "jobs")
        self.invocations = 0
        self._recover()

    # -- router hooks -------------------------------------------------------------------------
    def route(self, request: Request) -> Handler | None:
        if request.method != "POST":
            return None
        if _INVOKE.match(request.path) and signing_scope(request)[2] in (None, "sagemaker"):
            return self._invoke_route
        target = request.headers.get("X-Amz-Target", "")
        if target == "SageMaker.UpdateEndpoint":
            return self._update_route
        if target == "SageMaker.StopTrainingJob":
            return self._stop_training_route
        if target == "SageMaker.DeleteTrainingJob":
            return self._delete_training_route
        if target == "SageMaker.ListTrainingJobs":
            return self._list_training_route
        return None

    def permission(self, request: Request) -> tuple[str, str] | None:
        match = _INVOKE.match(request.path)
        if match is None:
            return super().permission(request)
        region = signing_scope(request)[1] or self.router.region
        arn = f"arn:aws:sagemaker:{region}:{account_for(request)}:endpoint/{match.group('name')}"
        return "InvokeEndpoint", arn.lower()

    def observe(self, call: Call) -> None:
        if call.service != "sagemaker":
            return
        account = account_for(call.request)
        region = signing_scope(call.request)[1] or self.router.region
        params = call.json()
        if call.action == "CreateEndpoint":
            self._create(account, region, params["EndpointName"])
        elif call.action == "DeleteEndpoint":
            self._delete(account, region, params["EndpointName"])
        elif call.action == "UpdateEndpointWeightsAndCapacities":
            self._reweigh(account, region, params["EndpointName"])
        elif call.action == "CreateTrainingJob":
            self.training.start(account, region, params)

    def health(self) -> dict:
        with self._lock:
            endpoints = {
                ep.name: {v.name: v.pool.stats() for v in ep.deployment.variants}
                for ep in self._endpoints.values()
                if ep.deployment is not None
            }
        return {
            "invocations": self.invocations,
            "endpoints": endpoints,
            "training": self.training.health(),
        }

    def reset(self) -> None:
        self._close_endpoints()
        self.training.reset()

    def close(self) -> None:
        self._close_endpoints()
        self.training.close()
        shutil.rmtree(self._root, ignore_errors=True)

    def worker_pids(self) -> list[int]:
        with self._lock:
            deployments = [ep.deployment for ep in self._endpoints.values() if ep.deployment]
        return [pid for d in deployments for v in d.variants for pid in v.pool.pids()]

    def _close_endpoints(self) -> None:
        with self._lock:
            endpoints = list(self._endpoints.values())
            self._endpoints.clear()
        for endpoint in endpoints:
            deployment, endpoint.deployment = endpoint.deployment, None
            if deployment is not None:
                deployment.close()

    def _recover(self) -> None:
        """After a restart with saved state: finish what the last sandbox process left half done.

        Endpoints that were ``Creating`` are deployed again; ``Updating`` ones keep their old
        config; ``InService`` ones start their workers on their first request (see
        :meth:`_lookup`). Training jobs that were running are failed (their script died).
        """
        if "sagemaker" not in self.router.services_used:  # nothing restored: skip the import
            return
        from crosstrain.sandbox.core.state import backend_regions

        creating = []
        with self.router.moto_lock:
            for account, regions in backend_regions("sagemaker").items():
                for region, backend in regions.items():
                    for name, moto_endpoint in backend.endpoints.items():
                        if moto_endpoint.endpoint_status == "Creating":
                            creating.append((account, region, name))
                        elif moto_endpoint.endpoint_status == "Updating":
                            moto_endpoint.endpoint_status = "InService"
                            moto_endpoint.failure_reason = (
                                "The update was interrupted by a sandbox restart; "
                                "call UpdateEndpoint again."
                            )
                    self.training.fail_orphans(backend)
        for account, region, name in creating:
            self._create(account, region, name)

    # -- endpoint lifecycle --------------------------------------------------------------------
    def _create(self, account: str, region: str, name: str) -> None:
        with self.router.moto_lock:
            moto_endpoint = sagemaker_backend(account, region).endpoints.get(name)
            if moto_endpoint is None:
                return
            moto_endpoint.endpoint_status = "Creating"
            config_name = moto_endpoint.endpoint_config_name
        endpoint = Endpoint(account, region, name, moto_endpoint.arn)
        with self._lock:
            old = self._endpoints.get((account, region, name))
            self._endpoints[(account, region, name)] = endpoint
        if old is not None and old.deployment is not None:
            deployment, old.deployment = old.deployment, None
            deployment.retire()
        threading.Thread(
            target=self._bring_up,
            args=(endpoint, moto_endpoint, config_name),
            name=f"sagemaker-deploy-{name}",
            daemon=True,
        ).start()

    def _bring_up(self, endpoint: Endpoint, moto_endpoint, config_name: str) -> None:
        """Deploy in the background; then ``InService`` or ``Failed`` with the reason."""
        deployment, reason = self._deploy(endpoint, config_name)
        with self.router.moto_lock:
            backend = sagemaker_backend(endpoint.account, endpoint.region)
            current = backend.endpoints.get(endpoint.name) is moto_endpoint
            if current:
                moto_endpoint.endpoint_status = "InService" if deployment else "Failed"
                moto_endpoint.failure_reason = reason or None
                endpoint.deployment = deployment
        self.router.mark_dirty({"sagemaker"})
        if deployment is not None and not current:  # deleted while it was starting
            deployment.retire()

    def _delete(self, account: str, region: str, name: str) -> None:
        with self._lock:
            endpoint = self._endpoints.pop((account, region, name), None)
        if endpoint is not None and endpoint.deployment is not None:
            deployment, endpoint.deployment = endpoint.deployment, None
            deployment.retire()

    def _reweigh(self, account: str, region: str, name: str) -> None:
        with self._lock:
            endpoint = self._endpoints.get((account, region, name))
        if endpoint is None or endpoint.deployment is None:
            return
        ours = {variant.name: variant for variant in endpoint.deployment.variants}
        with self.router.moto_lock:
            moto_endpoint = sagemaker_backend(account, region).endpoints.get(name)
            for settings in moto_endpoint.production_variants:
                variant = ours.get(settings["VariantName"])
                if variant is None:
                    continue
                if settings.get("CurrentWeight") is not None:
                    variant.weight = float(settings["CurrentWeight"])
                if settings.get("CurrentInstanceCount"):
                    variant.instances = int(settings["CurrentInstanceCount"])
                    variant.pool.max_workers = min(variant.instances, MAX_INSTANCES)
                else:  # moto blanks the counts a weights-only change leaves out; AWS keeps them
                    settings["CurrentInstanceCount"] = variant.instances
                    settings["DesiredInstanceCount"] = variant.instances

    def _lookup(self, account: str, region: str, name: str) -> Endpoint | None:
        """The endpoint, deploying it now if moto has it but we do not (after a restart)."""
        key = (account, region, name)
        with self._lock:
            endpoint = self._endpoints.get(key)
        if endpoint is not None:
            return endpoint
        with self._restoring:  # one restore at a time; others wait for it, then find it
            with self._lock:
                endpoint = self._endpoints.get(key)
            if endpoint is not None:
                return endpoint
            with self.router.moto_lock:
                moto_endpoint = sagemaker_backend(account, region).endpoints.get(name)
                if moto_endpoint is None:
                    return None
                status = moto_endpoint.endpoint_status
                config_name = moto_endpoint.endpoint_config_name
            endpoint = Endpoint(account, region, name, moto_endpoint.arn)
            if status != "Failed":
                self._bring_up(endpoint, moto_endpoint, config_name)
            with self._lock:
                return self._endpoints.setdefault(key, endpoint)

    # -- deploying -----------------------------------------------------------------------------
    def _deploy(self, endpoint: Endpoint, config_name: str) -> tuple[Deployment | None, str]:
        """Start every variant of ``config_name``: ``(deployment, "")`` or ``(None, reason)``."""
        try:
            return self._start_variants(endpoint, config_name), ""
        except DeployError as exc:
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 - the endpoint fails, the sandbox goes on
            log.exception("deploying endpoint %s failed", endpoint.name)
            return None, f"InternalFailure: {type(exc).__name__}: {exc}"

    def _start_variants(self, endpoint: Endpoint, config_name: str) -> Deployment:
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
                plans.append((dict(settings), dict(container or {})))
        with ThreadPoolExecutor(max(1, len(plans)), thread_name_prefix="sagemaker-variant") as ex:
            futures = [ex.submit(self._start_variant, endpoint, *plan) for plan in plans]
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

    def _start_variant(self, endpoint: Endpoint, settings: dict, container: dict) -> Variant:
        name = settings["VariantName"]
        folder = Path(tempfile.mkdtemp(dir=self._root, prefix=f"{endpoint.name}-{name}-"))
        try:
            model_dir, code_dir = self._fetch(container, folder)
        except ArtifactError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise DeployError(str(exc)) from None
        container_env = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(folder)),
            "LANG": "C.UTF-8",
            **_THREADS,
            "AWS_ENDPOINT_URL": self.router.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.router.admin_access_key,
            "AWS_SECRET_ACCESS_KEY": self.router.admin_access_key,
            "AWS_REGION": endpoint.region,
            "AWS_DEFAULT_REGION": endpoint.region,
            "SM_MODEL_DIR": str(model_dir),
            "SAGEMAKER_ENDPOINT_NAME": endpoint.name,
            **container_env,
        }
        spec = WorkerSpec(
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
        instances = int(settings.get("InitialInstanceCount") or 1)
        pool = WorkerPool(
            spec,
            max_workers=max(1, min(instances, MAX_INSTANCES)),
            idle_seconds=float("inf"),  # an endpoint's instances stay warm
            output_dir=folder,
            name=f"{endpoint.name}-{name}",
        )
        weight = settings.get("InitialVariantWeight")
        variant = Variant(name, 1.0 if weight is None else float(weight), pool, folder, instances)
        try:
            result = pool.call({"ping": True}, timeout=INIT_TIMEOUT)
        except WorkerError as exc:
            self._log_worker(endpoint, variant, exc.info)
            pool.close()
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, WorkerInitError):
                error = exc.error
                why = f"{error.get('type', 'Error')}: {error.get('message', '')}"
            else:
                why = str(exc)
            raise DeployError(
                f"The primary container for production variant {name} did not pass the ping "
                f"health check: {why}. Please check CloudWatch logs for this endpoint "
                f"({endpoint.log_group})."
            ) from None
        self._log_worker(endpoint, variant, result.info)
        return variant

    def _fetch(self, container: dict, folder: Path) -> tuple[Path, Path]:
        """Download and unpack the model (and ``SAGEMAKER_SUBMIT_DIRECTORY`` code)."""
        s3 = self.training.s3()
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
        submit = (container.get("Environment") or {}).get("SAGEMAKER_SUBMIT_DIRECTORY", "")
        if submit.startswith("s3://"):
            code_dir = folder / "code"
            try:
                unpack(download(s3, submit, folder / "sourcedir.tar.gz"), code_dir)
            except ArtifactError as exc:
                raise ArtifactError(f"SAGEMAKER_SUBMIT_DIRECTORY {submit}: {exc}") from None
        return model_dir, code_dir

    # -- InvokeEndpoint ------------------------------------------------------------------------
    def _invoke_route(self, request: Request) -> Response:
        began = time.perf_counter()
        name = _INVOKE.match(request.path).group("name")
        account = account_for(request)
        region = signing_scope(request)[1] or self.router.region
        try:
            body = request.get_data()
            if len(body) > MAX_PAYLOAD:
                raise ApiError("ValidationError", "Request payload is larger than 6 MB.", 413)
            endpoint = self._lookup(account, region, name)
            deployment = self._enter(endpoint)
            if endpoint is None or deployment is None:
                raise ApiError(
                    "ValidationError", f"Endpoint {name} of account {account} not found."
                )
            try:
                variant = deployment.pick(request.headers.get("X-Amzn-SageMaker-Target-Variant"))
                return self._invoke(endpoint, variant, request, body, began)
            finally:
                deployment.leave()
        except ApiError as exc:
            return exc.response()

    @staticmethod
    def _enter(endpoint: Endpoint | None) -> Deployment | None:
        """The deployment serving ``endpoint`` now, counted in (it may switch meanwhile)."""
        while endpoint is not None:
            deployment = endpoint.deployment
            if deployment is None:
                return None
            if deployment.enter():
                return deployment
            if endpoint.deployment is deployment:  # retired and not replaced: deleted
                return None
        return None

    def _invoke(
        self, endpoint: Endpoint, variant: Variant, request: Request, body: bytes, began: float
    ) -> Response:
        header = {
            "content_type": request.headers.get("Content-Type", ""),
            "accept": request.headers.get("Accept", ""),
        }
        with self._lock:
            self.invocations += 1
        status, message, info = 200, "", None
        try:
            result = variant.pool.call(header, body, timeout=INVOKE_TIMEOUT)
            info = result.info
            if not result.ok:
                status = 500
                message = f"{result.error.get('type')}: {result.error.get('message')}"
            elif "status" in result.header:
                status, message = int(result.header["status"]), result.header.get("message", "")
        except PoolClosed:
            raise ApiError(
                "ValidationError", f"Endpoint {endpoint.name} of account {endpoint.account} "
                "not found.",
            ) from None  # fmt: skip
        except WorkerTimeout as exc:
            info, status = exc.info, 0
            message = (
                "Your invocation timed out while waiting for a response from container primary."
            )
        except WorkerDied as exc:
            info, status = exc.info, 500
            message = f"The model server exited ({exc.exit_status}); it restarts on the next call."
        except WorkerInitError as exc:
            info, status = exc.info, 500
            message = f"The model failed to load: {exc}"
        model_ms = info.duration * 1000 if info else 0.0
        self._log_worker(endpoint, variant, info)
        total_ms = (time.perf_counter() - began) * 1000
        self._metrics(endpoint, variant, status, model_ms, max(0.0, total_ms - model_ms))
        if status == 200:
            headers = {
                "x-Amzn-Invoked-Production-Variant": variant.name,
                "x-amzn-RequestId": str(uuid.uuid4()),
            }
            content_type = result.header.get("content_type") or "application/json"
            return Response(result.body, 200, headers=headers, content_type=content_type)
        return self._model_error(endpoint, status, message)

    def _model_error(self, endpoint: Endpoint, status: int, message: str) -> Response:
        region, account = endpoint.region, endpoint.account
        console = (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logEventViewer:group={endpoint.log_group}"
        )
        if status == 0:
            text = f"{message} See {console} in account {account} for more information."
        else:
            kind = "client" if 400 <= status < 500 else "server"
            text = (
                f'Received {kind} error ({status}) from primary with message "{message}". '
                f"See {console} in account {account} for more information."
            )
        extra = {"LogStreamArn": endpoint.stream_arn, "OriginalMessage": message}
        if status:
            extra["OriginalStatusCode"] = status
        return ApiError("ModelError", text, 424, **extra).response()

    # -- UpdateEndpoint ------------------------------------------------------------------------
    def _update_route(self, request: Request) -> Response:
        params = _params(request)
        name, config_name = params.get("EndpointName", ""), params.get("EndpointConfigName", "")
        account = account_for(request)
        region = signing_scope(request)[1] or self.router.region
        try:
            endpoint = self._lookup(account, region, name)
            with self.router.moto_lock:
                backend = sagemaker_backend(account, region)
                moto_endpoint = backend.endpoints.get(name)
                if endpoint is None or moto_endpoint is None:
                    arn = f"arn:aws:sagemaker:{region}:{account}:endpoint/{name.lower()}"
                    raise ApiError("ValidationException", f'Could not find endpoint "{arn}".')
                if config_name not in backend.endpoint_configs:
                    arn = f"arn:aws:sagemaker:{region}:{account}:endpoint-config/{config_name}"
                    raise ApiError(
                        "ValidationException", f'Could not find endpoint configuration "{arn}".'
                    )
                if moto_endpoint.endpoint_status != "InService" or endpoint.deployment is None:
                    raise ApiError(
                        "ValidationException",
                        f'Cannot update in-progress endpoint "{moto_endpoint.arn}".'
                        if moto_endpoint.endpoint_status != "Failed"
                        else f'Cannot update failed endpoint "{moto_endpoint.arn}".',
                    )
                moto_endpoint.endpoint_status = "Updating"
        except ApiError as exc:
            return exc.response()
        self.router.mark_dirty({"sagemaker"})
        threading.Thread(
            target=self._switch,
            args=(endpoint, moto_endpoint, config_name),
            name=f"sagemaker-update-{name}",
            daemon=True,
        ).start()
        return json_response({"EndpointArn": moto_endpoint.arn})

    def _switch(self, endpoint: Endpoint, moto_endpoint, config_name: str) -> None:
        """Blue/green: start the new variants, switch traffic, retire the old ones."""
        from moto.core.utils import utcnow

        deployment, reason = self._deploy(endpoint, config_name)
        with self.router.moto_lock:
            backend = sagemaker_backend(endpoint.account, endpoint.region)
            current = backend.endpoints.get(endpoint.name) is moto_endpoint
            old = endpoint.deployment
            if current and deployment is not None:
                variants = backend.endpoint_configs[config_name].production_variants
                moto_endpoint.production_variants = moto_endpoint._process_production_variants(
                    variants
                )
                moto_endpoint.endpoint_config_name = config_name
                moto_endpoint.failure_reason = None
                endpoint.deployment = deployment
            elif current:
                moto_endpoint.failure_reason = f"Update to {config_name} rolled back: {reason}"
            if current:
                moto_endpoint.endpoint_status = "InService"
                moto_endpoint.last_modified_time = utcnow()
        self.router.mark_dirty({"sagemaker"})
        if deployment is None:
            return
        if current and old is not None:
            old.retire()
        elif not current:
            deployment.retire()

    # -- StopTrainingJob, DeleteTrainingJob, ListTrainingJobs ----------------------------------
    def _training_call(self, request: Request, action) -> Response:
        account = account_for(request)
        region = signing_scope(request)[1] or self.router.region
        try:
            return json_response(action(account, region, _params(request)) or {})
        except ApiError as exc:
            return exc.response()

    def _stop_training_route(self, request: Request) -> Response:
        return self._training_call(
            request, lambda a, r, p: self.training.stop(a, r, p.get("TrainingJobName", ""))
        )

    def _delete_training_route(self, request: Request) -> Response:
        return self._training_call(
            request, lambda a, r, p: self.training.delete(a, r, p.get("TrainingJobName", ""))
        )

    def _list_training_route(self, request: Request) -> Response:
        checked = self.router.forward(request)  # moto validates (and IAM decides) first
        if checked.status_code >= 400:
            return checked
        return self._training_call(request, self.training.list)

    # -- logs and metrics ----------------------------------------------------------------------
    def _log_worker(self, endpoint: Endpoint, variant: Variant, info) -> None:
        if info is None or not info.worker_id:
            return
        lines = []
        if info.cold:
            lines += info.init_output.splitlines()
        lines += info.output.splitlines()
        if any(line.strip() for line in lines):
            stream = variant.stream(info.worker_id)
            put_log_lines(
                self.router, endpoint.account, endpoint.region, endpoint.log_group, stream, lines
            )

    def _metrics(
        self, endpoint: Endpoint, variant: Variant, status: int, model_ms: float, over_ms: float
    ) -> None:
        dims = {"EndpointName": endpoint.name, "VariantName": variant.name}
        data = [
            metric("Invocations", 1, "Count", dims),
            metric("Invocation4XXErrors", 1 if 400 <= status < 500 else 0, "Count", dims),
            metric("Invocation5XXErrors", 1 if status >= 500 or status == 0 else 0, "Count", dims),
            metric("ModelLatency", round(model_ms * 1000), "Microseconds", dims),
            metric("OverheadLatency", round(over_ms * 1000), "Microseconds", dims),
        ]
        put_metrics(self.router, endpoint.account, endpoint.region, "AWS/SageMaker", data)
