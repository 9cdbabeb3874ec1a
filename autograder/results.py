"""Writing results: one JSON per student (Gradescope's results.json), grades.csv (csv module),
and a readable feedback file per student. Every file is written to a temporary name in the same
folder and renamed into place, so a run killed at any moment leaves whole files only.
"""
import csv
import functools
import io
import json
import os
import re
import threading
import time

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
    for t in result.get("tests", []):
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


def write_figure(out_dir, result):
    """The student's fitted curve beside the reference's, over the data (05_keras_tanh)."""
    extra = _fit_figure(result)
    if not extra:
        return None
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.92)
    ax = fig.add_subplot()
    table = _data_table(result["extra_data"]["assignment"], extra.get("data"))
    if table is not None:
        ax.scatter(table["x"], table["y"], s=5, alpha=0.35, color="tab:blue", label="data")
    ax.plot(extra["domain"], extra["student"], color="red", linewidth=2.5, label="your model")
    if extra.get("reference"):  # drawn on top, dashed, so both show where they coincide
        ax.plot(extra["domain"], extra["reference"], "k--", linewidth=1.2, label="reference", zorder=3)
    ax.set(xlabel="input x", ylabel="target y", title="fitted curve")
    ax.legend(loc="lower left")  # a fixed place: "best" searches the 1000 points, per student
    name = f"{safe_name(result['extra_data']['student'])}.fit.png"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    atomic_write(os.path.join(out_dir, name), buf.getvalue(), mode="wb")
    return name


def write_result(out_dir, result, lang="en"):
    student = result["extra_data"]["student"]
    try:
        figure = write_figure(out_dir, result)
    except Exception as exc:  # noqa: BLE001 - a picture is never worth losing the result
        figure = None
        result["extra_data"]["figure_error"] = str(exc)[:200]
    if figure:
        result["extra_data"]["figure"] = figure
    # the JSON is what a resumed run counts as done, so it is written last: a run killed before it
    # grades the student again and rewrites the feedback; a run killed after it has left both whole
    atomic_write(os.path.join(out_dir, f"{safe_name(student)}.feedback.md"), feedback_text(result, lang))
    atomic_write(json_path(out_dir, student), json.dumps(result, ensure_ascii=False, indent=1))


def load_finished(out_dir, assignment):
    """Students whose result is already written (for resuming a run)."""
    done = {}
    if not os.path.isdir(out_dir):
        return done
    for name in os.listdir(out_dir):
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            with open(os.path.join(out_dir, name), encoding="utf-8") as fh:
                result = json.load(fh)
            extra = result.get("extra_data", {})
            if extra.get("assignment") == assignment and extra.get("status") in ("graded", "unreadable"):
                done[extra.get("student")] = result
        except (OSError, ValueError, AttributeError):
            continue  # a stray or foreign file: regrade that student
    return done


def csv_text(results, question_names):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", *question_names, "total", "max_total", "status"])
    for result in sorted(results, key=lambda r: str(r["extra_data"]["student"])):
        by_name = {t["name"].split(".", 1)[-1]: t for t in result["tests"]}
        row = [result["extra_data"]["student"]]
        row += [_num(by_name[q]["score"]) if q in by_name else "" for q in question_names]
        row += [_num(result["score"]), _num(result["max_score"]), result["extra_data"].get("status", "")]
        writer.writerow(row)
    return buf.getvalue()


def _num(x):
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.2f}"


def write_csv(out_dir, assignment, question_names):
    """grades.csv from every result in out_dir (read back from the files). Returns those results."""
    with _csv_lock:
        results = list(load_finished(out_dir, assignment).values())
        atomic_write(os.path.join(out_dir, CSV_NAME), csv_text(results, question_names))
        return results


class RunningCsv:
    """grades.csv kept current during a run from the results in memory, rewritten at most once per
    `every` seconds (reading every JSON back after each student made a class of N cost N²/2 file
    reads: about 30 s for 500 students at 0.26 ms a file). The run ends with write_csv, from the files."""

    def __init__(self, out_dir, question_names, finished, every=1.0):
        self.path = os.path.join(out_dir, CSV_NAME)
        self.question_names = question_names
        self.results = {str(r["extra_data"]["student"]): r for r in finished}
        self.every = every
        self.lock = threading.Lock()
        self.written_at = None

    def add(self, result):
        with self.lock:
            self.results[str(result["extra_data"]["student"])] = result
            now = time.monotonic()
            if self.written_at is None or now - self.written_at >= self.every:
                atomic_write(self.path, csv_text(list(self.results.values()), self.question_names))
                self.written_at = now


def feedback_text(result, lang="en"):
    extra = result["extra_data"]
    title = "채점 결과" if lang == "ko" else "Feedback"
    lines = [f"# {title}: {extra.get('assignment')} — {extra.get('student')}", "",
             f"**{_num(result['score'])} / {_num(result['max_score'])}**", ""]
    header = ("| 문항 | 점수 | 결과 |", "|---|---|---|") if lang == "ko" else ("| question | score | status |", "|---|---|---|")
    lines += list(header)
    for t in result["tests"]:
        status = t["status"]
        if t.get("extra_data", {}).get("not_attempted"):
            status = "미구현" if lang == "ko" else "not attempted"
        lines.append(f"| {t['name']} | {_num(t['score'])} / {_num(t['max_score'])} | {status} |")
    lines.append("")
    for t in result["tests"]:
        lines += [f"## {t['name']} ({_num(t['score'])} / {_num(t['max_score'])})", "", "```", t["output"] or "", "```", ""]
    if extra.get("figure"):
        lines += [f"![fit]({extra['figure']})", ""]
    if result.get("output"):
        lines += ["## " + ("기타" if lang == "ko" else "Notes"), "", "```", result["output"], "```", ""]
    if extra.get("sandbox"):
        lines += [f"_{extra['sandbox']}_", ""]
    return "\n".join(lines)
