"""Writing results: one JSON per student (Gradescope's results.json), grades.csv (csv module),
and a readable feedback file per student, each a view of the student's SubmissionResult (read
back from its JSON with SubmissionResult.from_json, never edited). Every file is written to a
temporary name in the same folder and renamed into place, so a run killed at any moment leaves
whole files only.
"""
import csv
import functools
import hashlib
import html
import io
import json
import os
import re
import threading
import time
from dataclasses import replace

from . import i18n
from .outcome import SubmissionResult, question_of, question_scores  # noqa: F401 - the result model's rules

_csv_lock = threading.Lock()
CSV_NAME = "grades.csv"


def safe_name(student):
    """A file name for a student id: keeps spaces, commas and Hangul; removes path tricks."""
    name = re.sub(r"[/\\\x00-\x1f]", "_", str(student)).strip()
    name = name.lstrip(".") or "_"
    return name[:200]


def atomic_write(path, data, mode="w"):
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{threading.get_ident()}.tmp")
    kwargs = {"encoding": "utf-8", "newline": ""} if "b" not in mode else {}
    with open(tmp, mode, **kwargs) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


_TMP_NAME = re.compile(r"^\..+\.(\d+)\.\d+\.tmp$")


def remove_stale_temporaries(folder):
    """Remove the temporary files of atomic_write left by a writer that was killed (its process is
    gone). Returns their names. A living process's temporaries (another run) are left alone."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TMP_NAME.match(name)
        if not m or _process_alive(int(m.group(1))):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed.append(name)
        except OSError:
            pass
    return removed


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def json_path(out_dir, student):
    return os.path.join(out_dir, f"{safe_name(student)}.json")


def _fit_figure(result):
    for t in result.tests:
        for case in t.get("extra_data", {}).get("cases", []):
            extra = case.get("extra") or {}
            if extra.get("figure") == "fit":
                return extra
    return None


@functools.lru_cache(maxsize=4)
def _data_table(assignment, data_name):
    """The assignment's data file (x, y), read once per grading process."""
    from . import spec as specmod
    try:
        rel = specmod.load_spec(assignment).data_files.get(data_name)
        if rel:
            import numpy as np
            return np.genfromtxt(os.path.join(specmod.repo_root(), rel), delimiter=",", names=True)
    except (OSError, KeyError, ValueError):
        pass
    return None


def figure_name(student):
    """The file name of a student's fit picture, beside their result."""
    return f"{safe_name(student)}.fit.png"


def write_figure(out_dir, result):
    """The student's fitted curve beside the reference's, over the data (05_keras_tanh); its file
    name (figure_name), or None when the result has no fit to draw."""
    result = SubmissionResult.from_json(result)
    extra = _fit_figure(result)
    if not extra:
        return None
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.92)
    ax = fig.add_subplot()
    table = _data_table(result.assignment, extra.get("data"))
    if table is not None:
        ax.scatter(table["x"], table["y"], s=5, alpha=0.35, color="tab:blue", label="data")
    ax.plot(extra["domain"], extra["student"], color="red", linewidth=2.5, label="your model")
    if extra.get("reference"):  # drawn on top, dashed, so both show where they coincide
        ax.plot(extra["domain"], extra["reference"], "k--", linewidth=1.2, label="reference", zorder=3)
    ax.set(xlabel="input x", ylabel="target y", title="fitted curve")
    ax.legend(loc="lower left")  # a fixed place: "best" searches the 1000 points, per student
    name = figure_name(result.student)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    atomic_write(os.path.join(out_dir, name), buf.getvalue(), mode="wb")
    return name


def write_result(out_dir, result, lang="en"):
    """Write a result's files: the fit picture where it has one, <student>.feedback.md and
    <student>.json. Returns the result as written: a new SubmissionResult naming the picture (or
    why it could not be drawn) where there is one, else the same result."""
    result = SubmissionResult.from_json(result)
    try:
        figure = write_figure(out_dir, result)
    except Exception as exc:  # noqa: BLE001 - a picture is never worth losing the result
        result = replace(result, figure=None, figure_error=str(exc)[:200])
    else:
        if figure:
            result = replace(result, figure=figure, figure_error=None)
    # the JSON is what a resumed run counts as done, so it is written last: a run killed before it
    # grades the student again and rewrites the feedback; a run killed after it has left both whole
    atomic_write(os.path.join(out_dir, f"{safe_name(result.student)}.feedback.md"), feedback_text(result, lang))
    atomic_write(json_path(out_dir, result.student), json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    return result


# statuses of a finished result: what a rerun keeps while its fingerprint holds (a harness
# failure writes no result at all, so that student is graded again)
FINISHED = ("graded", "unreadable", "refused", "wrong_assignment")


def load_finished(out_dir, assignment):
    """{student: SubmissionResult} of every result already written in out_dir for this assignment."""
    done = {}
    if not os.path.isdir(out_dir):
        return done
    for name in os.listdir(out_dir):
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            with open(os.path.join(out_dir, name), encoding="utf-8") as fh:
                result = SubmissionResult.from_json(json.load(fh))
            if result.assignment == assignment and result.status in FINISHED:
                done[result.student] = result
        except (OSError, ValueError, TypeError, AttributeError):
            continue  # a stray or foreign file: regrade that student
    return done


# ---- fingerprints: what a result was computed from --------------------------------------------
def _sha256_files(paths, digest=None):
    digest = digest or hashlib.sha256()
    for path in paths:
        digest.update(os.path.basename(path).encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            digest.update(f"unreadable: {type(exc).__name__}".encode())
        digest.update(b"\0")
    return digest


def _harness_files(package):
    """The harness's own files: every source under autograder/ (autograder/*.py, autograder/child/,
    the sandbox package, message catalogues), less each assignment's folder (assignment_fingerprint
    hashes those, one assignment at a time), the student bundle's copies and byte-code caches."""
    from . import spec as specmod
    skip_dirs = {"__pycache__", "_bundle"}
    assignments = os.path.abspath(specmod.ASSIGNMENTS_DIR)
    files = []
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs and not d.startswith(".")
                         and not (os.path.abspath(folder) == assignments and specmod._NAME.match(d)))
        files += [os.path.join(folder, n) for n in sorted(names)
                  if not n.endswith((".pyc", ".pyo")) and not n.startswith(".")]
    return files


@functools.lru_cache(maxsize=1)
def harness_fingerprint():
    """The harness's version: the package's version and a hash of its sources (_harness_files).
    Computed once per process."""
    package = os.path.dirname(os.path.abspath(__file__))
    files = _harness_files(package)
    digest = hashlib.sha256()
    for path in files:
        digest.update(os.path.relpath(path, package).encode("utf-8", "surrogateescape") + b"\0")
    _sha256_files(files, digest)
    try:
        from importlib.metadata import version
        ver = version("dl-homework-autograder")
    except Exception:  # noqa: BLE001 - not installed (a source checkout): the hash still tells
        ver = "0"
    return f"{ver}+{digest.hexdigest()[:16]}"


def assignment_fingerprint(assignment):
    """sha256 of what the assignment's grading reads: its spec.py (and the folder's other .py files),
    its references files, its released template (the cells left out) and its data files."""
    from . import spec as specmod
    folder = specmod.assignment_dir(assignment)
    files = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".py"))
    refs = os.path.join(folder, "references")
    if os.path.isdir(refs):
        files += sorted(os.path.join(refs, n) for n in os.listdir(refs) if not n.startswith("."))
    files.append(specmod.resource_path(f"assignments/{assignment}.ipynb"))
    try:
        files += [specmod.resource_path(rel) for _, rel in sorted(specmod.load_spec(assignment).data_files.items())]
    except Exception:  # noqa: BLE001 - a spec that does not load: its source is hashed above
        pass
    return _sha256_files(files).hexdigest()


def submission_fingerprint(path, folder=None):
    """sha256 of the bytes the grader reads for this submission (for a link out of its folder: of
    where it leads, which is never read)."""
    from .submission import SubmissionError, find_file, link_outside
    digest = hashlib.sha256()
    outside = link_outside(path, folder)
    if outside:
        digest.update(b"link out of the folder: " + outside[1].encode("utf-8", "surrogateescape"))
        return digest.hexdigest()
    try:
        file_path = find_file(path)
    except (SubmissionError, OSError) as exc:
        digest.update(f"no file: {type(exc).__name__}".encode())
        return digest.hexdigest()
    return _sha256_files([file_path], digest).hexdigest()


def fingerprint(path, assignment, folder=None, assignment_fp=None):
    """extra_data.fingerprint: {submission, assignment, harness}. A rerun regrades a student whose
    fingerprint differs from the one in their result. assignment_fp: assignment_fingerprint's value,
    when the caller (a run of many) computed it once."""
    return {"submission": submission_fingerprint(path, folder),
            "assignment": assignment_fp or assignment_fingerprint(assignment),
            "harness": harness_fingerprint()}


def fingerprint_changes(old, new):
    """Which parts of a fingerprint changed (["submission", ...]); ["none recorded"] for a result without one."""
    if not isinstance(old, dict):
        return ["none recorded"]
    return [k for k in ("submission", "assignment", "harness") if old.get(k) != new.get(k)]


# ---- question scores: a view of `tests` ------------------------------------------------------
# ---- CSV: a view of the results ------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell no spreadsheet reads as a formula: text starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe (OWASP's advice). Numbers we write are passed as they are."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(result, question_names):
    """One student's row of grades.csv (the result's view as a line of the class's table)."""
    result = SubmissionResult.from_json(result)
    by_name = question_scores(result)
    row = [csv_cell(result.student)]
    row += [_num(by_name[q][0]) if q in by_name else "" for q in question_names]
    return row + [_num(result.score), _num(result.max_score), csv_cell(result.status or "")]


def _csv_from_rows(rows, question_names):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", *question_names, "total", "max_total", "status"])
    for _student, row in sorted(rows, key=lambda sr: sr[0]):
        writer.writerow(row)
    return buf.getvalue()


def csv_text(results, question_names):
    results = list(map(SubmissionResult.from_json, results))
    return _csv_from_rows([(str(r.student), csv_row(r, question_names)) for r in results], question_names)


REGRADE_NAME = "regrade.csv"


def regrade_text(changes):
    """regrade.csv: [(student, old score, new score)], one row each."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "old", "new"])
    for student, old, new in sorted(changes, key=lambda c: str(c[0])):
        writer.writerow([csv_cell(student), _num(old), _num(new)])
    return buf.getvalue()


def _num(x):
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.2f}"


def write_csv(out_dir, assignment, question_names, students=None):
    """grades.csv from every result in out_dir (read back from the files), only those of `students`
    when given (a student whose submission is gone drops out; their files stay). Returns those results."""
    with _csv_lock:
        results = list(load_finished(out_dir, assignment).values())
        if students is not None:
            keep = {str(s) for s in students}
            results = [r for r in results if str(r.student) in keep]
        atomic_write(os.path.join(out_dir, CSV_NAME), csv_text(results, question_names))
        return results


class RunningCsv:
    """grades.csv kept current during a run from the results in memory, rewritten at most once per
    `every` seconds (reading every JSON back after each student made a class of N cost N²/2 file
    reads: about 30 s for 500 students at 0.26 ms a file). It keeps each student's row, not the
    result (a whole result is tens of KB: a class's worth would grow the grading process with N).
    The run ends with write_csv, from the files."""

    def __init__(self, out_dir, question_names, finished, every=1.0):
        self.path = os.path.join(out_dir, CSV_NAME)
        self.question_names = question_names
        self.rows = {str(r.student): csv_row(r, question_names) for r in map(SubmissionResult.from_json, finished)}
        self.every = every
        self.lock = threading.Lock()
        self.written_at = None

    def add(self, result):
        result = SubmissionResult.from_json(result)
        row = csv_row(result, self.question_names)
        with self.lock:
            self.rows[str(result.student)] = row
            now = time.monotonic()
            if self.written_at is None or now - self.written_at >= self.every:
                atomic_write(self.path, _csv_from_rows(list(self.rows.items()), self.question_names))
                self.written_at = now


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_inline(text):
    """Text a student controls, safe inside a markdown line or table cell: HTML's <, > and & as
    entities, markdown's punctuation backslash-escaped, line breaks as spaces."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_fence(text):
    """A fenced block that the text cannot close: the fence is longer than any run of backticks in it."""
    text = str(text or "")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text, fence]


def written_lines(result, lang="en"):
    """What the result says of the written answers it did not grade: their total, then each."""
    written = list(result.written or [])
    if not written:
        return []
    total = sum(float(w.get("points", 0)) for w in written)
    return [i18n.t("manual_total", lang, n=len(written), points=_num(total))] + \
        [i18n.t("manual_pending", lang, name=w.get("name"), points=_num(w.get("points", 0))) for w in written]


def feedback_text(result, lang="en"):
    result = SubmissionResult.from_json(result)
    title = "채점 결과" if lang == "ko" else "Feedback"
    lines = [f"# {title}: {md_inline(result.assignment)} — {md_inline(result.student)}", "",
             f"**{_num(result.score)} / {_num(result.max_score)}**", ""]
    written = written_lines(result, lang)
    if written:
        lines += [md_inline(written[0]), ""] + [f"- {md_inline(line)}" for line in written[1:]] + [""]
    header = ("| 문항 | 점수 | 결과 |", "|---|---|---|") if lang == "ko" else ("| question | score | status |", "|---|---|---|")
    lines += list(header)
    for t in result.tests:
        status = t["status"]
        if t.get("extra_data", {}).get("not_attempted"):
            status = "미구현" if lang == "ko" else "not attempted"
        lines.append(f"| {md_inline(t['name'])} | {_num(t['score'])} / {_num(t['max_score'])} | {md_inline(status)} |")
    lines.append("")
    for t in result.tests:
        lines += [f"## {md_inline(t['name'])} ({_num(t['score'])} / {_num(t['max_score'])})", ""]
        lines += md_fence(t["output"]) + [""]
    if result.figure:
        lines += [f"![fit]({md_inline(result.figure)})", ""]
    if result.output:
        lines += ["## " + ("기타" if lang == "ko" else "Notes"), ""] + md_fence(result.output) + [""]
    if result.sandbox:
        lines += [f"_{md_inline(result.sandbox)}_", ""]
    return "\n".join(lines)
