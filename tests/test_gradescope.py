"""The Gradescope autograder zip (`autograder gradescope`) and its runner.

The zip is built, unpacked under a temporary GRADESCOPE_ROOT as Gradescope lays it out
(source/ = the zip, run_autograder copied beside it, submission/, results/), set up with
AUTOGRADER_SKIP_INSTALL=1 (no apt-get, no pip: the repository's .venv python is first on PATH),
and its run_autograder is run on sample submissions; every results.json is checked field by field
against Gradescope's format with gradescope.validate_results and against the spec.
"""
import inspect
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import cli, grading, gradescope
from autograder import spec as specmod
from autograder.authoring import solution_bodies

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_perceptron"   # hidden cases on most questions; bob fails a public and two hidden ones
SAMPLES = REPO / "samples" / ASSIGNMENT
VENV_BIN = REPO / ".venv" / "bin" if (REPO / ".venv" / "bin" / "python3").exists() else Path(sys.executable).parent

pytestmark = pytest.mark.xdist_group("gradescope")

HAS_HIDDEN_ENTRIES = "hidden_visibility" in inspect.signature(grading.grade_file).parameters
needs_hidden_entries = pytest.mark.xfail(not HAS_HIDDEN_ENTRIES, strict=False,
                                         reason="waiting for the lead's hidden entries (grade_file(hidden_visibility=...))")


# ---- helpers ----------------------------------------------------------------------------------
def _env(root, **extra):
    env = dict(os.environ)
    env.update(GRADESCOPE_ROOT=str(root), AUTOGRADER_SKIP_INSTALL="1",
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}")
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def unpack(zip_path, root):
    """The zip as Gradescope lays it out: extracted to root/source (modes kept), run_autograder
    copied to root/run_autograder."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = source / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    return root


def setup(root):
    return subprocess.run(["bash", str(root / "source" / "setup.sh")], env=_env(root), cwd=root,
                          capture_output=True, text=True, timeout=600)


def run_autograder(root, files=None, env=None):
    """Fill root/submission with {relative name: bytes or a path to copy}, run run_autograder and
    return (results.json parsed, the finished process)."""
    sub = root / "submission"
    if sub.exists():
        shutil.rmtree(sub)
    sub.mkdir()
    for name, content in (files or {}).items():
        target = sub / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    proc = subprocess.run([str(root / "run_autograder")], env=env or _env(root), cwd=root,
                          capture_output=True, text=True, timeout=600)
    path = root / "results" / "results.json"
    assert path.is_file(), f"no results.json\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    with open(path, encoding="utf-8") as fh:
        doc = json.loads(fh.read(), parse_constant=lambda c: pytest.fail(f"results.json holds {c}"))
    return doc, proc


def check_results(doc, spec):
    """Field by field, what every results.json of this harness must be (Gradescope's format and
    grading.md's contract)."""
    assert gradescope.validate_results(doc) == []
    assert set(doc) <= gradescope.TOP_KEYS
    assert doc["stdout_visibility"] == "hidden"
    assert doc["output_format"] in gradescope.FORMATS
    assert isinstance(doc["score"], (int, float)) and isinstance(doc["output"], str)
    assert isinstance(doc["execution_time"], (int, float)) and doc["execution_time"] >= 0
    assert doc["extra_data"]["assignment"] == spec.name
    tests = doc["tests"]
    assert abs(sum(t["score"] for t in tests) - doc["score"]) < 1e-6
    assert abs(sum(t["max_score"] for t in tests) - spec.max_score) < 1e-6
    names = {f"{spec.name}.{q.name}" for q in spec.questions}
    for t in tests:
        assert set(t) <= gradescope.TEST_KEYS
        assert t["status"] in ("passed", "failed")
        assert t["visibility"] in gradescope.VISIBILITIES
        assert 0 <= t["score"] <= t["max_score"] + 1e-9
        assert (t["status"] == "passed") == (t["score"] >= t["max_score"] - 1e-9)
        base = t["name"][:-len(" (hidden)")] if t["name"].endswith(" (hidden)") else t["name"]
        assert base in names, t["name"]
        assert isinstance(t["extra_data"], dict)
    return {t["name"]: t for t in tests}


def by_question(tests):
    """{question: total score over its visible and hidden entries}."""
    out = {}
    for t in tests.values():
        q = t["extra_data"].get("question") or t["name"].split(".", 1)[1].removesuffix(" (hidden)")
        out[q] = out.get(q, 0.0) + t["score"]
    return out


@pytest.fixture(scope="module")
def spec():
    return specmod.load_spec(ASSIGNMENT)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The default zip (hidden entries after_published), built through the command line."""
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    assert cli.main(["gradescope", ASSIGNMENT, "--out", str(out)]) == cli.EXIT_OK
    return out


@pytest.fixture(scope="module")
def root(built, tmp_path_factory):
    """The default zip unpacked and set up (install steps skipped)."""
    root = unpack(built, tmp_path_factory.mktemp("autograder"))
    proc = setup(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


# ---- the zip ------------------------------------------------------------------------------------
def test_zip_layout_and_contents(built, spec):
    with zipfile.ZipFile(built) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        texts = {n: zf.read(n) for n in infos}
    names = set(infos)
    # Gradescope's two files at the root of the archive, executable
    for name in ("setup.sh", "run_autograder"):
        assert name in names
        assert (infos[name].external_attr >> 16) & 0o111, f"{name} is not executable"
        assert texts[name].startswith(b"#!/usr/bin/env bash")
    adir = f"autograder/assignments/{ASSIGNMENT}"
    assert {f"{adir}/spec.py", f"{adir}/references/public.json", f"{adir}/references/hidden.json",
            "autograder/grading.py", "autograder/gradescope.py", f"assignments/{ASSIGNMENT}.ipynb",
            "requirements.txt", "gradescope.json"} <= names
    # the grader-only files of the assignment travel too (hidden helpers, the course secret)
    for path in (REPO / "autograder" / "assignments" / ASSIGNMENT).iterdir():
        if path.name == "hidden.py" or path.name.startswith("secret"):
            assert f"{adir}/{path.name}" in names
    # only this assignment: no other assignment's specs or hidden references
    others = [n for n in names if n.startswith("autograder/assignments/") and n.count("/") > 2
              and not n.startswith(adir + "/")]
    assert others == []
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    # instructor-side files that quote the solution or weave it stay home
    assert f"{adir}/samples.py" not in names
    assert not {"autograder/authoring.py", "autograder/nbgrader_bridge.py", "autograder/release.py"} & names
    config = json.loads(texts["gradescope.json"])
    assert config == {"assignment": ASSIGNMENT, "hidden_visibility": "after_published", "lang": "en"}
    assert b"numpy" in texts["requirements.txt"]
    # setup.sh: bubblewrap through apt-get, the package's needs through pip, both skippable; the
    # source locked to root afterwards
    setup_sh = texts["setup.sh"].decode()
    assert "AUTOGRADER_SKIP_INSTALL" in setup_sh and "apt-get install" in setup_sh and "bubblewrap" in setup_sh
    assert "pip install" in setup_sh and "requirements.txt" in setup_sh
    assert 'chmod -R go-rwx "$SRC"' in setup_sh
    assert "GRADESCOPE_ROOT" in setup_sh and "GRADESCOPE_ROOT" in texts["run_autograder"].decode()


def test_zip_holds_no_solutions_but_the_graders_own(built):
    """The assignment's solution travels only as the grader's file solutions/<assignment>.py (it serves
    injected helpers, locked to root by setup.sh); no other member holds any of its code."""
    with zipfile.ZipFile(built) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    assert f"solutions/{ASSIGNMENT}.py" in members
    members.pop(f"solutions/{ASSIGNMENT}.py")
    assert not any(n.startswith("solutions/") or "/solutions/" in n for n in members)
    solution = (REPO / "solutions" / f"{ASSIGNMENT}.py").read_text(encoding="utf-8")

    def flat(text):
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())

    bodies = [flat(b) for b in solution_bodies(solution).values()]
    bodies = [b for b in bodies if "\n" in b or len(b) >= 30]
    assert len(bodies) >= 5   # the check has something to look for
    for name, data in members.items():
        text = data.decode("utf-8", errors="replace")
        assert flat(solution) not in flat(text), name
        assert "### BEGIN SOLUTION" not in text or name.startswith("autograder/"), name
        if Path(name).name == "hidden.py":   # grader-only helpers: reference code on purpose
            continue
        for body in bodies:
            assert body not in flat(text), f"{name} holds the solution's code:\n{body}"


def test_the_leak_check_can_fail(spec):
    members = gradescope.zip_members(ASSIGNMENT)
    assert gradescope.check_members(members, ASSIGNMENT) == []
    solution = (REPO / "solutions" / f"{ASSIGNMENT}.py").read_bytes()
    leaked = dict(members)
    leaked["solutions/02_xor_mlp.py"] = (solution, 0o644)
    assert any("solutions/" in p for p in gradescope.check_members(leaked, ASSIGNMENT))
    woven = dict(members)
    woven[f"assignments/{ASSIGNMENT}.ipynb"] = ((SAMPLES / "alice.ipynb").read_bytes(), 0o644)
    assert any("solution source text" in p for p in gradescope.check_members(woven, ASSIGNMENT))


def test_data_files_of_the_spec_travel(tmp_path):
    keras = specmod.load_spec("05_keras_tanh")
    members = gradescope.zip_members("05_keras_tanh")
    for rel in keras.data_files.values():
        assert members[rel][0] == (REPO / rel).read_bytes()
    assert b"keras" in members["requirements.txt"][0]
    assert not any(n.startswith("data/") for n in gradescope.zip_members(ASSIGNMENT))


def test_cli_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["gradescope", "99_nothing", "--out", str(tmp_path / "a.zip")])
    assert exc.value.code == cli.EXIT_USAGE
    with pytest.raises(SystemExit) as exc:
        cli.main(["gradescope", ASSIGNMENT, "--out", str(tmp_path / "a.zip"), "--hidden-visibility", "visible"])
    assert exc.value.code == cli.EXIT_USAGE
    assert not (tmp_path / "a.zip").exists()


def test_setup_locks_the_source_to_root(root):
    assert (root / "run_autograder").is_file()
    for folder, dirs, files in os.walk(root / "source"):
        for name in dirs + files:
            mode = os.stat(os.path.join(folder, name)).st_mode
            assert mode & 0o077 == 0, f"{name} is open to others: {stat.filemode(mode)}"


@pytest.mark.slow
@pytest.mark.keras
def test_keras_exercise_reads_its_data_with_the_source_locked(tmp_path):
    """05_keras_tanh: its dataset2.csv stays readable by student code (an unprivileged user) after
    setup.sh locks the rest of the source, and the correct notebook gets full marks."""
    pytest.importorskip("keras")
    keras = specmod.load_spec("05_keras_tanh")
    out = tmp_path / "05.zip"
    gradescope.build_zip("05_keras_tanh", out)
    root = unpack(out, tmp_path / "ag")
    proc = setup(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = {root / "source" / rel for rel in keras.data_files.values()}
    assert data
    for path in data:
        assert os.stat(path).st_mode & 0o004
    for folder, dirs, files in os.walk(root / "source"):
        for name in files:
            path = Path(folder) / name
            if path not in data:
                assert os.stat(path).st_mode & 0o077 == 0, path
        for name in dirs:
            assert os.stat(Path(folder) / name).st_mode & 0o066 == 0, name   # never listable
    doc, _ = run_autograder(root, {"05.ipynb": REPO / "samples" / "05_keras_tanh" / "alice.ipynb"})
    tests = check_results(doc, keras)
    assert doc["score"] == pytest.approx(keras.max_score), {n: (t["score"], t["output"][:200]) for n, t in tests.items()
                                                            if t["status"] == "failed"}


# ---- run_autograder -------------------------------------------------------------------------
def test_correct_submission(root, spec):
    files = {"my homework (final).ipynb": SAMPLES / "alice.ipynb",
             ".ipynb_checkpoints/my homework-checkpoint.ipynb": SAMPLES / "bob.ipynb",
             "notes.txt": b"not graded"}
    doc, proc = run_autograder(root, files)
    assert proc.returncode == 0
    tests = check_results(doc, spec)
    assert doc["extra_data"]["status"] == "graded"
    assert doc["extra_data"]["submitted_file"] == "my homework (final).ipynb"
    assert doc["score"] == spec.max_score, {n: t["score"] for n, t in tests.items()}
    assert all(t["status"] == "passed" for t in tests.values())
    assert set(by_question(tests)) == {q.name for q in spec.questions}
    assert os.stat(root / "results").st_mode & 0o077 == 0


def test_mistaken_submission(root, spec):
    doc, proc = run_autograder(root, {"bob.ipynb": SAMPLES / "bob.ipynb"})
    assert proc.returncode == 0
    tests = check_results(doc, spec)
    assert doc["extra_data"]["status"] == "graded"
    assert 0 < doc["score"] < spec.max_score
    failed = [t for t in tests.values() if t["status"] == "failed"]
    assert failed and all("✗" in t["output"] for t in failed)
    assert any(t["name"].startswith(f"{ASSIGNMENT}.step") for t in failed)   # `>=` where the slides say `>`
    # the same harness: every question that needs no reference helper scores as `grade` scores it here
    here = grading.grade_file(str(SAMPLES / "bob.ipynb"), assignment=ASSIGNMENT, include_hidden=True)
    own = {q.name for q in spec.questions if not q.inject}
    zipped, local = by_question(tests), by_question({t["name"]: t for t in here["tests"]})
    assert {q: zipped[q] for q in own} == pytest.approx({q: local[q] for q in own})


def test_mistaken_submission_scores_as_grade_does(root, spec):
    doc, _ = run_autograder(root, {"bob.ipynb": SAMPLES / "bob.ipynb"})
    here = grading.grade_file(str(SAMPLES / "bob.ipynb"), assignment=ASSIGNMENT, include_hidden=True)
    assert by_question(check_results(doc, spec)) == pytest.approx(by_question({t["name"]: t for t in here["tests"]}))


@needs_hidden_entries
def test_hidden_cases_in_entries_of_their_own(root, spec):
    doc, _ = run_autograder(root, {"bob.ipynb": SAMPLES / "bob.ipynb"})
    tests = check_results(doc, spec)
    for q in spec.questions:
        visible = tests[f"{ASSIGNMENT}.{q.name}"]
        assert visible["visibility"] == "visible"
        assert all(c["public"] for c in visible["extra_data"].get("cases", []))
        hidden = tests.get(f"{ASSIGNMENT}.{q.name} (hidden)")
        if q.hidden_cases is None:
            assert hidden is None
            continue
        assert hidden is not None, q.name
        assert hidden["visibility"] == "after_published"
        assert hidden["extra_data"]["question"] == q.name
        assert not any(c["public"] for c in hidden["extra_data"].get("cases", []))
    step_hidden = tests[f"{ASSIGNMENT}.step (hidden)"]
    assert step_hidden["status"] == "failed"        # -0.0 and 0 among the hidden cases
    assert tests[f"{ASSIGNMENT}.step"]["status"] == "failed"   # z=0.0 among the public ones


@needs_hidden_entries
def test_hidden_visibility_flag(tmp_path, spec):
    out = tmp_path / "due.zip"
    assert cli.main(["gradescope", ASSIGNMENT, "--out", str(out), "--hidden-visibility", "after_due_date"]) == 0
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("gradescope.json"))["hidden_visibility"] == "after_due_date"
    root = unpack(out, tmp_path / "ag")
    doc, _ = run_autograder(root, {"bob.ipynb": SAMPLES / "bob.ipynb"})
    tests = check_results(doc, spec)
    hidden = [t for t in tests.values() if t["name"].endswith(" (hidden)")]
    assert hidden and all(t["visibility"] == "after_due_date" for t in hidden)
    assert all(t["visibility"] == "visible" for t in tests.values() if t not in hidden)


def test_python_file_submission(root, spec):
    """The notebook saved as a .py in the percent format (`# %%` between cells: VS Code, jupytext)."""
    nb = nbformat.read(SAMPLES / "alice.ipynb", as_version=4)
    code = "".join(f"# %%\n{c.source}\n\n" for c in nb.cells if c.cell_type == "code")
    doc, _ = run_autograder(root, {"hw1.py": code.encode()})
    check_results(doc, spec)
    assert doc["extra_data"]["status"] == "graded"
    assert doc["score"] == spec.max_score


def test_empty_submission(root, spec):
    for files in ({}, {"README.txt": b"I forgot the notebook"}):
        doc, proc = run_autograder(root, files)
        assert proc.returncode == 0
        check_results(doc, spec)
        assert doc["score"] == 0
        assert doc["extra_data"]["status"] == "no_submission"
        assert "Nothing to grade" in doc["output"] and f"{ASSIGNMENT}.ipynb" in doc["output"]
        assert all(t["score"] == 0 and t["output"] == doc["output"] for t in doc["tests"])


def test_several_notebooks_are_not_guessed(root, spec):
    doc, _ = run_autograder(root, {"a.ipynb": SAMPLES / "alice.ipynb", "b.ipynb": SAMPLES / "bob.ipynb"})
    check_results(doc, spec)
    assert doc["score"] == 0 and doc["extra_data"]["status"] == "ambiguous_submission"
    assert "a.ipynb" in doc["output"] and "b.ipynb" in doc["output"]


def test_notebook_of_another_assignment(root, spec):
    doc, _ = run_autograder(root, {"hw.ipynb": REPO / "samples" / "03_backprop" / "alice.ipynb"})
    check_results(doc, spec)
    assert doc["score"] == 0 and doc["extra_data"]["status"] == "wrong_assignment"
    assert "03_backprop" in doc["output"]


def _prober(paths):
    """alice's notebook with a first cell that tries to read each of `paths` and prints what happened."""
    nb = nbformat.read(SAMPLES / "alice.ipynb", as_version=4)
    code = (f"_paths = {[str(p) for p in paths]!r}\n"
            "for _p in _paths:\n"
            "    try:\n"
            "        with open(_p, 'rb') as _f:\n"
            "            print('READ', len(_f.read()))\n"
            "    except Exception as _e:\n"
            "        print('DENIED', type(_e).__name__)\n")
    nb.cells.insert(0, nbformat.v4.new_code_cell(code))
    return nbformat.writes(nb).encode()


@pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs as root; the unprivileged fallback needs root")
def test_without_bubblewrap_student_code_cannot_read_the_source(built, spec):
    """As on Gradescope (root, no bubblewrap): student code runs as an unprivileged user, and once
    setup.sh has locked the source it cannot read the references or the course files; before, it
    could (the probe works). The folders above GRADESCOPE_ROOT are open, as /autograder's are."""
    base = Path(tempfile.mkdtemp(prefix="gradescope-root-"))
    # Gradescope's Python lives in /usr; this machine's may sit under /root (0700), which no
    # unprivileged user can enter: open /root for traversal only (no listing) while the test runs.
    opened = None
    home = Path("/root")
    if os.geteuid() == 0 and str(Path(sys.base_prefix).resolve()).startswith("/root/") and not home.stat().st_mode & 0o001:
        opened = home.stat().st_mode & 0o7777
        home.chmod(opened | 0o001)
    try:
        base.chmod(0o755)
        root = unpack(built, base)
        (root / "source").chmod(0o755)
        secret = [root / "source" / "autograder" / "assignments" / ASSIGNMENT / "references" / "hidden.json",
                  root / "source" / "gradescope.json"]
        env = _env(root, AUTOGRADER_NO_BWRAP="1")
        before, _ = run_autograder(root, {"hw.ipynb": _prober(secret)}, env=env)
        if "grader's own user" in before["extra_data"].get("sandbox", ""):
            # the drop needs an interpreter the unprivileged uid can reach (Gradescope's is in /usr); a
            # Python under a folder only root may enter (here: /root, 0700) cannot, and the result says so
            pytest.xfail("this machine's Python is out of an unprivileged user's reach: " + before["extra_data"]["sandbox"])
        assert before["output"].count("READ") == len(secret), before["output"]
        assert setup(root).returncode == 0
        after, _ = run_autograder(root, {"hw.ipynb": _prober(secret)}, env=env)
        check_results(after, spec)
        assert after["score"] == spec.max_score       # grading itself still works with the source locked
        assert "READ" not in after["output"] and after["output"].count("DENIED PermissionError") == len(secret)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        if opened is not None:
            home.chmod(opened)


def test_harness_failure_is_a_results_json(built, tmp_path, spec):
    root = unpack(built, tmp_path / "ag")
    (root / "source" / "autograder" / "assignments" / ASSIGNMENT / "references" / "public.json").unlink()
    doc, proc = run_autograder(root, {"alice.ipynb": SAMPLES / "alice.ipynb"})
    assert proc.returncode == 0
    check_results(doc, spec)
    assert doc["score"] == 0 and doc["extra_data"]["status"] == "harness_error"
    assert "autograder itself failed" in doc["output"]
    assert "public.json" in doc["extra_data"]["error"] or "FileNotFoundError" in doc["extra_data"]["error"]
    assert "Traceback" in proc.stdout + proc.stderr    # the details, for the instructor's stdout


def test_a_runner_that_dies_still_leaves_a_results_json(built, tmp_path):
    root = unpack(built, tmp_path / "ag")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\nexit 3\n")
    (fake / "python3").chmod(0o755)
    env = _env(root, PATH=f"{fake}{os.pathsep}{os.environ.get('PATH', '')}")
    doc, proc = run_autograder(root, {"alice.ipynb": SAMPLES / "alice.ipynb"}, env=env)
    assert proc.returncode == 0
    assert gradescope.validate_results(doc) == []
    assert doc["score"] == 0 and doc["extra_data"] == {"assignment": ASSIGNMENT, "status": "harness_error",
                                                       "exit_code": 3}
    assert "autograder itself failed" in doc["output"]


# ---- the schema -------------------------------------------------------------------------------
GOOD = {"score": 7.5, "execution_time": 1.2, "output": "ok", "output_format": "text", "test_output_format": "md",
        "test_name_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "extra_data": {"a": 1},
        "tests": [{"score": 7.5, "max_score": 10, "status": "failed", "name": "q1", "name_format": "text",
                   "number": "1.1", "output": "✗ case", "output_format": "ansi", "tags": ["t"],
                   "visibility": "after_published", "extra_data": {}}],
        "leaderboard": [{"name": "Accuracy", "value": 0.9}, {"name": "Time", "value": 3, "order": "asc"}]}


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.update(max_score=10), "'max_score' is not a Gradescope field"),
    (lambda d: d.update(score=float("nan")), "score nan is not a finite number"),
    (lambda d: d.update(score=True), "score True"),
    (lambda d: d.pop("score") and d["tests"][0].pop("score"), "no score"),
    (lambda d: d.update(visibility="students"), "visibility 'students'"),
    (lambda d: d.update(stdout_visibility="always"), "stdout_visibility 'always'"),
    (lambda d: d.update(output_format="markdown"), "output_format 'markdown'"),
    (lambda d: d.update(extra_data=[]), "extra_data is not an object"),
    (lambda d: d.update(tests={}), "tests is not a list"),
    (lambda d: d["tests"][0].update(status="partial"), "status 'partial'"),
    (lambda d: d["tests"][0].update(visibility="after_grading"), "visibility 'after_grading'"),
    (lambda d: d["tests"][0].update(number=1.1), "number is not a string"),
    (lambda d: d["tests"][0].update(tags="t"), "tags is not a list of strings"),
    (lambda d: d["tests"][0].update(max_score="10"), "max_score '10'"),
    (lambda d: d["tests"][0].update(functions=["f"]), "'functions' is not a Gradescope test field"),
    (lambda d: d["leaderboard"].append({"name": "x", "value": 1, "order": "up"}), "leaderboard[2]"),
    (lambda d: d["extra_data"].update(x=float("inf")), "not strict JSON"),
])
def test_validator_names_each_violation(change, expected):
    assert gradescope.validate_results(json.loads(json.dumps(GOOD))) == []
    doc = json.loads(json.dumps(GOOD))
    change(doc)
    problems = gradescope.validate_results(doc)
    assert any(expected in p for p in problems), problems


def test_to_results_json_moves_unknown_fields_under_extra_data():
    import numpy as np
    result = {"score": np.float64(3.0), "max_score": 10, "output": "", "extra_data": {"student": "s"},
              "tests": [{"name": "a.q", "score": 3.0, "max_score": 10, "status": "failed",
                         "functions": ["f"], "extra_data": {"err": float("nan")}}]}
    doc = gradescope.to_results_json(result)
    assert gradescope.validate_results(doc) == []
    assert doc["extra_data"] == {"student": "s", "max_score": 10}
    assert doc["stdout_visibility"] == "hidden" and doc["output_format"] == "text"
    assert doc["tests"][0]["extra_data"] == {"err": "nan", "functions": ["f"]}
    assert type(doc["score"]) is float
    assert "max_score" in result   # the harness's own result is left alone


def test_zip_holds_neither_the_course_secret_nor_the_hidden_generators(built):
    """The hidden references are drawn already: the secret they came from stays in the repository, and
    the spec's hidden generators are stubbed out, so nothing in the zip regenerates hidden inputs."""
    from autograder.release import HIDDEN_STUB
    with zipfile.ZipFile(built) as zf:
        names = zf.namelist()
        spec_py = zf.read(f"autograder/assignments/{ASSIGNMENT}/spec.py").decode("utf-8")
    assert not [n for n in names if Path(n).name.startswith("secret")]
    assert f"autograder/assignments/{ASSIGNMENT}/references/hidden.json" in names
    assert HIDDEN_STUB in spec_py
    import ast
    for node in ast.walk(ast.parse(spec_py)):
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_hidden") and "rng" in [a.arg for a in node.args.args]:
            body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
            assert len(body) == 1 and isinstance(body[0], ast.Raise), node.name
