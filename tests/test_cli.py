import json
import re
import socket

from click.testing import CliRunner

from crosstrain import __version__
from crosstrain.cli import main


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "doctor" in result.output


def test_doctor_reports_busy_port(monkeypatch):
    from crosstrain.cli import checkup as doctor

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setattr(doctor, "default_ports", lambda: {port: "sandbox"})
        result = CliRunner().invoke(main, ["doctor", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    finding = next(f for f in data["findings"] if f["check"] == f"port {port}")
    assert not finding["ok"]
    assert "--sandbox-port" in finding["fix"]


def test_doctor_healthy_with_free_port(monkeypatch):
    from crosstrain.cli import checkup as doctor

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(doctor, "default_ports", lambda: {port: "site"})
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert re.search(r"port \d+", result.output)


def test_doctor_says_how_grading_isolates(monkeypatch):
    from crosstrain.cli import checkup as doctor
    from crosstrain.grading import isolate

    monkeypatch.setattr(isolate, "default_isolation", lambda: isolate.Isolation())
    finding = doctor.check_grading_isolation()
    assert not finding.ok and not finding.required  # a warning, never a failed doctor
    assert "grader's own user" in finding.detail and finding.fix
    monkeypatch.setattr(isolate, "default_isolation", lambda: isolate.Isolation("nobody", True))
    assert doctor.check_grading_isolation().ok


def test_an_interrupted_command_exits_130_even_with_a_thread_still_running(tmp_path):
    """A grading thread still stopping must not hold the exit of an interrupted command."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "interrupted.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading, time
            import click
            from crosstrain.cli.common import Group
            from crosstrain.errors import CrosstrainError

            @click.group(cls=Group)
            def main():
                pass

            @main.command()
            def work():
                threading.Thread(target=time.sleep, args=(600,)).start()  # not a daemon
                raise CrosstrainError("interrupted; run it again", exit_code=130)

            main(["work"])
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130
    assert done.stderr.strip() == "error: interrupted; run it again"
