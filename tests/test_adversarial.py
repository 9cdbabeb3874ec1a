"""Adversarial suite for the grading sandbox (issue 5), on 01_perceptron (the cheapest assignment).

A zoo of broken and cheating submissions is graded twice through the real command line
(`autograder grade ... --out DIR`): once with bubblewrap and once with AUTOGRADER_NO_BWRAP=1 (the
fallback). Each entry asserts the score of the affected question, the scores of the others, the
message the student sees, that no process it started survives and that no file outside its own
sandbox changed. Attacks that need small time limits (infinite loops, ignored signals) run in
this process with small Limits, in both modes. The last test kills `autograder grade` with
SIGKILL mid-run and checks that the second run finishes the rest without regrading anything.
"""
import csv
import glob
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from autograder import grading, sandbox
from autograder import spec as specmod
from autograder.results import _num as csv_number

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_perceptron"
QUESTIONS = ("weighted_sum", "step", "perceptron", "gates", "XOR", "train_perceptron")
SPEC = specmod.load_spec(ASSIGNMENT)
POINTS = {q.name: q.points for q in SPEC.questions}   # the autograded part of the 100
FULL = csv_number(SPEC.max_score)                       # grades.csv's total for correct work
NO_TRAINING = csv_number(SPEC.max_score - POINTS["train_perceptron"])   # ... with train_perceptron missing
MARK = "AGADVMARK" + uuid.uuid4().hex[:12]     # in the command line of every process an attack starts
AUTOGRADER = str(REPO / ".venv" / "bin" / "autograder")
if not os.path.exists(AUTOGRADER):  # pragma: no cover - another layout: the same entry point
    AUTOGRADER = None

_spec = importlib.util.spec_from_file_location("_t01", REPO / "tests" / "grading" / "test_01_perceptron.py")
_t01 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_t01)
CORRECT, replace_fn = _t01.CORRECT, _t01._replace

STUB = '''
import numpy as np

def weighted_sum(x, w, b):
    raise NotImplementedError()

def step(z):
    raise NotImplementedError()

def perceptron(x, w, b):
    raise NotImplementedError()

def AND(x1, x2):
    raise NotImplementedError()

def OR(x1, x2):
    raise NotImplementedError()

def NAND(x1, x2):
    raise NotImplementedError()

def XOR(x1, x2):
    raise NotImplementedError()

def train_perceptron(X, t, lr=0.1, epochs=20):
    raise NotImplementedError()
'''

# Honest but wrong everywhere: every question scores 0 on its own.
WRONG = '''
import numpy as np

def weighted_sum(x, w, b):
    return 12345.0

def step(z):
    return 7

def perceptron(x, w, b):
    return 7

def AND(x1, x2):
    return 7

def OR(x1, x2):
    return 7

def NAND(x1, x2):
    return 7

def XOR(x1, x2):
    return AND(NAND(x1, x2), OR(x1, x2)) + 7

def train_perceptron(X, t, lr=0.1, epochs=20):
    return np.full(np.shape(X)[1], 99.0), 99.0, [99] * epochs
'''

SPAWN_MARKED = f'''
def _spawn_marked():
    import os
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/bin/sh", ["/bin/sh", "-c", "trap '' TERM HUP INT; sleep 600; :", "{MARK}"])
        finally:
            os._exit(0)
    return pid
'''


def with_fn(source, name, new_def):
    return replace_fn(source, name, new_def)


def cells_of(source):
    """One cell per top-level statement group: imports, then one per function."""
    import ast
    tree = ast.parse(source)
    lines = source.splitlines()
    cells, current = [], []
    for node in tree.body:
        chunk = "\n".join(lines[node.lineno - 1:node.end_lineno])
        if isinstance(node, ast.FunctionDef):
            cells.append(chunk)
        else:
            current.append(chunk)
    return ["\n".join(current)] + cells


def notebook_bytes(cells):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb).encode("utf-8")


def notebook_v3_bytes(cells):
    import nbformat.v3 as v3
    nb = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[v3.new_code_cell(input=c) for c in cells])])
    return v3.writes_json(nb).encode("utf-8")


# -- expectations ---------------------------------------------------------------------------------
@dataclass
class Entry:
    student: str
    ext: str
    content: bytes
    full: tuple = ()          # questions with full points
    zero: tuple = ()          # questions with 0 points
    total: float = None       # exact total score
    msg: tuple = ()           # substrings of the student's feedback (result output + test outputs)
    status: str = "graded"
    # what changes without bubblewrap (no filesystem / network isolation): overrides
    fallback: dict = field(default_factory=dict)


def _others(*lost):
    return tuple(q for q in QUESTIONS if q not in lost)


def _py(text):
    return text.encode("utf-8")


def build_zoo(ctx):
    """ctx: {"out": output dir, "zoo": submissions dir, "port": a listening port on the host}."""
    out, zoo, port = ctx["out"], ctx["zoo"], ctx["port"]
    sol = str(REPO / "solutions" / "01_perceptron.py")
    refs = str(REPO / "autograder" / "assignments" / ASSIGNMENT / "references")
    e = []
    # ---- faults --------------------------------------------------------------------------------
    e.append(Entry("f_not_json", ".ipynb", b'{"cells": [ {"cell_type": "code", ', zero=QUESTIONS, total=0,
                   msg=("not valid JSON",), status="unreadable"))
    e.append(Entry("f_nbformat_v3", ".ipynb", notebook_v3_bytes(cells_of(CORRECT)), full=QUESTIONS, total=SPEC.max_score))
    e.append(Entry("f_empty", ".py", b"", zero=QUESTIONS, total=0, msg=("the file is empty",), status="unreadable"))
    e.append(Entry("f_empty_nb", ".ipynb", b"   \n", zero=QUESTIONS, total=0, msg=("the file is empty",),
                   status="unreadable"))
    e.append(Entry("f_binary", ".ipynb", bytes(range(256)) * 64, zero=QUESTIONS, total=0,
                   msg=("not a text file",), status="unreadable"))
    cells = cells_of(CORRECT)
    cells[2] = cells[2].replace("if z <= 0:", "if z <= 0", 1)  # step's cell: a syntax error
    e.append(Entry("f_syntax_one_cell", ".ipynb", notebook_bytes(cells), full=_others("step"), zero=("step",),
                   msg=("SyntaxError", "function `step` is not defined")))
    cells = cells_of(CORRECT)
    cells[1] = "import no_such_module_for_the_grader\n" + cells[1]  # weighted_sum's cell
    e.append(Entry("f_missing_import", ".ipynb", notebook_bytes(cells), full=_others("weighted_sum"),
                   zero=("weighted_sum",), msg=("ModuleNotFoundError", "function `weighted_sum` is not defined")))
    e.append(Entry("f_cp949", ".py", ("# 퍼셉트론 과제: 학생 답안\n" + CORRECT + "\nNOTE = '한글 문자열'\n").encode("cp949"),
                   full=QUESTIONS, total=SPEC.max_score, msg=("not UTF-8",)))
    e.append(Entry("f_missing_function", ".py", _py(with_fn(CORRECT, "train_perceptron", "")),
                   full=_others("train_perceptron"), zero=("train_perceptron",),
                   msg=("function `train_perceptron` is not defined",)))
    e.append(Entry("f_exception_in_one", ".py",
                   _py(with_fn(CORRECT, "weighted_sum", "def weighted_sum(x, w, b):\n    raise ValueError('boom 42')")),
                   full=_others("weighted_sum"), zero=("weighted_sum",), msg=("raised ValueError: boom 42",)))
    e.append(Entry("kim min su", ".py", _py(CORRECT), full=QUESTIONS, total=SPEC.max_score))
    e.append(Entry("lee, ji-eun", ".py", _py(CORRECT), full=QUESTIONS, total=SPEC.max_score))
    e.append(Entry("홍길동 2024", ".py", _py(CORRECT), full=QUESTIONS, total=SPEC.max_score))
    e.append(Entry("f_memory_bomb", ".py", _py(with_fn(CORRECT, "weighted_sum",
                   "def weighted_sum(x, w, b):\n    junk = bytearray(50 * 1024 ** 3)\n    return float(len(junk))")),
                   full=_others("weighted_sum"), zero=("weighted_sum",), msg=("out of memory",)))
    e.append(Entry("f_fork_bomb", ".py", _py(SPAWN_MARKED + with_fn(CORRECT, "step", '''
def step(z):
    import os
    for _ in range(300):
        try:
            _spawn_marked()
        except OSError:
            break
    raise RuntimeError("forked")''')), full=_others("step"), zero=("step",), msg=("raised",)))
    e.append(Entry("f_print_100mb", ".py", _py(CORRECT + '''
import sys
_chunk = "x" * (1024 * 1024)
for _ in range(100):
    sys.stdout.write(_chunk)
'''), full=QUESTIONS, total=SPEC.max_score, msg=("printed output not shown",)))
    e.append(Entry("f_huge_file", ".py", _py(with_fn(CORRECT, "weighted_sum", '''
def weighted_sum(x, w, b):
    block = b"\\0" * (1 << 20)
    with open("huge.bin", "wb") as fh:
        for _ in range(1024):
            fh.write(block)
    return 0.0''')), full=_others("weighted_sum"), zero=("weighted_sum",), msg=("File too large",)))
    # ---- attacks -------------------------------------------------------------------------------
    e.append(Entry("a_patch_builtins", ".py", _py(STUB + '''
import builtins
builtins.isinstance = lambda *a, **k: True
builtins.float = lambda *a, **k: 1.0
builtins.len = lambda *a, **k: 4
builtins.NotImplementedError = type("NotImplementedError", (Exception,), {})
'''), zero=QUESTIONS, total=0))
    e.append(Entry("a_patch_numpy", ".py", _py(WRONG + '''
import numpy as np
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = lambda *a, **k: None
np.ndarray.__eq__ = lambda *a, **k: True
'''), zero=QUESTIONS, total=0))
    e.append(Entry("a_patch_harness", ".py", _py(STUB + '''
import sys
_w = sys.modules.get("agchild.worker") or sys.modules.get("autograder.worker")
_wire = _w.wire

def _fake_value(call):
    probe = call.get("probe")
    if probe == "gate_calls":
        return _wire.encode({"table": [0.5] * 4, "perceptron_calls": 4})
    if probe == "xor_structure":
        return _wire.encode({"table": [0.5] * 4, "with_constant_0": [0.5] * 4, "with_constant_1": [0.5] * 4})
    if call.get("fn") == "train_perceptron":
        return _wire.encode((np.full(2, 0.5), 0.5, [0] * 20))
    return _wire.encode(0.5)

def _fake_perform_call(ns, call, timeout=None, helpers=None):
    return {"ok": True, "value": _fake_value(call), "args_after": [None] * len(call.get("args", [])),
            "kwargs_after": {}, "warnings": [], "seconds": 0.0}

_w.perform_call = _fake_perform_call
_real_encode = _wire.encode
_wire.encode = lambda value, _depth=0: _real_encode(0.5)
'''), zero=QUESTIONS, total=0))
    e.append(Entry("a_sys_exit_toplevel", ".py", _py(STUB + "\nimport sys\nsys.exit(0)\n"), zero=QUESTIONS, total=0,
                   msg=("SystemExit",)))
    e.append(Entry("a_os_exit_toplevel", ".py", _py(STUB + "\nimport os\nos._exit(0)\n"), zero=QUESTIONS, total=0))
    e.append(Entry("a_exit_in_function", ".py", _py(with_fn(with_fn(CORRECT, "step",
                   "def step(z):\n    import os\n    os._exit(0)"), "weighted_sum",
                   "def weighted_sum(x, w, b):\n    import sys\n    sys.exit(0)")),
                   full=_others("step", "weighted_sum"), zero=("step", "weighted_sum"),
                   msg=("the student process stopped", "raised SystemExit")))
    e.append(Entry("a_ignore_sigterm", ".py", _py(STUB + SPAWN_MARKED + '''
import signal
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, signal.SIG_IGN)
_spawn_marked()
'''), zero=QUESTIONS, total=0))
    fake = {"op": "result", "id": 1, "ok": True, "value": 0}
    e.append(Entry("a_fake_stdout", ".py", _py(STUB + f'''
import json
for _i in range(1, 200):
    print(json.dumps(dict({fake!r}, id=_i)))
print(json.dumps({{"score": 100, "max_score": 100, "tests": []}}))
'''), zero=QUESTIONS, total=0))
    forge = '''
def _forge(first=1, last=400):
    import json, os, re
    cmd = open("/proc/self/cmdline", "rb").read().replace(b"\\0", b" ").decode()
    fin, fout = map(int, re.search(r"main\\((\\d+), (\\d+)\\)", cmd).groups())
    for i in range(first, last):
        for value in (0, 1):
            msg = {"op": "result", "id": i, "ok": True, "value": value, "warnings": [], "seconds": 0.0,
                   "args_after": [None, None, None], "kwargs_after": {}}
            os.write(fout, (json.dumps(msg) + "\\n").encode())
    msg = {"op": "ready", "defined": []}
    os.write(fout, (json.dumps(msg) + "\\n").encode())
'''
    e.append(Entry("a_fake_pipe_toplevel", ".py", _py(STUB + forge + "\n_forge()\n"), zero=QUESTIONS, total=0))
    e.append(Entry("a_fake_pipe_in_call", ".py", _py(with_fn(STUB, "weighted_sum",
                   "def weighted_sum(x, w, b):\n    _forge()\n    raise NotImplementedError()") + forge),
                   zero=QUESTIONS, total=0))
    e.append(Entry("a_ndarray_subclass", ".py", _py(with_fn(CORRECT, "train_perceptron", '''
class Sneaky(np.ndarray):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    def __array_ufunc__(self, *a, **k):
        return np.zeros(3, dtype=bool) | True

def train_perceptron(X, t, lr=0.1, epochs=20):
    w = np.zeros(np.shape(X)[1]).view(Sneaky)
    return w, 0.0, [0] * epochs''')), full=_others("train_perceptron"), zero=("train_perceptron",)))
    e.append(Entry("a_nan", ".py", _py(with_fn(CORRECT, "weighted_sum", "def weighted_sum(x, w, b):\n    return float('nan')")),
                   full=_others("weighted_sum"), zero=("weighted_sum",)))
    e.append(Entry("a_unserialisable", ".py", _py(with_fn(CORRECT, "step", '''
class Anything:
    def __eq__(self, other):
        return True
    def __reduce__(self):
        raise RuntimeError("no")

def step(z):
    return Anything()''')), full=_others("step"), zero=("step",), msg=("returned Anything",)))
    e.append(Entry("a_modifies_input", ".py", _py(with_fn(CORRECT, "weighted_sum", '''
def weighted_sum(x, w, b):
    z = float(np.dot(x, w) + b)
    x[...] = 0
    return z''')), full=_others("weighted_sum"), zero=("weighted_sum",), msg=("modified its input",)))
    e.append(Entry("a_read_solutions", ".py", _py(with_fn(with_fn(CORRECT, "step", f'''
def step(z):
    g = {{}}
    for path in ({sol!r}, "../solutions/01_perceptron.py", "../../solutions/01_perceptron.py"):
        try:
            exec(open(path).read(), g)
            break
        except OSError:
            continue
    return g["step"](z)'''), "weighted_sum", f'''
def weighted_sum(x, w, b):
    import os
    os.listdir({refs!r})
    return float(np.dot(x, w) + b)''')), full=_others("step", "weighted_sum"), zero=("step", "weighted_sum"),
        fallback={"full": QUESTIONS, "zero": (), "total": SPEC.max_score}))
    e.append(Entry("a_network", ".py", _py(with_fn(CORRECT, "step", f'''
def step(z):
    import socket
    s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
    s.sendall(b"{MARK}")
    s.close()
    return 1 if z > 0 else 0''')), full=_others("step"), zero=("step",),
        fallback={"full": QUESTIONS, "zero": (), "total": None}))
    e.append(Entry("a_write_files", ".py", _py(with_fn(STUB, "weighted_sum", f'''
def weighted_sum(x, w, b):
    import json, os
    forged = {{"score": 100, "max_score": 100, "tests": [],
              "extra_data": {{"student": "zz_forged", "assignment": "{ASSIGNMENT}", "status": "graded"}}}}
    attempts = [({os.path.join(out, "zz_forged.json")!r}, "w", json.dumps(forged)),
                ({os.path.join(out, "a_write_files.json")!r}, "w", json.dumps(forged)),
                ({os.path.join(out, "grades.csv")!r}, "a", "zz,100\\n"),
                ({os.path.join(zoo, "victim.py")!r}, "a", "\\nraise SystemExit\\n")]
    for path, mode, text in attempts:
        try:
            with open(path, mode) as fh:
                fh.write(text)
        except OSError:
            pass
    raise NotImplementedError()''')), zero=QUESTIONS, total=0))
    e.append(Entry("victim", ".py", _py(CORRECT), full=QUESTIONS, total=SPEC.max_score))
    e.append(Entry("a_daemon", ".py", _py(STUB + f'''
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["/bin/sh", "-c", "trap '' TERM HUP INT; sleep 600; :", "{MARK}"])
    os._exit(0)
os.wait()
'''), zero=QUESTIONS, total=0))
    return e


# -- helpers ------------------------------------------------------------------------------------------
def marked_processes():
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if any(MARK in part for part in (p.info["cmdline"] or [])):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def assert_no_leftovers():
    deadline = time.monotonic() + 5
    while marked_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = marked_processes()
    for p in left:  # clean up what this test started, so the next ones are not confused
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    assert not left, [p.info for p in left]


def scores(result):
    return {q: score for q, (score, _) in grading.question_scores(result).items()}


def feedback(result):
    return "\n".join([result.get("output") or ""] + [t.get("output") or "" for t in result["tests"]])


def check_entry(entry, result, mode):
    exp = {"full": entry.full, "zero": entry.zero, "total": entry.total}
    if mode == "fallback":
        exp.update(entry.fallback)
    got = scores(result)
    assert result["extra_data"]["status"] == entry.status, (entry.student, result["extra_data"])
    assert set(got) == set(QUESTIONS), got
    for q in exp["full"]:
        assert got[q] == POINTS[q], (entry.student, mode, q, got, feedback(result))
    for q in exp["zero"]:
        assert got[q] == 0, (entry.student, mode, q, got, feedback(result))
    if exp["total"] is not None:
        assert result["score"] == exp["total"], (entry.student, mode, got)
    text = feedback(result)
    for m in entry.msg:
        assert m in text, (entry.student, mode, m, text[:3000])


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Listener:
    """A TCP listener on the host's loopback; records whether anything connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self):
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, OSError):
                return n
            conn.close()
            n += 1

    def close(self):
        self.sock.close()


def _run_zoo(tmp_root, mode):
    zoo, out = tmp_root / "zoo", tmp_root / "out"
    zoo.mkdir()
    listener = Listener()
    entries = build_zoo({"out": str(out), "zoo": str(zoo), "port": listener.port})
    for entry in entries:
        (zoo / f"{entry.student}{entry.ext}").write_bytes(entry.content)
    before = {p.name: sha(p) for p in zoo.iterdir()}
    env = dict(os.environ)
    env.pop("AUTOGRADER_NO_BWRAP", None)
    if mode == "fallback":
        env["AUTOGRADER_NO_BWRAP"] = "1"
    cmd = ([AUTOGRADER] if AUTOGRADER else [sys.executable, "-m", "autograder"]) + \
        ["grade", ASSIGNMENT, str(zoo), "--out", str(out), "-j", "2", "--timeout", "90"]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(REPO), timeout=900)
    elapsed = time.monotonic() - started
    results = {}
    for entry in entries:
        path = out / f"{entry.student}.json"
        if path.exists():
            results[entry.student] = json.loads(path.read_text(encoding="utf-8"))
    connections = listener.connections()
    listener.close()
    return {"entries": entries, "results": results, "proc": proc, "zoo": zoo, "out": out, "before": before,
            "connections": connections, "elapsed": elapsed, "leftovers": [p.info for p in marked_processes()]}


@pytest.fixture(scope="module", params=["bwrap", "fallback"])
def zoo_run(request, tmp_path_factory):
    mode = request.param
    if mode == "bwrap":
        os.environ.pop("AUTOGRADER_NO_BWRAP", None)
        if not sandbox.bwrap_available():
            pytest.skip("bubblewrap cannot run on this machine: " + sandbox.bwrap_status()[1])
    run = _run_zoo(tmp_path_factory.mktemp(f"zoo-{mode}"), mode)
    run["mode"] = mode
    return run


ZOO_NAMES = [e.student for e in build_zoo({"out": "/nonexistent", "zoo": "/nonexistent", "port": 9})]


def test_zoo_run_finishes(zoo_run):
    proc = zoo_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(zoo_run["results"]) == set(ZOO_NAMES), sorted(set(ZOO_NAMES) - set(zoo_run["results"]))


@pytest.mark.parametrize("student", ZOO_NAMES)
def test_zoo_entry(zoo_run, student):
    entry = next(e for e in zoo_run["entries"] if e.student == student)
    result = zoo_run["results"][student]
    check_entry(entry, result, zoo_run["mode"])
    if zoo_run["mode"] == "fallback":
        assert result["extra_data"]["sandbox"].startswith("WARNING: no bubblewrap sandbox"), result["extra_data"]
    else:
        assert result["extra_data"]["sandbox"].startswith("bubblewrap sandbox"), result["extra_data"]


def test_zoo_sandbox_note_once(zoo_run):
    err = zoo_run["proc"].stderr + zoo_run["proc"].stdout
    if zoo_run["mode"] == "fallback":
        assert err.count("WARNING: no bubblewrap sandbox") == 1, err[-3000:]
    else:
        assert "WARNING: no bubblewrap" not in err
        assert err.count("bubblewrap sandbox:") == 1


def test_zoo_no_leftover_process(zoo_run):
    assert not zoo_run["leftovers"], zoo_run["leftovers"]
    assert_no_leftovers()


def test_zoo_no_changed_file(zoo_run):
    zoo, out = zoo_run["zoo"], zoo_run["out"]
    if zoo_run["mode"] == "fallback":
        # Documented limitation: without bubblewrap the child has the grader's own file permissions
        # (here root), so a_write_files can write where the grader can; the run warns about it, and the
        # attacker's own score is still 0 (asserted in test_zoo_entry).
        assert "without filesystem or network isolation" in zoo_run["results"]["victim"]["extra_data"]["sandbox"]
        pytest.skip("no filesystem isolation without bubblewrap (warned in the output and in extra_data)")
    after = {p.name: sha(p) for p in zoo.iterdir()}
    assert after == zoo_run["before"]
    expected = {f"{s}.json" for s in ZOO_NAMES} | {f"{s}.feedback.md" for s in ZOO_NAMES} | {"grades.csv", "report.html"}
    assert {p.name for p in out.iterdir()} - expected == set()
    assert expected - {p.name for p in out.iterdir()} == set()
    writer = zoo_run["results"]["a_write_files"]
    assert writer["extra_data"]["student"] == "a_write_files" and writer["score"] == 0
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["student", *QUESTIONS, "total", "max_total", "status"]
    by_student = {r[0]: r for r in rows[1:]}
    assert set(by_student) == set(ZOO_NAMES)
    for student, result in zoo_run["results"].items():
        assert float(by_student[student][len(QUESTIONS) + 1]) == pytest.approx(result["score"], abs=0.006)
    for odd in ("kim min su", "lee, ji-eun", "홍길동 2024"):
        assert (out / f"{odd}.json").exists() and (out / f"{odd}.feedback.md").exists()
        assert by_student[odd][len(QUESTIONS) + 1] == FULL


def test_zoo_network(zoo_run):
    if zoo_run["mode"] == "bwrap":
        assert zoo_run["connections"] == 0
    else:  # documented: the fallback has no network isolation (and says so)
        assert zoo_run["connections"] >= 1


def test_zoo_output_capped(zoo_run):
    result = zoo_run["results"]["f_print_100mb"]
    assert len(json.dumps(result)) < 200_000
    assert (zoo_run["out"] / "f_print_100mb.json").stat().st_size < 200_000


# -- time limits, in this process with small limits, in both modes -------------------------------------
SMALL = dict(cell_seconds=2.0, call_seconds=0.5, question_seconds=30.0)
CONFIG = {}


@pytest.fixture(params=["bwrap", "fallback"])
def mode(request):
    if request.param == "bwrap" and not sandbox.bwrap_available():
        pytest.skip("bubblewrap cannot run on this machine")
    config = sandbox.GraderConfig.from_env(isolation="process" if request.param == "fallback" else "auto")
    CONFIG["now"] = config.with_limits(**SMALL)
    yield request.param
    CONFIG.clear()


def _grade(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    started = time.monotonic()
    result = grading.grade_file(str(path), assignment=ASSIGNMENT, config=CONFIG["now"])
    return result, time.monotonic() - started


# Function-level loops go into XOR (5 cases, no question timeout of its own), to keep the suite short.
TIMING = {
    "infinite_loop_in_function": (with_fn(CORRECT, "XOR", "def XOR(x1, x2):\n    while True:\n        pass"),
                                  ("XOR",), "ran longer than"),
    "infinite_loop_top_level": (CORRECT + "\nwhile True:\n    pass\n", (), "Timeout"),
    "sleep_top_level": (CORRECT + "\nimport time\ntime.sleep(10 ** 6)\n", (), "Timeout"),
    "ignores_alarm_and_term": (with_fn(CORRECT, "XOR", '''
def XOR(x1, x2):
    import signal
    for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)
    while True:
        pass'''), ("XOR",), "ran longer than"),
    "catches_timeout": (with_fn(CORRECT, "XOR", '''
def XOR(x1, x2):
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue'''), ("XOR",), "ran longer than"),
    "spawns_then_loops": (SPAWN_MARKED + with_fn(CORRECT, "XOR", '''
def XOR(x1, x2):
    _spawn_marked()
    while True:
        pass'''), ("XOR",), "ran longer than"),
}


@pytest.mark.parametrize("name", sorted(TIMING))
def test_time_limits(mode, tmp_path, name):
    source, lost, message = TIMING[name]
    result, elapsed = _grade(tmp_path, name, source)
    got = scores(result)
    for q in QUESTIONS:
        assert got[q] == (0 if q in lost else POINTS[q]), (name, mode, got, feedback(result))
    assert message in feedback(result), feedback(result)  # the limit cut it (no wall-clock bound here)
    if mode == "fallback":
        assert result["extra_data"]["sandbox"].startswith("WARNING: no bubblewrap sandbox")
    assert_no_leftovers()


def test_fork_bomb_capped_and_cleaned(mode, tmp_path):
    """An exponential fork bomb in one function: that question only, and nothing survives."""
    source = with_fn(CORRECT, "XOR", f'''
def XOR(x1, x2):
    import os, time
    os.environ["AG_MARK"] = "{MARK}"
    for _ in range(12):
        try:
            os.fork()
        except OSError:
            pass
    time.sleep(30)''')
    result, elapsed = _grade(tmp_path, "fork_bomb", source)
    got = scores(result)
    assert got["XOR"] == 0 and all(got[q] == POINTS[q] for q in _others("XOR")), got
    time.sleep(0.5)
    survivors = []
    for p in psutil.process_iter(["pid", "environ"]):
        try:
            if (p.info["environ"] or {}).get("AG_MARK") == MARK:
                survivors.append(p.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    assert not survivors
    # an idle warm sandbox (zygote) keeps its own cgroup (the student's processes in it are gone,
    # checked above): after the pool is shut down, no cgroup of this process is left
    from autograder import sandbox as sandbox_module
    sandbox_module.POOL.shutdown()
    assert not glob.glob(f"/sys/fs/cgroup/pids/autograder-{os.getpid()}-*")


# -- nothing lost: SIGKILL in the middle, run again ------------------------------------------------
def test_sigkill_then_resume(tmp_path):
    subs, out = tmp_path / "class", tmp_path / "out"
    subs.mkdir()
    slow = CORRECT + "\nimport time\ntime.sleep(2)\n"
    for i in range(8):
        src = slow if i % 2 else with_fn(CORRECT, "train_perceptron", "")
        (subs / f"s{i} 학생, {i}.py").write_text(src, encoding="utf-8")
    cmd = ([AUTOGRADER] if AUTOGRADER else [sys.executable, "-m", "autograder"]) + \
        ["grade", ASSIGNMENT, str(subs), "--out", str(out), "-j", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(REPO))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if out.exists() and len(list(out.glob("*.json"))) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert 2 <= len(first) < 8, first
    for p in out.iterdir():  # whole files only, even right after the kill
        if p.name.endswith(".json"):
            json.loads(p.read_text(encoding="utf-8"))
    time.sleep(0.05)
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{len(first)} already graded" in done.stderr
    final = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert len(final) == 8
    for name, mtime in first.items():
        assert final[name] == mtime, name
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 9
    for row in rows[1:]:
        i = int(row[0][1])
        assert row[0] == f"s{i} 학생, {i}"
        assert row[len(QUESTIONS) + 1] == (FULL if i % 2 else NO_TRAINING)
    for p in out.glob("*.json"):
        json.loads(p.read_text(encoding="utf-8"))
        assert p.with_suffix(".feedback.md").exists(), p.name
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_interrupted_writes_are_redone_and_cleaned(tmp_path):
    """The kill in test_sigkill_then_resume lands wherever it lands; here each place is made on
    purpose: inside the feedback's write, between the feedback and the JSON, inside grades.csv's."""
    from autograder import batch, results
    subs, out = tmp_path / "class", tmp_path / "out"
    subs.mkdir()
    for i in range(3):
        (subs / f"s{i}.py").write_text(CORRECT, encoding="utf-8")
    first, failures = batch.grade_class(ASSIGNMENT, [str(subs)], str(out), jobs=2, quiet=True)
    assert not failures and len(first) == 3
    kept = (out / "s2.json").stat().st_mtime_ns
    dead = _dead_pid()
    # s0: killed while its feedback was being written (nothing of s0 is whole yet)
    (out / "s0.json").unlink()
    (out / "s0.feedback.md").unlink()
    (out / f".s0.feedback.md.{dead}.1.tmp").write_text("# half", encoding="utf-8")
    # s1: killed after its feedback, before its JSON
    (out / "s1.json").unlink()
    # grades.csv: killed while rewriting it
    (out / f".grades.csv.{dead}.2.tmp").write_text("student,", encoding="utf-8")
    # another run still writing (a living process): its temporary file is not ours to remove
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_tmp = out / f".s9.json.{alive.pid}.3.tmp"
        live_tmp.write_text("{", encoding="utf-8")
        assert set(results.load_finished(str(out), ASSIGNMENT)) == {"s2"}
        again, failures = batch.grade_class(ASSIGNMENT, [str(subs)], str(out), jobs=2, quiet=True)
        assert not failures
        assert live_tmp.exists()
    finally:
        alive.kill()
        alive.wait()
    live_tmp.unlink()
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []
    assert (out / "s2.json").stat().st_mtime_ns == kept  # not regraded
    for i in range(3):
        result = json.loads((out / f"s{i}.json").read_text(encoding="utf-8"))
        assert result["score"] == SPEC.max_score
        assert "# half" not in (out / f"s{i}.feedback.md").read_text(encoding="utf-8")
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.reader(fh))) == 4


def test_result_json_written_last(tmp_path, monkeypatch):
    """A run dying between a student's files leaves that student ungraded, never graded without
    feedback (the JSON is what a resumed run counts)."""
    from autograder import results
    src = tmp_path / "kim.py"
    src.write_text(CORRECT, encoding="utf-8")
    result = grading.grade_file(str(src), assignment=ASSIGNMENT, student="kim")
    src.unlink()
    real = results.atomic_write

    def dies_on_json(path, data, mode="w"):
        if path.endswith(".json"):
            raise KeyboardInterrupt
        real(path, data, mode)

    monkeypatch.setattr(results, "atomic_write", dies_on_json)
    with pytest.raises(KeyboardInterrupt):
        results.write_result(str(tmp_path), result)
    assert (tmp_path / "kim.feedback.md").exists()
    assert results.load_finished(str(tmp_path), ASSIGNMENT) == {}


def test_running_csv_follows_the_run_without_reading_files_back(tmp_path, monkeypatch):
    """grades.csv during a run comes from the results in memory (no JSON is read back per student),
    at most once per interval; its rows are those the final write_csv makes from the files."""
    from autograder import results
    made = []
    for i, source in enumerate((CORRECT, with_fn(CORRECT, "train_perceptron", ""))):
        src = tmp_path / f"s{i}.py"
        src.write_text(source, encoding="utf-8")
        r = grading.grade_file(str(src), assignment=ASSIGNMENT, student=f"s{i}")
        made.append(r)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(results, "load_finished", lambda *a, **k: pytest.fail("read back during the run"))
    running = results.RunningCsv(str(out), list(QUESTIONS), [], every=3600)
    running.add(made[0])
    first = (out / "grades.csv").read_text(encoding="utf-8")
    assert first.count("\n") == 2 and first.splitlines()[1].startswith("s0,")
    running.add(made[1])   # within the interval: not rewritten yet
    assert (out / "grades.csv").read_text(encoding="utf-8") == first
    running.every = 0
    running.add(made[1])
    during = (out / "grades.csv").read_text(encoding="utf-8")
    monkeypatch.undo()
    for r in made:
        results.write_result(str(out), r)
    results.write_csv(str(out), ASSIGNMENT, list(QUESTIONS))
    assert (out / "grades.csv").read_text(encoding="utf-8") == during
    assert during.splitlines()[1].split(",")[len(QUESTIONS) + 1] == FULL
    assert during.splitlines()[2].split(",")[len(QUESTIONS) + 1] == NO_TRAINING
    # it keeps each student's row, not the result: the grading process does not grow with the class
    kept = [v for value in vars(running).values() for v in (value.values() if isinstance(value, dict) else [value])]
    assert not any(isinstance(v, results.SubmissionResult) for v in kept)
    assert all(isinstance(cell, str) for row in running.rows.values() for cell in row)
