"""The web application: the JSON API the lab pages call, then the built site, from one origin.

Routes (documented in ``docs/reference/web-api.md``)::

    GET  /api/labs                          every lab's manifest and progress
    GET  /api/progress                      progress per lab and the latest result per step
    POST /api/labs/{lab}/start              copy the starter kit into the workspace
    POST /api/labs/{lab}/check              run every check of a lab
    POST /api/labs/{lab}/steps/{step}/check run the checks of one step
    POST /api/labs/{lab}/steps/{step}/skip  run the reference solves up to a step
    POST /api/labs/{lab}/reset              remove the lab's resources, restore its starter
    GET  /api/sandbox                       where the sandbox runs (and JupyterLab, if started)

State-changing requests from another origin are refused with 403; requests whose ``Host`` is
not one of ``allowed_hosts`` with 400 (DNS rebinding). Checks, skips and resets run one at a time.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from crosstrain.errors import CrosstrainError
from crosstrain.labs import progress
from crosstrain.labs.catalog import Lab, lab_slugs, unknown
from crosstrain.labs.workspace import lab_workspace, start_workspace, workspace_root

if TYPE_CHECKING:
    from crosstrain.sandbox import Sandbox

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOC = re.compile(r"<loc>https?://[^/<]+/")
log = logging.getLogger("crosstrain.web")


class ApiError(Exception):
    """An error answered as ``{"error": message, ...}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.extra = extra


@dataclass
class Web:
    """What the API works on: the content, the learner's workspace and the sandbox."""

    content: Path
    workspace: Path
    sandbox: Callable[[], Sandbox]
    jupyter: dict | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lookups -------------------------------------------------------------------------------
    def lab(self, name: str) -> Lab:
        slugs = lab_slugs(self.content)
        if name not in slugs:
            raise ApiError(404, unknown("lab", name, slugs))
        return Lab(self.content, name)

    def step(self, lab: Lab, step: str) -> str:
        if step not in lab.manifest.step_ids:
            raise ApiError(404, unknown("step", step, lab.manifest.step_ids, f"in lab {lab.slug}"))
        return step

    def lab_dir(self, lab: Lab) -> Path:
        """The lab's workspace, created from the starter kit the first time (never overwrites)."""
        path = lab_workspace(lab, self.workspace)
        if not path.is_dir():
            start_workspace(lab, self.workspace)
        return path

    def connect(self) -> Sandbox:
        """The sandbox, which must answer (503 otherwise, rather than every check crashing)."""
        try:
            sb = self.sandbox()
        except CrosstrainError as err:
            raise ApiError(503, str(err)) from None
        if sb.kind == "embedded" and not sb.alive():
            raise ApiError(
                503, f"no sandbox answers at {sb.endpoint_url}; stop and rerun `crosstrain up`"
            )
        return sb

    # -- reads ---------------------------------------------------------------------------------
    def progress(self, lab: Lab) -> dict:
        steps = {step.id: step.points for step in lab.manifest.steps}
        return progress.lab_progress(self.workspace, lab.slug, steps)

    def step_results(self, lab: Lab) -> dict:
        """The latest result per step: status, points, and when (from each check's last run)."""
        rows: dict[str, list[dict]] = {}
        for (name, _), row in progress.latest(self.workspace).items():
            if name == lab.slug:
                rows.setdefault(row["step"], []).append(row)
        results = {}
        for step in lab.manifest.steps:
            mine = rows.get(step.id)
            if not mine:
                continue
            statuses = {row["status"] for row in mine}
            results[step.id] = {
                "status": next(
                    (s for s in ("error", "failed", "skipped") if s in statuses), "passed"
                ),
                "points": sum(row["points"] for row in mine),
                "max_points": step.points,
                "time": max(row["time"] for row in mine),
            }
        return results

    def labs(self) -> dict:
        labs = []
        for slug in lab_slugs(self.content):
            lab = Lab(self.content, slug)
            info = lab.manifest.model_dump(exclude={"submission"})
            url = f"/labs/{slug}/" if lab.doc_page.is_file() else None
            points = lab.manifest.points
            labs.append({**info, "points": points, "url": url, "progress": self.progress(lab)})
        return {"labs": labs}

    def all_progress(self) -> dict:
        labs = {}
        for slug in lab_slugs(self.content):
            lab = Lab(self.content, slug)
            labs[slug] = {**self.progress(lab), "step_results": self.step_results(lab)}
        return {"workspace": str(self.workspace), "labs": labs}

    def sandbox_info(self) -> dict:
        try:
            sb = self.sandbox()
        except CrosstrainError as err:
            return {"running": False, "error": str(err), "jupyter": self.jupyter}
        running = sb.alive() if sb.kind == "embedded" else True
        info = {"running": running, "endpoint": sb.endpoint_url, "kind": sb.kind}
        if not running:
            info["error"] = f"no sandbox answers at {sb.endpoint_url}; restart `crosstrain up`"
        return {**info, "jupyter": self.jupyter}

    # -- actions (the lab engine's own functions, as `crosstrain lab ...` runs them) -------------
    def start(self, name: str) -> dict:
        """Copy the lab's starter kit into its workspace (files already there are kept)."""
        lab = self.lab(name)
        with self.lock:
            done = start_workspace(lab, self.workspace)
        return {"lab": lab.slug, "workspace": str(done.workspace), "copied": done.copied}

    def check(self, name: str, step: str | None = None) -> dict:
        from crosstrain.labs.runner import check_lab

        lab = self.lab(name)
        if step is not None:
            self.step(lab, step)
        with self.lock:
            self.lab_dir(lab)
            report = check_lab(lab.slug, step, root=self.workspace, sandbox=self.connect())
        return {**report.as_dict(), "progress": self.progress(lab)}

    def skip(self, name: str, step: str, replace_changed: bool) -> dict:
        from crosstrain.labs.solves import skip_lab

        lab = self.lab(name)
        self.step(lab, step)
        asked: list[str] = []

        def confirm(files: list[str]) -> bool:
            asked.extend(files)
            return replace_changed

        with self.lock:
            self.lab_dir(lab)
            try:
                done = skip_lab(lab.slug, step, self.workspace, confirm, self.connect())
            except CrosstrainError as err:
                if asked and not replace_changed:
                    raise ApiError(
                        409,
                        f"skipping would replace your changes to {', '.join(asked)}; confirm to "
                        "replace them (they are backed up first)",
                        changed=asked,
                    ) from None
                raise ApiError(400, str(err)) from None
        backup = str(done.backup) if done.backup else None
        return {"lab": lab.slug, "skipped": done.steps, "changed": done.changed, "backup": backup}

    def reset(self, name: str) -> dict:
        """Remove the lab's resources and restore its starter (the checks then run once)."""
        from crosstrain.labs.solves import reset_lab

        lab = self.lab(name)
        with self.lock:
            saved = reset_lab(lab.slug, root=self.workspace, sandbox=self.connect())
        backup = str(saved) if saved else None
        return {"lab": lab.slug, "backup": backup, "progress": self.progress(lab)}


def cross_origin(request: Request) -> str | None:
    """Why ``request`` comes from another origin (so must not change state), or ``None``."""
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site is {site}"
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin != own:
        return f"Origin {origin} is not {own}"
    return None


def endpoint(work: Callable[[Web, Request, dict], dict]):
    """Wrap ``work(web, request, body)`` as a route: origin check, threadpool, JSON errors."""

    async def route(request: Request) -> JSONResponse:
        if request.method not in SAFE_METHODS:
            why = cross_origin(request)
            if why:
                message = f"cross-origin request refused ({why}); use the site's own pages"
                return JSONResponse({"error": message}, status_code=403)
        body = await json_body(request) if request.method == "POST" else {}
        if isinstance(body, JSONResponse):
            return body
        web = request.app.state.web
        try:
            return JSONResponse(await run_in_threadpool(work, web, request, body))
        except ApiError as err:
            return JSONResponse({"error": str(err), **err.extra}, status_code=err.status)
        except CrosstrainError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        except Exception as err:  # noqa: BLE001 - a bug: said as one, with the traceback logged
            log.exception("%s %s failed", request.method, request.url.path)
            message = (
                f"the local server failed ({type(err).__name__}: {err}); the terminal running "
                "`crosstrain up` shows the details"
            )
            return JSONResponse({"error": message, "server_error": True}, status_code=500)

    return route


async def json_body(request: Request):
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"error": "the body must be a JSON object, e.g. {}"}, status_code=400)
    return body


async def sitemap(request: Request) -> Response:
    """The site's sitemap with this server's own origin in every URL.

    Material's instant navigation only follows links the sitemap lists on the page's origin; the
    built sitemap names ``site_url`` (port 8000), so any other port would fall back to full loads.
    """
    path = Path(request.app.state.site_dir) / "sitemap.xml"
    if not path.is_file():
        return Response("not found", status_code=404)
    base = str(request.base_url)
    text = LOC.sub(lambda m: f"<loc>{base}", path.read_text())
    return Response(text, media_type="application/xml")


def params(request: Request) -> tuple[str, str]:
    return request.path_params["lab"], request.path_params.get("step")


ROUTES = [
    Route("/api/labs", endpoint(lambda web, req, body: web.labs())),
    Route("/api/progress", endpoint(lambda web, req, body: web.all_progress())),
    Route("/api/sandbox", endpoint(lambda web, req, body: web.sandbox_info())),
    Route(
        "/api/labs/{lab}/start",
        endpoint(lambda web, req, body: web.start(params(req)[0])),
        methods=["POST"],
    ),
    Route(
        "/api/labs/{lab}/check",
        endpoint(lambda web, req, body: web.check(params(req)[0])),
        methods=["POST"],
    ),
    Route(
        "/api/labs/{lab}/steps/{step}/check",
        endpoint(lambda web, req, body: web.check(*params(req))),
        methods=["POST"],
    ),
    Route(
        "/api/labs/{lab}/steps/{step}/skip",
        endpoint(lambda web, req, body: web.skip(*params(req), bool(body.get("replace_changed")))),
        methods=["POST"],
    ),
    Route(
        "/api/labs/{lab}/reset",
        endpoint(lambda web, req, body: web.reset(params(req)[0])),
        methods=["POST"],
    ),
]


def create_app(
    site_dir: str | Path,
    sandbox: Sandbox | Callable[[], Sandbox],
    *,
    workspace: str | Path | None = None,
    jupyter: dict | None = None,
    allowed_hosts: list[str] | tuple[str, ...] = LOCAL_HOSTS,
) -> Starlette:
    """The API routes, then the built site at ``/`` (``index.html`` for folders).

    Labs come from the content root (``CROSSTRAIN_CONTENT_DIR`` or the checkout); the learner's
    work from ``workspace`` (default ``CROSSTRAIN_WORKSPACE`` or ``./workspace``).
    """
    from crosstrain.labs.catalog import content_root

    get_sandbox = sandbox if callable(sandbox) else (lambda: sandbox)
    web = Web(
        content=content_root(),
        workspace=workspace_root(workspace),
        sandbox=get_sandbox,
        jupyter=jupyter,
    )
    site = StaticFiles(directory=site_dir, html=True)
    routes = [*ROUTES, Route("/sitemap.xml", sitemap), Mount("/", site, name="site")]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.web = web
    app.state.site_dir = str(site_dir)
    return app
