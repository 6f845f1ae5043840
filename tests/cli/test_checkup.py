"""The doctor's port check: crosstrain's own sandbox and site are fine, anything else is not."""

from __future__ import annotations

import socket

from crosstrain.cli import checkup


def test_crosstrains_own_sandbox_on_its_port_is_ok(sandbox):
    finding = checkup.check_port(sandbox.port, "sandbox")
    assert finding.ok, finding
    assert "crosstrain's sandbox" in finding.detail


def test_crosstrains_own_site_on_its_port_is_ok(sandbox, tmp_path):
    from crosstrain.web.app import create_app
    from crosstrain.web.server import Background

    (tmp_path / "site").mkdir()
    app = create_app(tmp_path / "site", sandbox, workspace=tmp_path / "ws")
    with Background(app) as url:
        port = int(url.rsplit(":", 1)[1])
        finding = checkup.check_port(port, "site")
    assert finding.ok, finding
    assert "crosstrain's site" in finding.detail


def test_a_foreign_listener_fails_and_names_the_flag():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        finding = checkup.check_port(port, "sandbox")
    assert not finding.ok
    assert "--sandbox-port" in finding.fix


def test_a_missing_lab_package_warns_and_names_the_lab():
    from crosstrain.cli.checkup import check_lab_package

    found = check_lab_package("crosstrain_no_such_package", "13-model-selection")
    assert not found.ok and not found.required
    assert "13-model-selection" in found.detail and "[labs]" in found.fix


def test_an_installed_lab_package_is_ok():
    from crosstrain.cli.checkup import check_lab_package

    assert check_lab_package("json", "13-model-selection").ok
