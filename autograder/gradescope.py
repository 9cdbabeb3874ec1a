"""Gradescope: `autograder gradescope ASSIGNMENT --out FILE.zip` builds the autograder zip, and
`python -m autograder.gradescope run` is what its `run_autograder` calls for each submission.

The zip (Gradescope extracts it to /autograder/source) holds `setup.sh`, `run_autograder`, the
`autograder` package with this one assignment's folder (spec, public and hidden references, the
grader-only helpers and course secret where the assignment has them), the released notebook as the
template, the data files the spec names, `requirements.txt` and `gradescope.json` (the
assignment and the visibility of the hidden entries), and `solutions/<assignment>.py` alone: the
trusted grader serves reference helpers from it where a student's own helper fails its question
(injection; never sent to a sandbox). setup.sh makes the whole source readable by root only, and
student code runs as an unprivileged user, so no student process can read it.

The environment variable GRADESCOPE_ROOT replaces /autograder everywhere (setup.sh,
run_autograder, this module), so that tests run the whole thing in a temporary folder;
AUTOGRADER_SKIP_INSTALL=1 makes setup.sh skip its apt-get and pip steps.

`validate_results(doc)` checks a results.json against Gradescope's documented format (field
names, types and the allowed values of visibility, status and the format fields).
"""
import fnmatch
import inspect
import json
import math
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
import zipfile

from . import spec as specmod

DEFAULT_ROOT = "/autograder"
CONFIG = "gradescope.json"
HIDDEN_VISIBILITIES = ("hidden", "after_due_date", "after_published")
_ASSIGNMENT_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")

# Gradescope's results.json (gradescope-autograders.readthedocs.io, "Autograder Specifications").
TOP_KEYS = frozenset({"score", "execution_time", "output", "output_format", "test_output_format",
                      "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"})
TEST_KEYS = frozenset({"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                       "tags", "visibility", "extra_data"})
VISIBILITIES = frozenset({"hidden", "after_due_date", "after_published", "visible"})
FORMATS = frozenset({"text", "html", "simple_format", "md", "ansi"})
STATUSES = frozenset({"passed", "failed"})
LEADERBOARD_ORDERS = frozenset({"asc", "desc"})

# What goes into the zip from the package: everything but caches, the student bundle's copies and
# the folders of other assignments.
_EXCLUDE = ("__pycache__", "*.pyc", "_bundle", ".*")
_INSTRUCTOR_ONLY = ("nbgrader_bridge.py", "release.py", "authoring.py")  # not needed to grade
_INSTRUCTOR_ONLY_IN_ASSIGNMENT = ("samples.py", "answers.py")  # the demo class's mistakes: it quotes the solution
_GRADER_ONLY = ("hidden.py",)          # grader-side helpers: may hold reference code on purpose
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


# ---- the zip ------------------------------------------------------------------------------
SETUP_SH = r'''#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image for {assignment}.
# GRADESCOPE_ROOT replaces /autograder; AUTOGRADER_SKIP_INSTALL=1 skips apt-get and pip (tests).
set -euo pipefail
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
SRC="$ROOT/source"
if [ -z "${{AUTOGRADER_SKIP_INSTALL:-}}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq python3 python3-pip python3-venv
        # the sandbox for student code; without it the harness falls back and says so in every result
        apt-get install -y -qq bubblewrap || echo "WARNING: bubblewrap could not be installed" >&2
    fi
    python3 -m venv "$ROOT/env"
    "$ROOT/env/bin/python" -m pip install --quiet --upgrade "pip>=24"
    "$ROOT/env/bin/python" -m pip install --quiet -r "$SRC/requirements.txt"
fi
PY=python3
if [ -x "$ROOT/env/bin/python" ]; then PY="$ROOT/env/bin/python"; fi
# The source (references, course secret) readable by root only: student code that runs as an
# unprivileged user cannot read it.
if [ "$(id -u)" = "0" ]; then chown -R root:root "$SRC"; fi
chmod -R go-rwx "$SRC"
# Except the data files the spec names (students have them anyway), which the sandbox gives to
# student code: readable, and the folders on their way open for passing through, not for listing.
for f in {public_files}; do
    chmod o+r "$SRC/$f"
    d=$(dirname "$f")
    while [ "$d" != "." ]; do chmod o+x "$SRC/$d"; d=$(dirname "$d"); done
    chmod o+x "$SRC"
done
# Grade the untouched template once, with the source locked as it will be: a harness that cannot
# grade here fails the image build, where the instructor sees it, not every student's submission.
PYTHONPATH="$SRC" "$PY" -m autograder.gradescope selfcheck
'''

RUN_AUTOGRADER = r'''#!/usr/bin/env bash
# Gradescope runs this, as root, for each submission of {assignment}: it grades
# $ROOT/submission and writes $ROOT/results/results.json (always: a harness failure writes one too).
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
SRC="$ROOT/source"
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
chmod go-rwx "$RESULTS" 2>/dev/null || true
if [ -f "$ROOT/submission_metadata.json" ]; then chmod go-rwx "$ROOT/submission_metadata.json" 2>/dev/null || true; fi
rm -f "$RESULTS/results.json"
PY=python3
if [ -x "$ROOT/env/bin/python" ]; then PY="$ROOT/env/bin/python"; fi
GRADESCOPE_ROOT="$ROOT" PYTHONPATH="$SRC" "$PY" -m autograder.gradescope run
code=$?
if [ ! -s "$RESULTS/results.json" ]; then
    echo "the grading harness exited with status $code without writing results.json" >&2
    cat > "$RESULTS/results.json" <<EOF
{{"score": 0, "output": "{fallback}", "output_format": "text", "stdout_visibility": "hidden", "tests": [], "extra_data": {{"assignment": "{assignment}", "status": "harness_error", "exit_code": $code}}}}
EOF
fi
exit 0
'''

FALLBACK_OUTPUT = ("채점기 자체가 실패했습니다 (제출물의 문제가 아닙니다). 담당 조교에게 알려 주세요. / "
                   "The autograder itself failed (not a problem with your work); please tell the course staff.")


def _excluded(name):
    return any(fnmatch.fnmatch(name, pat) for pat in _EXCLUDE)


def _requirements(spec):
    """The assignment's Python requirements, from the repository's pyproject.toml: the package's
    dependencies, and the Keras extra when a question needs Keras."""
    import tomllib
    with open(os.path.join(specmod.repo_root(), "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)["project"]
    reqs = list(project.get("dependencies", []))
    if any(q.needs_keras for q in spec.questions):
        reqs += project.get("optional-dependencies", {}).get("keras", [])
    return reqs


def zip_members(assignment, hidden_visibility="after_published", lang="en"):
    """{arcname: (bytes, mode)} of the autograder zip; raises KeyError for an unknown assignment."""
    spec = specmod.load_spec(assignment)
    repo = specmod.repo_root()
    pkg = os.path.dirname(os.path.abspath(__file__))
    members = {}

    def add_file(path, arcname, mode=0o644):
        with open(path, "rb") as fh:
            members[arcname] = (fh.read(), mode)

    for folder, dirs, files in os.walk(pkg):
        rel = os.path.relpath(folder, pkg)
        parts = [] if rel == "." else rel.split(os.sep)
        keep = []
        for d in sorted(dirs):
            if _excluded(d) or os.path.islink(os.path.join(folder, d)):
                continue
            if parts == ["assignments"] and d != assignment:
                continue  # other assignments' specs and references stay out
            keep.append(d)
        dirs[:] = keep
        for name in sorted(files):
            path = os.path.join(folder, name)
            if _excluded(name) or os.path.islink(path) or (not parts and name in _INSTRUCTOR_ONLY):
                continue
            if parts == ["assignments", assignment] and name in _INSTRUCTOR_ONLY_IN_ASSIGNMENT:
                continue
            if name.startswith("secret"):
                continue  # the hidden cases are already drawn (hidden.json): the secret stays home
            add_file(path, "/".join(["autograder", *parts, name]))
            if parts == ["assignments", assignment] and name == "spec.py":  # no hidden generators either
                from .release import strip_hidden_generators
                text = strip_hidden_generators(members[f"autograder/assignments/{assignment}/spec.py"][0].decode("utf-8"))
                members[f"autograder/assignments/{assignment}/spec.py"] = (text.encode("utf-8"), 0o644)
    template = os.path.join(repo, "assignments", f"{assignment}.ipynb")
    if not os.path.isfile(template):
        raise FileNotFoundError(f"assignments/{assignment}.ipynb (the template) is not here")
    add_file(template, f"assignments/{assignment}.ipynb")
    solution = os.path.join(repo, "solutions", f"{assignment}.py")
    if os.path.isfile(solution):  # grader-only (see the module docstring)
        add_file(solution, f"solutions/{assignment}.py", mode=0o600)
    for rel in sorted(set(spec.data_files.values())):
        add_file(os.path.join(repo, rel), rel.replace(os.sep, "/"))
    members["requirements.txt"] = ("\n".join(_requirements(spec)).encode() + b"\n", 0o644)
    config = {"assignment": assignment, "hidden_visibility": hidden_visibility, "lang": lang}
    members[CONFIG] = (json.dumps(config, indent=1).encode() + b"\n", 0o644)
    public_files = " ".join(shlex.quote(rel.replace(os.sep, "/")) for rel in sorted(set(spec.data_files.values())))
    fmt = {"assignment": assignment, "fallback": FALLBACK_OUTPUT, "public_files": public_files}
    members["setup.sh"] = (SETUP_SH.format(**fmt).encode(), 0o755)
    members["run_autograder"] = (RUN_AUTOGRADER.format(**fmt).encode(), 0o755)
    return members


def _normalized(text):
    """Text without indentation or blank lines, so that a function body is found however indented."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _solution_snippets(assignment):
    """The solution's function bodies (what would be woven into the notebook), normalized: those of
    two lines or more, and one-line bodies of 30 characters or more (`return 1 if z > 0 else 0`
    could match by chance); empty without solutions/."""
    from .authoring import solution_bodies
    path = os.path.join(specmod.repo_root(), "solutions", f"{assignment}.py")
    try:
        with open(path, encoding="utf-8") as fh:
            bodies = solution_bodies(fh.read())
    except (OSError, SyntaxError, ValueError):
        return []
    return [n for n in (_normalized(b) for b in bodies.values()) if "\n" in n or len(n) >= 30]


def check_members(members, assignment):
    """Problems that would put solutions where they do not belong: any solutions/ path but the
    assignment's own grader-only file, nbgrader's solution markers in a notebook or data file (the
    harness's own modules name them), or the text of a solution function anywhere else."""
    problems = []
    snippets = _solution_snippets(assignment)
    for name, (data, _mode) in sorted(members.items()):
        if name == f"solutions/{assignment}.py":
            continue
        if name.split("/")[0] == "solutions" or "/solutions/" in f"/{name}":
            problems.append(f"{name}: under solutions/")
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        harness_module = name.startswith("autograder/") and name.endswith(".py")
        if not harness_module and any(m in text for m in SOLUTION_MARKERS):
            problems.append(f"{name}: contains a solution block")
        if os.path.basename(name) not in _GRADER_ONLY and any(s in _normalized(text) for s in snippets):
            problems.append(f"{name}: contains solution source text")
    return problems


def build_zip(assignment, out, hidden_visibility="after_published", lang="en"):
    """Write the autograder zip to `out`; returns the list of its members. Raises ValueError when
    the zip would carry solutions (nothing is written then)."""
    if hidden_visibility not in HIDDEN_VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {', '.join(HIDDEN_VISIBILITIES)}")
    members = zip_members(assignment, hidden_visibility, lang)
    problems = check_members(members, assignment)
    if problems:
        raise ValueError("the zip would carry solutions:\n  " + "\n  ".join(problems))
    out = os.path.abspath(out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".gradescope-", suffix=".zip", dir=os.path.dirname(out))
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(members):
                data, mode = members[name]
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return sorted(members)


# ---- the results.json schema -------------------------------------------------------------
def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_results(doc):
    """Problems with `doc` as a Gradescope results.json (an empty list when it is valid): only the
    documented fields, each of its documented type, and the documented values of visibility,
    stdout_visibility, status and the format fields; a score on the top level or on every test;
    strict JSON (no NaN or Infinity)."""
    problems = []
    if not isinstance(doc, dict):
        return ["results.json is not a JSON object"]
    for key in sorted(set(doc) - TOP_KEYS):
        problems.append(f"top level: {key!r} is not a Gradescope field (put it under extra_data)")
    if "score" in doc and not _is_number(doc["score"]):
        problems.append(f"top level: score {doc['score']!r} is not a finite number")
    if "execution_time" in doc and not _is_number(doc["execution_time"]):
        problems.append(f"top level: execution_time {doc['execution_time']!r} is not a finite number")
    if "output" in doc and not isinstance(doc["output"], str):
        problems.append("top level: output is not a string")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in doc and doc[key] not in FORMATS:
            problems.append(f"top level: {key} {doc[key]!r} is not one of {sorted(FORMATS)}")
    for key in ("visibility", "stdout_visibility"):
        if key in doc and doc[key] not in VISIBILITIES:
            problems.append(f"top level: {key} {doc[key]!r} is not one of {sorted(VISIBILITIES)}")
    if "extra_data" in doc and not isinstance(doc["extra_data"], dict):
        problems.append("top level: extra_data is not an object")
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        problems.append("top level: tests is not a list")
        tests = []
    if "score" not in doc and ("tests" not in doc or not all(isinstance(t, dict) and "score" in t for t in tests)):
        problems.append("no score: give a top-level score or a score on every test")
    for i, t in enumerate(tests):
        where = f"tests[{i}]" + (f" ({t.get('name')})" if isinstance(t, dict) and t.get("name") else "")
        if not isinstance(t, dict):
            problems.append(f"{where}: not an object")
            continue
        for key in sorted(set(t) - TEST_KEYS):
            problems.append(f"{where}: {key!r} is not a Gradescope test field (put it under extra_data)")
        for key in ("score", "max_score"):
            if key in t and not _is_number(t[key]):
                problems.append(f"{where}: {key} {t[key]!r} is not a finite number")
        if "status" in t and t["status"] not in STATUSES:
            problems.append(f"{where}: status {t['status']!r} is not one of {sorted(STATUSES)}")
        for key in ("name", "number", "output"):
            if key in t and not isinstance(t[key], str):
                problems.append(f"{where}: {key} is not a string")
        for key in ("name_format", "output_format"):
            if key in t and t[key] not in FORMATS:
                problems.append(f"{where}: {key} {t[key]!r} is not one of {sorted(FORMATS)}")
        if "tags" in t and not (isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])):
            problems.append(f"{where}: tags is not a list of strings")
        if "visibility" in t and t["visibility"] not in VISIBILITIES:
            problems.append(f"{where}: visibility {t['visibility']!r} is not one of {sorted(VISIBILITIES)}")
        if "extra_data" in t and not isinstance(t["extra_data"], dict):
            problems.append(f"{where}: extra_data is not an object")
    if "leaderboard" in doc:
        board = doc["leaderboard"]
        if not isinstance(board, list):
            problems.append("top level: leaderboard is not a list")
        else:
            for i, row in enumerate(board):
                if not (isinstance(row, dict) and isinstance(row.get("name"), str) and "value" in row
                        and (_is_number(row["value"]) or isinstance(row["value"], str))
                        and row.get("order", "desc") in LEADERBOARD_ORDERS and set(row) <= {"name", "value", "order"}):
                    problems.append(f"leaderboard[{i}]: not {{name, value[, order asc|desc]}}")
    try:
        json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"not strict JSON: {exc}")
    return problems


# ---- from the harness's result to results.json ---------------------------------------------
def _plain(value):
    """Strict-JSON data: numpy scalars and arrays as Python values, NaN and infinities as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):  # numpy's float64 too
        return float(value) if math.isfinite(value) else repr(float(value))
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _plain(value.tolist())
    return str(value)


def to_results_json(result):
    """The harness's result as Gradescope's results.json: a field Gradescope does not name moves
    under extra_data (top level and per test); stdout hidden from students and the feedback shown
    as plain text unless the result says otherwise; strict JSON."""
    doc = _plain(result)
    extra = doc.setdefault("extra_data", {})
    for key in sorted(set(doc) - TOP_KEYS):
        extra.setdefault(key, doc.pop(key))
    doc.setdefault("stdout_visibility", "hidden")
    doc.setdefault("output_format", "text")
    for t in doc.get("tests", []):
        t_extra = t.setdefault("extra_data", {})
        for key in sorted(set(t) - TEST_KEYS):
            t_extra.setdefault(key, t.pop(key))
    if "score" not in doc:
        doc["score"] = round(sum(t.get("score", 0) for t in doc.get("tests", [])), 4)
    return doc


def _message(lang, ko, en):
    return ko if lang == "ko" else en


def zero_result(assignment, output, status, started=None, extra=None):
    """A results.json scoring 0 with `output` shown: one entry per question (so the maximum is
    right), used when there is nothing to grade or the harness failed."""
    tests = []
    try:
        for q in specmod.load_spec(assignment).questions:
            tests.append({"name": f"{assignment}.{q.name}", "score": 0.0, "max_score": q.points, "status": "failed",
                          "output": output, "visibility": "visible",
                          "extra_data": {"question": q.name, "functions": list(q.functions)}})
    except Exception:  # noqa: BLE001 - the harness itself may be what is broken
        tests = []
    doc = {"score": 0.0, "execution_time": round(time.perf_counter() - started, 3) if started else 0.0,
           "output": output, "output_format": "text", "stdout_visibility": "hidden", "tests": tests,
           "extra_data": {"assignment": assignment, "status": status, **(extra or {})}}
    return doc


_IGNORED_DIRS = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")


def submission_files(folder):
    """The files under `folder` that could be the work: its notebooks, or its .py files when it has
    no notebook (hidden files, checkpoints, macOS metadata and links are never candidates)."""
    notebooks, scripts = [], []
    if os.path.isdir(folder):
        for here, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _IGNORED_DIRS
                             and not os.path.islink(os.path.join(here, d)))
            for name in sorted(files):
                path = os.path.join(here, name)
                if name.startswith(".") or os.path.islink(path) or not os.path.isfile(path):
                    continue
                if name.endswith(".ipynb"):
                    notebooks.append(path)
                elif name.endswith(".py"):
                    scripts.append(path)
    return notebooks or scripts


def _student(root, path):
    """The student as Gradescope names them (submission_metadata.json), else the file's stem."""
    try:
        with open(os.path.join(root, "submission_metadata.json"), encoding="utf-8") as fh:
            users = json.load(fh).get("users") or []
        names = [u.get("email") or u.get("name") or str(u.get("id")) for u in users if isinstance(u, dict)]
        if names:
            return ", ".join(names)
    except (OSError, ValueError, AttributeError):
        pass
    return os.path.splitext(os.path.basename(path))[0] if path else None


def load_config(root):
    path = os.path.join(root, "source", CONFIG)
    if not os.path.isfile(path):
        path = os.path.join(specmod.repo_root(), CONFIG)
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh)
    if config.get("hidden_visibility", "after_published") not in HIDDEN_VISIBILITIES:
        raise ValueError(f"{CONFIG}: hidden_visibility {config.get('hidden_visibility')!r}")
    return config


def grade_submission(root, config):
    """The results.json document for the submission under `root` (not written)."""
    from . import grading
    from .submission import peek_assignment
    started = time.perf_counter()
    assignment, lang = config["assignment"], config.get("lang", "en")
    folder = os.path.join(root, "submission")
    found = submission_files(folder)
    if not found:
        msg = _message(lang, f"제출된 파일이 없습니다: 노트북({assignment}.ipynb) 또는 .py 파일 하나를 올려 주세요.",
                       f"Nothing to grade: the submission holds no notebook or .py file. Upload your notebook "
                       f"({assignment}.ipynb) or one .py file.")
        return zero_result(assignment, msg, "no_submission", started)
    if len(found) > 1:
        names = ", ".join(os.path.relpath(p, folder) for p in found)
        msg = _message(lang, f"제출물에 채점할 파일이 여러 개 있습니다 ({names}): 노트북 하나만 올려 주세요.",
                       f"The submission holds several files to grade ({names}): upload exactly one notebook.")
        return zero_result(assignment, msg, "ambiguous_submission", started, {"files": len(found)})
    path = found[0]
    named = peek_assignment(path)
    if isinstance(named, str) and named != assignment and _ASSIGNMENT_NAME.match(named):
        msg = _message(lang, f"이 노트북은 과제 {named}의 것입니다. 이 과제는 {assignment}입니다.",
                       f"This notebook is for assignment {named}; this is {assignment}.")
        return zero_result(assignment, msg, "wrong_assignment", started, {"named": named})
    kwargs = {"assignment": assignment, "include_hidden": True, "lang": lang, "student": _student(root, path)}
    if "hidden_visibility" in inspect.signature(grading.grade_file).parameters:
        kwargs["hidden_visibility"] = config.get("hidden_visibility", "after_published")
    result = grading.grade_file(path, **kwargs)
    doc = to_results_json(result)
    doc["extra_data"].setdefault("submitted_file", os.path.relpath(path, folder))
    return doc


def write_results(root, doc):
    """results/results.json, written whole (a temporary file renamed into place)."""
    folder = os.path.join(root, "results")
    os.makedirs(folder, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, os.path.join(folder, "results.json"))
    return os.path.join(folder, "results.json")


def run(root=None):
    """Grade $GRADESCOPE_ROOT/submission into $GRADESCOPE_ROOT/results/results.json. Always writes
    that file: a harness failure is a results.json saying so (details on stdout, which only the
    instructor sees). Returns 0 when the submission was graded, 1 for a harness failure."""
    root = root or os.environ.get("GRADESCOPE_ROOT") or DEFAULT_ROOT
    started = time.perf_counter()
    assignment = None
    try:
        config = load_config(root)
        assignment = config["assignment"]
        doc = grade_submission(root, config)
        problems = validate_results(doc)
        if problems:
            raise ValueError("the harness's result is not a valid results.json: " + "; ".join(problems))
        code = 0
    except Exception as exc:  # noqa: BLE001 - whatever breaks, the student gets a results.json
        traceback.print_exc()
        doc = zero_result(assignment, FALLBACK_OUTPUT, "harness_error", started,
                          {"error": f"{type(exc).__name__}: {str(exc)[:500]}"})
        code = 1
    write_results(root, doc)
    extra = doc.get("extra_data", {})
    print(f"{assignment}: {doc.get('score')} / {sum(t.get('max_score', 0) for t in doc.get('tests', []))} "
          f"({extra.get('status')}); {extra.get('sandbox') or ''}")
    return code


def selfcheck(root=None):
    """Grade the untouched template (what setup.sh runs): 0 when the harness graded it."""
    from . import grading
    root = root or os.environ.get("GRADESCOPE_ROOT") or DEFAULT_ROOT
    config = load_config(root)
    assignment = config["assignment"]
    result = grading.grade_file(grading.template_path(assignment), assignment=assignment, include_hidden=True,
                                student="template")
    doc = to_results_json(result)
    problems = validate_results(doc)
    status = doc["extra_data"].get("status")
    print(f"self-check, {assignment} template: {doc['score']} points, status {status}; "
          f"{doc['extra_data'].get('sandbox')}")
    if problems or status != "graded":
        print("the harness cannot grade here: " + "; ".join(problems or [doc.get("output", "")]), file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["run"]:
        return run()
    if argv == ["selfcheck"]:
        return selfcheck()
    print("usage: python -m autograder.gradescope run|selfcheck", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
