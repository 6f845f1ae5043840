"""Sandbox S3 as Athena reads and writes it: moto's S3 backend in process, no HTTP.

:class:`SandboxS3` lists, reads and writes objects under the router's moto lock;
:func:`arrow_filesystem` names table files for pyarrow, and :func:`lazy_dataset_class` is the
pyarrow dataset that reads only the files DuckDB's pushed-down filters keep.
"""

from __future__ import annotations

import functools
import threading

from crosstrain.sandbox.services.athena.sql import QueryError


def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix)."""
    if not url or not url.startswith(("s3://", "s3a://", "s3n://")):
        raise QueryError(f"HIVE_METASTORE_ERROR: Location '{url}' is not an s3:// URL")
    bucket, _, prefix = url.split("://", 1)[1].partition("/")
    return bucket, prefix


def folder(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def is_data_file(key: str) -> bool:
    """Athena skips folder markers and files whose names start with ``_`` or ``.``."""
    name = key.rsplit("/", 1)[-1]
    return bool(name) and not name.startswith(("_", ".")) and not key.endswith("$folder$")


class SandboxS3:
    """moto's S3 backend of one account, used in process under the router's moto lock."""

    def __init__(self, lock: threading.RLock, account: str, region: str):
        self.lock, self.account, self.region = lock, account, region

    def _backend(self):
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        return s3_backends[self.account][get_partition(self.region)]

    def _bucket(self, name: str):
        from moto.s3.exceptions import MissingBucket

        try:
            return self._backend().get_bucket(name)
        except MissingBucket:
            message = f"HIVE_FILESYSTEM_ERROR: The specified bucket does not exist: {name}"
            raise QueryError(message) from None

    def list(self, url: str) -> list[tuple[str, int]]:
        """(``bucket/key``, size) of every data file under a folder URL, sorted by key."""
        from moto.s3.models import FakeDeleteMarker

        bucket, prefix = split_url(folder(url))
        prefix = prefix.lstrip("/") if prefix != "/" else ""
        with self.lock:
            keys = list(self._bucket(bucket).keys.items())
        return sorted(
            (f"{bucket}/{name}", key.size)
            for name, key in keys
            if name.startswith(prefix)
            and is_data_file(name)
            and not isinstance(key, FakeDeleteMarker)
        )

    def read(self, path: str) -> bytes:
        bucket, _, key = path.partition("/")
        with self.lock:
            obj = self._backend().get_object(bucket, key)
            if obj is None:
                raise FileNotFoundError(path)
            return obj.value

    def write(self, url: str, data: bytes, content_type: str) -> None:
        bucket, key = split_url(url)
        with self.lock:
            try:
                self._bucket(bucket)
            except QueryError:
                raise QueryError(f"Unable to verify/create output bucket {bucket}") from None
            obj = self._backend().put_object(bucket, key, data)
            obj.set_metadata({"Content-Type": content_type})


def arrow_filesystem(s3: SandboxS3):
    """A read-only pyarrow filesystem over sandbox S3.

    It names the files of a :func:`lazy_dataset`; the scan itself reads them in
    ``LazyDataset.scanner``, never through this filesystem from pyarrow's IO threads.
    """
    import pyarrow as pa
    import pyarrow.fs as pafs

    def read_only(*args, **kwargs):
        raise PermissionError("Athena reads tables; it does not write through this filesystem")

    class Handler(pafs.FileSystemHandler):
        def get_type_name(self):
            return "sandbox-s3"

        def normalize_path(self, path):
            return path

        def get_file_info(self, paths):
            infos = []
            for path in paths:
                try:
                    size = len(s3.read(path))
                    infos.append(pafs.FileInfo(path, pafs.FileType.File, size=size))
                except FileNotFoundError:
                    infos.append(pafs.FileInfo(path, pafs.FileType.NotFound))
            return infos

        def get_file_info_selector(self, selector):
            return [
                pafs.FileInfo(path, pafs.FileType.File, size=size)
                for path, size in s3.list("s3://" + selector.base_dir)
            ]

        def open_input_file(self, path):
            return pa.BufferReader(s3.read(path))

        def open_input_stream(self, path):
            return self.open_input_file(path)

        def __eq__(self, other):
            return self is other

        def __ne__(self, other):
            return self is not other

        create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = read_only
        delete_file = move = copy_file = open_output_stream = open_append_stream = read_only

    return pafs.PyFileSystem(Handler())


@functools.cache
def lazy_dataset_class():
    """A pyarrow dataset that reads only the files DuckDB's pushed-down filter keeps.

    DuckDB calls ``scanner(filter=..., columns=...)`` with the query's filters. The fragments
    whose partition expression the filter rules out are skipped; the others are read from S3
    here, on the calling thread, and scanned from memory. pyarrow never calls back into Python
    from its IO threads, which would deadlock while DuckDB holds the GIL.
    """
    import gzip

    import pyarrow as pa
    import pyarrow.dataset as ds

    class LazyDataset(ds.FileSystemDataset):
        def scanner(self, *args, **kwargs):
            fragments = []
            for fragment in self.get_fragments(filter=kwargs.get("filter")):
                data = self.read(fragment.path)
                self.counter["bytes"] = self.counter.get("bytes", 0) + len(data)
                if fragment.path.endswith(".gz"):
                    data = gzip.decompress(data)
                fragments.append(
                    self.format.make_fragment(
                        pa.py_buffer(data), partition_expression=fragment.partition_expression
                    )
                )
            return ds.FileSystemDataset(fragments, self.schema, self.format).scanner(
                *args, **kwargs
            )

    return LazyDataset
