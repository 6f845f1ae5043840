"""Unpacking refuses unsafe submissions with a message and copies safe ones."""

from __future__ import annotations

import os
import zipfile

import pytest

from crosstrain.grading.limits import Limits
from crosstrain.grading.unpack import Rejected, settle_root, unpack


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_zip_is_extracted(tmp_path):
    src = make_zip(tmp_path / "a.zip", {"nb.ipynb": "{}", "function/handler.py": "x = 1"})
    out = unpack(src, tmp_path / "out")
    assert (tmp_path / "out/function/handler.py").read_text() == "x = 1"
    assert out.files == 2


def test_zip_slip_is_rejected(tmp_path):
    src = make_zip(tmp_path / "a.zip", {"../../evil.py": "x"})
    with pytest.raises(Rejected, match="path traversal"):
        unpack(src, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_absolute_path_is_rejected(tmp_path):
    src = make_zip(tmp_path / "a.zip", {"/etc/evil": "x"})
    with pytest.raises(Rejected, match="absolute path"):
        unpack(src, tmp_path / "out")


def test_zip_symlink_outside_is_rejected(tmp_path):
    src = tmp_path / "a.zip"
    with zipfile.ZipFile(src, "w") as archive:
        info = zipfile.ZipInfo("passwd")
        info.external_attr = (0o120777 << 16) | 0x20
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(Rejected, match="outside"):
        unpack(src, tmp_path / "out")


def test_zip_bomb_ratio_is_rejected(tmp_path):
    src = make_zip(tmp_path / "a.zip", {"zeros.bin": b"\0" * (20 * 2**20)})
    with pytest.raises(Rejected, match="zip bomb"):
        unpack(src, tmp_path / "out", Limits(max_total_mb=100))


def test_oversize_file_is_rejected(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/big.bin").write_bytes(os.urandom(2 * 2**20))
    with pytest.raises(Rejected, match="larger than 1 MB"):
        unpack(tmp_path / "sub", tmp_path / "out", Limits(max_file_mb=1))


def test_too_many_files_is_rejected(tmp_path):
    (tmp_path / "sub").mkdir()
    for i in range(6):
        (tmp_path / f"sub/{i}.txt").write_text("x")
    with pytest.raises(Rejected, match="more than 5 files"):
        unpack(tmp_path / "sub", tmp_path / "out", Limits(max_files=5))


def test_folder_symlink_outside_is_rejected(tmp_path):
    (tmp_path / "sub").mkdir()
    os.symlink("/etc/passwd", tmp_path / "sub/passwd")
    with pytest.raises(Rejected, match="symlink to /etc/passwd"):
        unpack(tmp_path / "sub", tmp_path / "out")


def test_folder_symlink_inside_is_copied_as_a_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/real.txt").write_text("data")
    os.symlink("real.txt", tmp_path / "sub/alias.txt")
    unpack(tmp_path / "sub", tmp_path / "out")
    alias = tmp_path / "out/alias.txt"
    assert alias.read_text() == "data" and not alias.is_symlink()


def test_not_a_zip_is_rejected(tmp_path):
    (tmp_path / "a.zip").write_text("not a zip")
    with pytest.raises(Rejected, match="neither a folder nor a zip"):
        unpack(tmp_path / "a.zip", tmp_path / "out")


def test_lone_top_folder_is_lifted(tmp_path):
    (tmp_path / "alice/alice").mkdir(parents=True)
    (tmp_path / "alice/alice/nb.ipynb").write_text("{}")
    assert settle_root(tmp_path / "alice", ["nb.ipynb"]) == "alice"
    assert (tmp_path / "alice/nb.ipynb").is_file()
