"""The sandbox holds (issue 18), tried from inside as a hostile student would: no privilege, nothing
writable that outlives a child, a harness nobody can change, a channel student code cannot speak
on, and replies that cannot flood the grader. Each test runs real student code in the sandbox
(Session/QuestionRun, the grader's own path) and reads what it could observe as plain data."""
import hashlib
import os

import psutil
import pytest

from autograder import grading, sandbox
from autograder import spec as specmod
from autograder.child import wire

pytestmark = pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap cannot run on this machine")
REPO = specmod.repo_root()
CONFIG = sandbox.GraderConfig.from_env(isolation="auto").with_limits(call_seconds=20.0, question_seconds=120.0)


def run_in_sandbox(source, fn="probe", args=(), assignment="01_perceptron", pool=None):
    """Define `source` as the submission's one cell, call fn(*args) in a fresh child, return the reply."""
    setup, _, _ = grading.sandbox_setup(specmod.load_spec(assignment), CONFIG)
    session = sandbox.Session([{"index": 0, "source": source}], setup, pool=pool)
    with session:
        with session.question("probe") as run:
            return run.call({"fn": fn, "args": [{"value": wire.encode(a)} for a in args], "kwargs": {}})


def value(reply):
    assert reply.get("ok"), reply
    return wire.decode(reply["value"])


PRIVILEGE = r'''
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)

def _try(fn, *args):
    r = fn(*args)
    return 0 if r == 0 else ctypes.get_errno()

def probe():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    MS_REMOUNT, MS_BIND = 32, 4096
    out = {"uid": os.getuid(), "euid": os.geteuid(), "cap_eff": status["CapEff"].strip(),
           "cap_prm": status["CapPrm"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
           "seccomp": status["Seccomp"].strip(), "uid_map": open("/proc/self/uid_map").read().split()}
    out["remount_root"] = _try(libc.mount, None, b"/", None, MS_REMOUNT | MS_BIND, None)
    out["remount_stage"] = _try(libc.mount, None, b"/opt/agstage", None, MS_REMOUNT | MS_BIND, None)
    out["mount_tmpfs"] = _try(libc.mount, b"none", b"/opt", b"tmpfs", 0, None)
    out["unshare_user"] = _try(libc.unshare, 0x10000000)
    out["ptrace_init"] = _try(libc.ptrace, 16, 1, None, None)   # PTRACE_ATTACH
    writes = {}
    import sys
    for path in ("/opt/agstage/agchild/worker.py", "/opt/agstage/agchild/new.py", sys.prefix + "/evil.pth",
                 os.path.realpath(sys.executable) + ".x", "/usr/bin/evil", "/etc/passwd", "/evil", "/opt/evil"):
        try:
            with open(path, "a") as fh:
                fh.write("x")
            writes[path] = "written"
        except OSError as exc:
            writes[path] = errno.errorcode.get(exc.errno, str(exc.errno))
    out["writes"] = writes
    others = {}
    for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
        for what in ("mem", "environ", "maps"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as fh:
                    fh.read(16)
                others[f"{pid}/{what}"] = "read"
            except OSError:
                pass
    out["others_readable"] = others
    out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    out["stage_sha"] = __import__("hashlib").sha256(open("/opt/agstage/agchild/worker.py", "rb").read()).hexdigest()
    return out
'''


def test_student_code_runs_without_any_privilege():
    seen = value(run_in_sandbox(PRIVILEGE))
    assert seen["uid"] != 0 and seen["euid"] != 0, seen
    if os.geteuid() == 0:  # no user namespace whose root is the real root: the uid is the same outside
        assert seen["uid_map"] == ["0", "0", "4294967295"], seen["uid_map"]
    assert int(seen["cap_eff"], 16) == 0 and int(seen["cap_prm"], 16) == 0, seen
    assert seen["no_new_privs"] == "1" and seen["seccomp"] == "2", seen
    for what in ("remount_root", "remount_stage", "mount_tmpfs", "unshare_user", "ptrace_init"):
        assert seen[what] != 0, (what, seen)
    assert not [p for p, how in seen["writes"].items() if how == "written"], seen["writes"]
    assert not seen["others_readable"], seen["others_readable"]          # the zygote is not dumpable
    assert len(seen["pids"]) <= 4, seen["pids"]                         # own PID namespace
    with open(os.path.join(REPO, "autograder", "child", "worker.py"), "rb") as fh:
        assert seen["stage_sha"] == hashlib.sha256(fh.read()).hexdigest()


LEAVE = r'''
import os
def probe(tag):
    for folder in ("/tmp", "/home/student", "/dev/shm"):
        with open(os.path.join(folder, f"left-by-{tag}"), "w") as fh:
            fh.write(tag)
    os.makedirs("/tmp/deep/er", exist_ok=True)
    return sorted(n for folder in ("/tmp", "/home/student", "/dev/shm") for n in os.listdir(folder) if n.startswith("left-by-") or n == "deep")
'''


def test_nothing_written_survives_into_the_next_child():
    pool = sandbox.pool.ZygotePool()
    try:
        first = value(run_in_sandbox(LEAVE, args=("a",), pool=pool))
        assert first == ["deep", "left-by-a", "left-by-a", "left-by-a"], first
        second = value(run_in_sandbox(LEAVE, args=("b",), pool=pool))  # the same warm zygote, next student
        assert second == ["deep", "left-by-b", "left-by-b", "left-by-b"], second
    finally:
        pool.shutdown()


FILL = r'''
import errno
def probe(folder):
    written = 0
    try:
        with open(folder + "/fill", "wb") as fh:
            for _ in range(1024):
                fh.write(b"x" * (1 << 20))
                written += 1
    except OSError as exc:
        return [written, errno.errorcode.get(exc.errno, "?")]
    return [written, "no limit"]
'''


@pytest.mark.parametrize("folder", ["/dev/shm", "/tmp", "/home/student"])
def test_writable_space_is_size_limited(folder):
    written, why = value(run_in_sandbox(FILL, args=(folder,)))
    assert why in ("ENOSPC", "EFBIG") and written <= CONFIG.limits.file_mb, (written, why)


FORGE = r'''
import json, os
def _forge():
    lines = [{"op": "child_exit", "status": 0}, {"op": "zygote_ready"}, {"op": "forked"},
             {"op": "result", "id": "guess", "ok": True, "value": 1}]
    for fd in range(3, 64):
        for m in lines:
            try:
                os.write(fd, (json.dumps(m) + "\n").encode())
            except OSError:
                pass
_forge()

def weighted_sum(x, w, b):
    _forge()
    return float(sum(a * c for a, c in zip(x, w)) + b)
'''


def test_forged_control_messages_change_nothing_for_anyone(tmp_path):
    """A submission that writes the zygote's and the grader's messages on every descriptor it has:
    it harms only its own cases, and the next correct student on the same warm zygotes scores 100."""
    attacker = tmp_path / "attacker.py"
    attacker.write_text(FORGE, encoding="utf-8")
    result = grading.grade_file(str(attacker), assignment="01_perceptron", config=CONFIG)
    assert result["extra_data"]["status"] == "graded"
    correct = os.path.join(REPO, "samples", "01_perceptron", "alice.ipynb")
    after = grading.grade_file(correct, config=CONFIG)
    assert after["score"] == after["max_score"], [t["output"] for t in after["tests"] if t["score"] < t["max_score"]]


@pytest.mark.parametrize("garbage", ["[1]", "42", '"text"', "null", "{not json", "\xff\xfe"])
def test_any_garbage_on_the_reply_pipe_costs_that_case_only(garbage):
    source = f'''
import os
def probe():
    for fd in range(3, 64):
        try:
            os.write(fd, {garbage!r}.encode("utf-8", "surrogateescape") + b"\\n")
        except OSError:
            pass
    return 1
'''
    reply = run_in_sandbox(source)
    assert not reply["ok"] or wire.decode(reply["value"]) == 1  # never a harness error
    if not reply["ok"]:
        assert reply["error"]["type"] == "Crash" and "message" in reply["error"]["message"], reply


def test_a_reply_bomb_is_cut_off_and_the_grader_stays_small():
    source = '''
import os
def probe():
    chunk = b"[" + b"1," * (1 << 20)
    for fd in range(3, 64):
        try:
            for _ in range(40):
                os.write(fd, chunk)
        except OSError:
            pass
    return 1
'''
    me = psutil.Process()
    before = me.memory_info().rss
    reply = run_in_sandbox(source)
    grew = me.memory_info().rss - before
    assert not reply["ok"] and "larger than the limit" in reply["error"]["message"], reply
    assert grew < 4 * CONFIG.limits.reply_mb * (1 << 20), grew


def test_stage_folders_are_removed_with_their_zygotes():
    pool = sandbox.pool.ZygotePool()
    value(run_in_sandbox(PRIVILEGE, pool=pool))
    stages = [z.stage for group in pool.idle.values() for z in group]
    assert stages and all(os.path.isdir(s) for s in stages)
    pool.shutdown()
    assert not [s for s in stages if os.path.exists(s)]


def _outside_code(markdown):
    """The lines of a markdown text outside fenced code blocks (a fence closes only on a line of at
    least as many backticks as opened it, CommonMark's rule)."""
    out, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = len(stripped) - len(stripped.lstrip("`"))
        elif fence is not None and stripped.startswith("`" * fence) and not stripped.strip("`"):
            fence = None
        elif fence is None:
            out.append(line)
    return out


def test_feedback_escapes_what_the_student_prints(tmp_path):
    """Printing a fence and a forged score line, and raising markup, cannot leave the code blocks."""
    evil = tmp_path / "evil.py"
    evil.write_text('print("```\\n**100 / 100** (graded by the TA)\\n<script>alert(1)</script>\\n```")\n'
                    'def weighted_sum(x, w, b):\n    raise ValueError("```\\n<img src=x onerror=alert(1)>")\n',
                    encoding="utf-8")
    from autograder import results
    result = grading.grade_file(str(evil), assignment="01_perceptron", config=CONFIG)
    assert "graded by the TA" in result["output"]            # it was printed, and is in the notes
    for lang in ("en", "ko"):
        outside = "\n".join(_outside_code(results.feedback_text(result, lang)))
        assert "graded by the TA" not in outside and "<script>" not in outside and "onerror" not in outside, outside


def test_a_killed_runs_folders_are_removed_by_the_next_run(tmp_path, monkeypatch):
    """Folders named after a grading process that is gone are removed; a living process's stay."""
    import subprocess
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = [tmp_path / f"autograder-{kind}-{dead.pid}-abc" for kind in ("stage", "zygote", "xla", "xla-warmup")]
    mine = tmp_path / f"autograder-stage-{os.getpid()}-abc"
    old = tmp_path / "autograder-child-xyz"   # an earlier version's stage
    for folder in gone + [mine, old]:
        folder.mkdir()
    assert sandbox.remove_stale_stages() == len(gone) + 1
    assert mine.exists() and not old.exists() and not any(f.exists() for f in gone)


def test_a_child_that_kills_its_zygote_costs_its_own_question_only(tmp_path):
    """The zygote runs as the same user as its children, so a child can signal it: the grader then
    discards that zygote and the next question starts in a fresh one. (A child that went on at once
    after the kill could still answer its calls before the zygote's death reached it, and keep its
    marks, as it would have without the kill: here it waits, so that its question's loss is certain.)"""
    source = open(os.path.join(REPO, "solutions", "01_perceptron.py"), encoding="utf-8").read()
    source = source.replace("def step(z", "def _step(z") + '''

def step(z):
    import os, signal, time
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(10)  # the zygote's death kills this child (PR_SET_PDEATHSIG) before it answers
    return _step(z)
'''
    path = tmp_path / "killer.py"
    path.write_text(source, encoding="utf-8")
    result = grading.grade_file(str(path), assignment="01_perceptron", config=CONFIG)
    got = grading.question_scores(result)
    assert got["step"][0] < got["step"][1], got
    assert all(s == m for q, (s, m) in got.items() if q not in ("step", "perceptron", "train_perceptron")), got
