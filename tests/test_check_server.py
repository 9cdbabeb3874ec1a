"""The warm `autograder check` server of a Keras assignment (autograder/check_server.py).

What it promises: a second check is answered by the server with the result the command would have
computed itself; the notebook is read again at every check; student code in the sandbox cannot see
the server's socket; the server's folder is this user's alone, and anything wrong with a server
makes the command grade the notebook itself.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autograder import check_server, cli, i18n, sandbox
from autograder.config import GraderConfig
from autograder.submission import import_nbformat

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "05_keras_tanh" / "alice.ipynb"
ASSIGNMENT = "05_keras_tanh"
QUESTIONS = ["-q", "load_data", "-q", "build_model"]


@pytest.fixture
def server_env(monkeypatch):
    """Servers on, in a runtime folder of this test's own (short: a socket's path holds 108 bytes);
    whatever server it started is stopped."""
    runtime = Path(tempfile.mkdtemp(prefix="agcs-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("AUTOGRADER_CHECK_SERVER_IDLE", "120")
    monkeypatch.chdir(REPO)
    yield runtime
    check_server.stop(ASSIGNMENT)
    shutil.rmtree(runtime, ignore_errors=True)


def _check(notebook):
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "autograder"), "check", str(notebook),
                           *QUESTIONS, "--json"], capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _without_times(doc):
    if isinstance(doc, dict):
        return {k: _without_times(v) for k, v in doc.items() if k not in ("seconds", "execution_time")}
    if isinstance(doc, list):
        return [_without_times(v) for v in doc]
    return doc


def _wait_for(predicate, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def _status():
    return check_server.ask(ASSIGNMENT, {"op": "status"}, connect_timeout=1.0)


@pytest.mark.keras
@pytest.mark.xdist_group("keras-cache")
def test_later_checks_are_answered_by_the_warm_server_as_the_command_would(server_env, tmp_path, capsys):
    notebook = tmp_path / "alice.ipynb"
    shutil.copy(SAMPLE, notebook)
    assert _status() is None
    first = _check(notebook)                                    # graded by the command, which starts a server
    status = _wait_for(_status)
    assert status and status["checks"] == 0, "the first check did not leave a server behind"
    second = _check(notebook)
    assert _status()["checks"] == 1                             # the server graded it
    assert _without_times(second) == _without_times(first)
    assert first["score"] == first["max_score"] > 0

    # the notebook is read again: a broken function and a look for the socket from inside the sandbox
    sock = check_server.socket_path(ASSIGNMENT)
    nb = import_nbformat().read(str(notebook), as_version=4)
    nb.cells.append(import_nbformat().v4.new_code_cell(
        f"import os\nprint('server socket visible:', os.path.exists({sock!r}), os.path.exists({str(server_env)!r}))\n"
        "def build_model(*args, **kwargs):\n    raise RuntimeError('edited after the first check')\n"))
    import_nbformat().write(nb, str(notebook))
    third = _check(notebook)
    assert _status()["checks"] == 2
    verdicts = {t["extra_data"]["question"]: t["status"] for t in third["tests"]}
    assert verdicts == {"load_data": "passed", "build_model": "failed"}, verdicts
    if sandbox.uses_bwrap(GraderConfig.from_env()):
        assert "server socket visible: False False" in third["output"], third["output"][-800:]

    pid = _status()["pid"]
    lang = GraderConfig.from_env().lang
    assert check_server.main(["stop", ASSIGNMENT]) == 0
    assert capsys.readouterr().out.strip() == i18n.t("check_server_stopped", lang, assignment=ASSIGNMENT)
    assert _wait_for(lambda: not os.path.exists(sock), 30)
    check_server.main(["stop", ASSIGNMENT])
    assert capsys.readouterr().out.strip() == i18n.t("check_server_none", lang, assignment=ASSIGNMENT)
    assert _wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                     open(f"/proc/{pid}/stat").read().split()[2] == "Z", 30)


def test_the_socket_folder_must_be_this_users_alone(monkeypatch):
    tmp_path = Path(tempfile.mkdtemp(prefix="agcs-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "autograder").mkdir(mode=0o755)
    os.chmod(tmp_path / "autograder", 0o755)
    assert check_server.folder() is None and check_server.socket_path(ASSIGNMENT) is None
    os.chmod(tmp_path / "autograder", 0o700)
    assert check_server.folder() == str(tmp_path / "autograder")
    assert check_server.socket_path(ASSIGNMENT).startswith(str(tmp_path / "autograder") + "/05-")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / ("long" * 30)))
    assert check_server.socket_path(ASSIGNMENT) is None           # a socket's path holds 108 bytes
    shutil.rmtree(tmp_path)


def test_a_server_serves_one_set_up_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = check_server.server_key(ASSIGNMENT)
    assert check_server.server_key(ASSIGNMENT) == key
    monkeypatch.setenv("AUTOGRADER_LANG", "ko")
    assert check_server.server_key(ASSIGNMENT) != key            # another setting, another server
    monkeypatch.delenv("AUTOGRADER_LANG")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert check_server.server_key(ASSIGNMENT) != key            # another working folder (its data files)
    assert check_server.server_key("06_keras_digits") != check_server.server_key(ASSIGNMENT)


def test_servers_are_only_for_keras_assignments_and_can_be_turned_off():
    on = GraderConfig.from_env({"AUTOGRADER_CHECK_SERVER_IDLE": "600"})
    assert check_server.usable(ASSIGNMENT, on) == sys.platform.startswith("linux")
    assert not check_server.usable("03_backprop", on)
    assert not check_server.usable(ASSIGNMENT, GraderConfig.from_env({"AUTOGRADER_CHECK_SERVER_IDLE": "0"}))
    assert GraderConfig.from_env({}).check_server_idle_s == 600
    assert GraderConfig.from_env({"AUTOGRADER_CHECK_SERVER_IDLE": "soon"}).check_server_idle_s == 600


@pytest.mark.keras
@pytest.mark.xdist_group("keras-cache")
def test_a_server_that_answers_nonsense_is_ignored(server_env, tmp_path, capsys, monkeypatch):
    """Whatever listens on the socket, the command prints a result it computed itself (and would
    start a server of its own for the next check)."""
    started = []
    monkeypatch.setattr(check_server, "start", started.append)
    path = check_server.socket_path(ASSIGNMENT)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    asked = []

    def impostor():
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                asked.append(conn.recv(65536))
                conn.sendall(b'{"result": {"score": 100, "max_score": 100, "tests": "all passed"}}' if asked[1:]
                             else b"not json")

    thread = threading.Thread(target=impostor, daemon=True)
    thread.start()
    try:
        assert check_server.check(ASSIGNMENT, str(SAMPLE), None, None, "en") is None   # not JSON
        notebook = tmp_path / "alice.ipynb"
        nb = import_nbformat().read(str(SAMPLE), as_version=4)
        nb.cells.append(import_nbformat().v4.new_code_cell("def load_data(*a, **k):\n    return None\n"))
        import_nbformat().write(nb, str(notebook))
        code = cli.main(["check", str(notebook), "-q", "load_data", "--json"])        # not a result
        thread.join(10)
    finally:
        listener.close()
        os.unlink(path)
    result = json.loads(capsys.readouterr().out)
    assert len(asked) == 2 and code == 0 and started == [ASSIGNMENT]
    assert result["tests"][0]["status"] == "failed" and result["score"] == 0
