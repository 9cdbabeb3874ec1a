"""Gradescope: `autograder gradescope ASSIGNMENT --out FILE.zip` builds the autograder zip, and
`python -m autograder.gradescope run` is what its `run_autograder` calls for each submission.

The zip (Gradescope extracts it to /autograder/source) holds `setup.sh` and `run_autograder`
(templates in autograder/gradescope_files/, the assignment filled in), the `autograder` package
with this one assignment's folder (spec, public and hidden references, the grader-only helpers
and course secret where the assignment has them), the released notebook as the
template, the data files the spec names, `requirements.txt` and `gradescope.json` (the
assignment and the visibility of the hidden entries), and `solutions/<assignment>.py` alone: the
trusted grader serves reference helpers from it where a student's own helper fails its question
(injection; never sent to a sandbox). setup.sh makes the whole source readable by root only, and
student code runs as an unprivileged user, so no student process can read it.

The environment variable GRADESCOPE_ROOT replaces /autograder everywhere (setup.sh,
run_autograder, this module), so that tests run the whole thing in a temporary folder;
AUTOGRADER_SKIP_INSTALL=1 makes setup.sh skip its apt-get and pip steps.

results.json itself, its format and the result's view as one: autograder/gradescope_results.py
(validate_results, to_results_json, zero_result, here too).
"""
import fnmatch
import json
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
import zipfile

from . import spec as specmod
from .gradescope_results import (FORMATS, LEADERBOARD_ORDERS, STATUSES, TEST_KEYS, TOP_KEYS,  # noqa: F401 - its API
                                 VISIBILITIES, to_results_json, validate_results, zero_result)

DEFAULT_ROOT = "/autograder"
CONFIG = "gradescope.json"
HIDDEN_VISIBILITIES = ("hidden", "after_due_date", "after_published")
_ASSIGNMENT_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")

# What goes into the zip from the package: everything but caches, the student bundle's copies and
# the folders of other assignments.
_EXCLUDE = ("__pycache__", "*.pyc", "_bundle", ".*")
_INSTRUCTOR_ONLY = ("nbgrader_bridge.py", "gradebook_writer.py", "release.py", "authoring.py")  # not needed to grade
_INSTRUCTOR_ONLY_IN_ASSIGNMENT = ("samples.py", "answers.py")  # the demo class's mistakes: it quotes the solution
_GRADER_ONLY = ("hidden.py",)          # grader-side helpers: may hold reference code on purpose
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


# ---- the zip ------------------------------------------------------------------------------
# setup.sh and run_autograder are real files (autograder/gradescope_files/), with @assignment@,
# @public_files@ and @fallback@ filled in per zip.
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradescope_files")
_PLACEHOLDER = re.compile(r"@(assignment|public_files|fallback)@")


def render_template(name, **values):
    """The text of template `name` (setup.sh, run_autograder) with its placeholders filled in."""
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as fh:
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], fh.read())


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
            if not parts and d == "gradescope_files":
                continue  # the templates of setup.sh and run_autograder, filled in at the top of the zip
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
            if parts == ["assignments", assignment] and name.endswith(".py"):  # no hidden generators either
                from .release import strip_hidden_generators
                member = f"autograder/assignments/{assignment}/{name}"
                text = strip_hidden_generators(members[member][0].decode("utf-8"))
                members[member] = (text.encode("utf-8"), 0o644)
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
    for name in ("setup.sh", "run_autograder"):
        members[name] = (render_template(name, **fmt).encode(), 0o755)
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


def _message(lang, ko, en):
    return ko if lang == "ko" else en


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
    result = grading.grade_file(path, assignment=assignment, include_hidden=True, lang=lang,
                                student=_student(root, path),
                                hidden_visibility=config.get("hidden_visibility", "after_published"))
    return to_results_json(result, submitted_file=os.path.relpath(path, folder))


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
