"""A SageMaker model server inside a worker process (the inference-toolkit conventions).

Loaded by file path (not as ``crosstrain...``) so a worker does not import crosstrain; standard
library at import time, numpy / joblib / torch only when a default handler needs them.
:func:`make` is the worker factory (see ``sandbox/workers.py``): it loads the model once with
``model_fn`` and returns ``serve(header, body)``, which runs ``input_fn`` -> ``predict_fn`` ->
``output_fn`` (or ``transform_fn``) per request.

User handlers come from ``code/<program>`` (default ``inference.py``) in the model folder; any
handler it lacks falls back to the defaults: scikit-learn via joblib (``model.joblib`` /
``model.pkl``), a TorchScript model (``model.pt`` / ``model.pth``) or an XGBoost booster
(``xgboost-model``, ``model.json``, ``model.ubj``, ``model.xgb``), with ``application/json``,
``text/csv`` and ``application/x-npy`` in and out. A handler error answers
``{"status": <code>, "message": ...}`` after printing its traceback to the endpoint's log.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import os
import sys
import traceback
from pathlib import Path

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
TEXT_TYPES = (JSON, CSV)  # handed to input_fn as str, like the scikit-learn container does
SKLEARN_FILES = ("model.joblib", "model.pkl")
TORCH_FILES = ("model.pt", "model.pth")
# The XGBoost container's file name and XGBoost's own formats (Booster.save_model).
XGBOOST_FILES = ("xgboost-model", "model.json", "model.ubj", "model.xgb")


class HandlerError(Exception):
    """An error with an HTTP status, as the inference toolkit raises (e.g. 415 for a format)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code


# -- default handlers --------------------------------------------------------------------------
def _framework(model_dir: Path) -> str | None:
    if any((model_dir / name).is_file() for name in SKLEARN_FILES):
        return "sklearn"
    if any((model_dir / name).is_file() for name in TORCH_FILES):
        return "pytorch"
    if any((model_dir / name).is_file() for name in XGBOOST_FILES):
        return "xgboost"
    return None


def default_model_fn(model_dir: str):
    folder = Path(model_dir)
    for name in SKLEARN_FILES:
        if (folder / name).is_file():
            import joblib

            return joblib.load(folder / name)
    for name in TORCH_FILES:
        if (folder / name).is_file():
            import torch

            return torch.jit.load(str(folder / name), map_location="cpu")
    for name in XGBOOST_FILES:
        if (folder / name).is_file():
            import xgboost

            booster = xgboost.Booster()
            booster.load_model(str(folder / name))
            return booster
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    hint = ""
    if len(found) == 1 and (folder / found[0]).is_dir():
        hint = f" (pack the files inside {found[0]}/, not the folder: tar -C {found[0]} -czf ...)"
    raise FileNotFoundError(
        "no model to load: expected model.joblib, model.pkl, model.pt (TorchScript) or an "
        "XGBoost model (xgboost-model, model.json, model.ubj) at the "
        f"root of model.tar.gz, or code/inference.py with a model_fn; the archive holds "
        f"{found}{hint}"
    )


def decode(data, content_type: str):
    """Bytes or text of ``content_type`` -> a numpy array (the toolkit's decoder)."""
    import numpy as np

    if content_type == JSON:
        return np.array(json.loads(data))
    if content_type == CSV:
        text = data.decode() if isinstance(data, bytes | bytearray) else data
        return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=1)
    if content_type == NPY:
        return np.load(io.BytesIO(data), allow_pickle=False)
    raise HandlerError(415, f"Content type {content_type} is not supported by this framework.")


def _plain(value):
    """numpy arrays and scalars, torch tensors: as JSON sees them (``json.dumps`` default)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode(prediction, accept: str):
    """A prediction -> bytes in the ``accept`` format (the toolkit's encoder)."""
    import numpy as np

    if hasattr(prediction, "detach"):  # a torch tensor
        prediction = prediction.detach().cpu().numpy()
    if accept == JSON:
        value = prediction.tolist() if hasattr(prediction, "tolist") else prediction
        return json.dumps(value)
    if accept == CSV:
        array = np.asarray(prediction)
        rows = array.reshape(-1, 1) if array.ndim < 2 else array
        return "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    if accept == NPY:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(prediction), allow_pickle=False)
        return buffer.getvalue()
    raise HandlerError(406, f"Accept type {accept} is not supported by this framework.")


def _defaults(framework: str | None) -> dict:
    def input_fn(data, content_type):
        array = decode(data, content_type)
        if framework == "pytorch":
            import torch

            return torch.as_tensor(array, dtype=torch.float32)
        return array.reshape(1, -1) if array.ndim == 1 else array

    def predict_fn(data, model):
        if framework == "pytorch":
            import torch

            model.eval()
            with torch.no_grad():
                return model(data)
        if framework == "xgboost":
            import xgboost

            return model.predict(xgboost.DMatrix(data))
        return model.predict(data)

    return {
        "model_fn": default_model_fn,
        "input_fn": input_fn,
        "predict_fn": predict_fn,
        "output_fn": encode,
    }


# -- loading -----------------------------------------------------------------------------------
def _user_module(code_dir: Path, program: str):
    script = code_dir / program
    if not script.is_file():
        return None
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[script.stem] = module
    spec.loader.exec_module(module)
    return module


def _call(fn, *args):
    """Call a handler, adding ``context=None`` when it takes one more argument (toolkit style)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return fn(*args)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) == len(args) + 1 and positional[-1].default is inspect.Parameter.empty:
        return fn(*args, None)
    return fn(*args)


def make(config: dict):
    """Worker factory: import the handlers, load the model, return the per-request server."""
    model_dir = Path(config["model_dir"])
    code_dir = Path(config.get("code_dir") or model_dir / "code")
    program = config.get("program") or "inference.py"
    if (code_dir / "requirements.txt").is_file():
        print(
            "WARNING crosstrain: code/requirements.txt is not installed (the sandbox is offline); "
            "the packages of the sandbox's Python are used as they are",
            flush=True,
        )
    try:
        module = _user_module(code_dir, program)
        handlers = _defaults(_framework(model_dir))
        for name in (*handlers, "transform_fn"):
            if module is not None and callable(getattr(module, name, None)):
                handlers[name] = getattr(module, name)
        where = f"{program} in code/" if module is not None else "default handlers"
        print(f"crosstrain: loading the model with {where}", flush=True)
        model = _call(handlers["model_fn"], str(model_dir))
    except Exception:
        traceback.print_exc()  # into the endpoint's log; the endpoint fails with the error
        raise
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)

    def serve(header: dict, body: bytes) -> tuple[dict, bytes]:
        if header.get("ping"):
            return {"pong": True}, b""
        content_type = (header.get("content_type") or JSON).split(";")[0].strip()
        accept = (header.get("accept") or "").split(",")[0].split(";")[0].strip()
        if not accept or accept == "*/*":
            accept = default_accept
        try:
            data = body.decode("utf-8") if content_type in TEXT_TYPES else body
            if "transform_fn" in handlers:
                result = _call(handlers["transform_fn"], model, data, content_type, accept)
            else:
                features = _call(handlers["input_fn"], data, content_type)
                prediction = _call(handlers["predict_fn"], features, model)
                result = _call(handlers["output_fn"], prediction, accept)
        except Exception as exc:  # noqa: BLE001 - the model's error becomes a ModelError
            traceback.print_exc()
            status = getattr(exc, "status_code", None)
            status = status if isinstance(status, int) and 400 <= status < 600 else 500
            return {"status": status, "message": f"{type(exc).__name__}: {exc}"}, b""
        return answer(result, accept)

    return serve


def answer(result, accept: str) -> tuple[dict, bytes]:
    """A handler's result as the worker's answer: ``(body, content type)`` tuples, ``str`` and
    ``bytes`` as they are; anything else JSON-encoded, as the SageMaker serving stacks do."""
    out_type = accept
    if isinstance(result, tuple) and len(result) == 2:
        result, out_type = result
    if isinstance(result, str):
        result = result.encode("utf-8")
    if not isinstance(result, bytes | bytearray):
        try:
            result, out_type = json.dumps(result, default=_plain).encode(), JSON
        except (TypeError, ValueError) as exc:
            message = (
                f"the response must be str, bytes or JSON-encodable, not "
                f"{type(result).__name__} ({exc}): encode it in output_fn "
                "(e.g. return json.dumps(prediction.tolist()))"
            )
            print(f"ERROR crosstrain: {message}", flush=True)
            return {"status": 500, "message": message}, b""
    return {"content_type": out_type}, bytes(result)
