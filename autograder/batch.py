"""Grading a whole class: collect submissions, grade them in parallel, resume after a stop,
and keep grades.csv and the per-student files whole at every moment."""
import concurrent.futures
import os
import sys
import time

from . import grading, results, sandbox
from . import spec as specmod
from .submission import student_id

SUBMISSION_EXTS = (".ipynb", ".py")


def _is_single_submission_dir(path):
    entries = [e for e in os.listdir(path) if not e.startswith(".")]
    files = [e for e in entries if e.endswith(SUBMISSION_EXTS) and os.path.isfile(os.path.join(path, e))]
    subdirs = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    return len(files) == 1 and not subdirs


def collect(paths):
    """[(student, path)]: a file, a directory holding one, or a directory of those."""
    found = []
    for path in paths:
        if os.path.isdir(path) and not _is_single_submission_dir(path):
            for entry in sorted(os.listdir(path)):
                full = os.path.join(path, entry)
                if entry.startswith(".") or entry.startswith("_"):
                    continue
                if os.path.isdir(full) or entry.endswith(SUBMISSION_EXTS):
                    found.append((student_id(full), full))
        else:
            found.append((student_id(path), path))
    seen, unique = set(), []
    for student, path in found:
        if student in seen:
            print(f"warning: two submissions for student {student!r}; grading only {path}", file=sys.stderr)
            unique = [(s, p) for s, p in unique if s != student]
        seen.add(student)
        unique.append((student, path))
    return unique


def _progress(total):
    try:
        from tqdm import tqdm
        return tqdm(total=total, unit="student", file=sys.stderr, dynamic_ncols=True, disable=None)
    except ImportError:  # pragma: no cover
        return None


def grade_class(assignment, paths, out_dir, jobs=None, timeout=None, lang="en", grade_one=None, quiet=False,
                on_result=None):
    """Grade every submission not yet graded in out_dir. Returns the list of all results and the
    harness failures. on_result(result), if given, is called (from a grading thread) with each new
    result once its files are written."""
    spec = specmod.load_spec(assignment)
    os.makedirs(out_dir, exist_ok=True)
    stale = results.remove_stale_temporaries(out_dir)  # a killed run's half-written files
    submissions = collect(paths)
    done = results.load_finished(out_dir, assignment)
    todo = [(s, p) for s, p in submissions if s not in done]
    qnames = [q.name for q in spec.questions]
    jobs = jobs or os.cpu_count() or 1
    if not quiet:
        print(f"{assignment}: {len(submissions)} submissions, {len(done)} already graded, {len(todo)} to grade, "
              f"{jobs} in parallel", file=sys.stderr)
        print(sandbox.isolation_note(), file=sys.stderr)
        if stale:
            print(f"removed {len(stale)} half-written file(s) left by an interrupted run", file=sys.stderr)
    warm = len(todo) > 1  # several submissions share one compilation of the Keras network (spec.warmup)
    grade_one = grade_one or (lambda student, path: grading.grade_file(
        path, assignment=assignment, include_hidden=True, lang=lang, timeout=timeout, student=student, warm=warm))
    running_csv = results.RunningCsv(out_dir, qnames, done.values())
    bar = None if quiet else _progress(len(todo))
    started = time.perf_counter()
    failures = []

    def work(item):
        student, path = item
        try:
            result = grade_one(student, path)
        except Exception as exc:  # noqa: BLE001 - a harness error for one student must not stop the class
            failures.append((student, exc))
            return None
        result["extra_data"]["student"] = student
        results.write_result(out_dir, result, lang)
        running_csv.add(result)
        if on_result is not None:
            on_result(result)
        return result

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for _ in pool.map(work, todo):
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    all_results = results.write_csv(out_dir, assignment, qnames)
    if not quiet:
        print(f"graded {len(todo)} in {time.perf_counter() - started:.1f} s; results in {out_dir}", file=sys.stderr)
    for student, exc in failures:
        print(f"harness error while grading {student}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return all_results, failures


def class_table(all_results, assignment):
    spec = specmod.load_spec(assignment)
    names = [q.name for q in spec.questions]
    width = max([7] + [len(str(r["extra_data"]["student"])) for r in all_results])
    head = f"{'student':<{width}}  " + "  ".join(f"{n[:14]:>14}" for n in names) + f"  {'total':>7}"
    lines = [head, "-" * len(head)]
    for r in sorted(all_results, key=lambda r: str(r["extra_data"]["student"])):
        by = {t["name"].split(".", 1)[-1]: t for t in r["tests"]}
        cells = []
        for n in names:
            t = by.get(n)
            cells.append(f"{'-' if t is None else results._num(t['score']) + '/' + results._num(t['max_score']):>14}")
        lines.append(f"{str(r['extra_data']['student']):<{width}}  " + "  ".join(cells) +
                     f"  {results._num(r['score']):>7}")
    return "\n".join(lines)
