"""SageMaker for real: endpoints serve the model, training jobs run the script.

moto stores models, endpoint configs, endpoints and training jobs (control plane). This runtime
watches the calls moto answered and does the work behind them:

- ``CreateEndpoint``: every production variant's ``model.tar.gz`` is fetched from sandbox S3,
  unpacked, and loaded by a :class:`~crosstrain.sandbox.core.workers.WorkerPool` running
  :mod:`.serving` (the inference-toolkit conventions); :mod:`.deployments` starts them. The
  endpoint reads ``Creating`` until the model answered a ping, then ``InService``, or ``Failed``
  with a ``FailureReason``.
- ``InvokeEndpoint`` (sagemaker-runtime) is routed here and served by :mod:`.invocations`: a
  variant is picked by weight (or ``TargetVariant``), its worker runs the handlers, errors come
  back as ``ModelError``.
- ``UpdateEndpoint`` (which moto lacks) is blue/green: the new config's workers start and pass
  their ping while the old ones keep serving; then traffic switches and the old workers are
  retired once their last request ends. A failed update rolls back.
- Logs go to ``/aws/sagemaker/Endpoints/<name>`` (a stream per worker), metrics to
  ``AWS/SageMaker``. Training jobs are run by :mod:`.training`.

Instance types are ignored; each variant runs ``min(InitialInstanceCount, 2)`` worker processes.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import time
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
from crosstrain.sandbox.services.sagemaker import replies
from crosstrain.sandbox.services.sagemaker.common import ApiError, sagemaker_backend
from crosstrain.sandbox.services.sagemaker.deployments import Deployer, Endpoint, apply_current
from crosstrain.sandbox.services.sagemaker.invocations import MAX_PAYLOAD, enter_deployment, invoke
from crosstrain.sandbox.services.sagemaker.training import TrainingJobs

_INVOKE = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations/?$")


def _params(request: Request) -> dict:
    """The JSON body of a SageMaker API request (``{}`` when it is not JSON)."""
    try:
        params = json.loads(request.get_data() or b"{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


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
        self.deployer = Deployer(router, self._root, self.training.s3)
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
        if replies.wanted(request):
            return self._read_route
        return None

    def permission(self, request: Request) -> tuple[str, str] | None:
        if replies.wanted(request) and "ListTrainingJobs" not in request.headers["X-Amz-Target"]:
            return None  # moto decides, as for any call it answers
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
        deployment, reason = self.deployer.deploy(endpoint, config_name)
        with self.router.moto_lock:
            backend = sagemaker_backend(endpoint.account, endpoint.region)
            current = backend.endpoints.get(endpoint.name) is moto_endpoint
            if current and deployment is not None:  # weights the learner set since (restart)
                apply_current(
                    deployment, moto_endpoint, self.router.settings["sagemaker_max_workers"]
                )
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
        with self.router.moto_lock:
            moto_endpoint = sagemaker_backend(account, region).endpoints.get(name)
            if moto_endpoint is not None:
                apply_current(
                    endpoint.deployment,
                    moto_endpoint,
                    self.router.settings["sagemaker_max_workers"],
                )

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
            deployment = enter_deployment(endpoint)
            if endpoint is None or deployment is None:
                raise ApiError(
                    "ValidationError", f"Endpoint {name} of account {account} not found."
                )
            try:
                variant = deployment.pick(request.headers.get("X-Amzn-SageMaker-Target-Variant"))
                with self._lock:
                    self.invocations += 1
                return invoke(self.router, endpoint, variant, request, body, began)
            finally:
                deployment.leave()
        except ApiError as exc:
            return exc.response()

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

        deployment, reason = self.deployer.deploy(endpoint, config_name)
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

    def _read_route(self, request: Request) -> Response:
        """moto's answer to a Describe*/List* call without the ``{}`` AWS leaves out."""
        return replies.tidied(self.router.forward(request))
