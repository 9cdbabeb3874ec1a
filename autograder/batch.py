"""Grading a whole class: collect submissions, grade them in parallel, resume after a stop (by
content: a student is graded again exactly when the submission, the assignment's spec or
references, or the harness changed), keep grades.csv and the per-student files whole at every
moment, and end with regrade.csv (who changed from what to what) and report.html."""
import collections
import concurrent.futures
import os
import sys
import time

from . import grading, i18n, report, results, sandbox
from . import spec as specmod
from .outcome import SubmissionResult
from .submission import link_outside, student_id

SUBMISSION_EXTS = (".ipynb", ".py")


def _is_single_submission_dir(path):
    entries = [e for e in os.listdir(path) if not e.startswith(".")]
    files = [e for e in entries if e.endswith(SUBMISSION_EXTS) and os.path.isfile(os.path.join(path, e))]
    subdirs = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    return len(files) == 1 and not subdirs


def _collect(paths):
    """[(student, path, folder)]: folder is the submissions folder the path was found in (for a file
    or a student's directory given by itself, the folder that holds it)."""
    found = []
    for path in paths:
        if os.path.isdir(path) and not _is_single_submission_dir(path):
            for entry in sorted(os.listdir(path)):
                full = os.path.join(path, entry)
                if entry.startswith(".") or entry.startswith("_"):
                    continue
                if os.path.isdir(full) or entry.endswith(SUBMISSION_EXTS):
                    found.append((student_id(full), full, path))
        else:
            found.append((student_id(path), path, os.path.dirname(os.path.abspath(os.path.normpath(path)))))
    seen, unique = set(), []
    for student, path, folder in found:
        if student in seen:
            print(f"warning: two submissions for student {student!r}; grading only {path}", file=sys.stderr)
            unique = [u for u in unique if u[0] != student]
        seen.add(student)
        unique.append((student, path, folder))
    return unique


def collect(paths):
    """[(student, path)]: a file, a directory holding one, or a directory of those."""
    return [(student, path) for student, path, _ in _collect(paths)]


def _progress(total):
    try:
        from tqdm import tqdm
        return tqdm(total=total, unit="student", file=sys.stderr, dynamic_ncols=True, disable=None)
    except ImportError:  # pragma: no cover
        return None


def plan(assignment, items, done, force=False):
    """Which submissions to grade: (todo [(student, path, folder, fingerprint)], kept {student:
    result}, changed {student: (old result, [what changed])}, gone [students with a result but no
    submission]). A finished result is kept when its fingerprint (the submission's bytes, the
    assignment's spec and references, the harness) is the same as now, unless force."""
    assignment_fp = results.assignment_fingerprint(assignment)
    todo, kept, changed = [], {}, {}
    current = set()
    for student, path, folder in items:
        current.add(str(student))
        fp = results.fingerprint(path, assignment, folder, assignment_fp)
        old = done.get(student)
        if old is not None and not force and old.fingerprint == fp:
            kept[student] = old
            continue
        if old is not None:
            changed[student] = (old, ["--force"] if force else results.fingerprint_changes(old.fingerprint, fp))
        todo.append((student, path, folder, fp))
    gone = sorted(str(s) for s in done if str(s) not in current)
    return todo, kept, changed, gone


def _isolation_line():
    """How student code will run here (the configuration read from the environment)."""
    try:
        return sandbox.isolation_note(sandbox.uses_bwrap(sandbox.GraderConfig.from_env()))
    except (AttributeError, TypeError):  # an older sandbox module
        return sandbox.isolation_note(sandbox.bwrap_available())


def _describe(changed):
    reasons = collections.Counter(r for _, why in changed.values() for r in why)
    return ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))


def grade_class(assignment, paths, out_dir, jobs=None, timeout=None, lang="en", grade_one=None, quiet=False,
                on_result=None, force=False, submissions=None, summary=None, prestart=None):
    """Grade every submission whose result in out_dir is missing or was computed from something
    else (its fingerprint changed); force: all of them. Returns the results of the students given
    (those of grades.csv, SubmissionResults) and the harness failures. grade_one(student, path,
    fingerprint) grades one submission (default: grading.grade_file) and returns its result (a
    SubmissionResult, or its JSON) made with that student and fingerprint. on_result(result), if
    given, is called (from a grading thread) with each new result as written. submissions:
    [(student, path, folder)] instead of collecting `paths`. summary: a dict filled with the run's counts.
    prestart: start this process's warm sandboxes before the first submission is read (default: when
    grading here, i.e. without a grade_one of the caller's)."""
    prestart = grade_one is None if prestart is None else prestart
    spec = specmod.load_spec(assignment)
    os.makedirs(out_dir, exist_ok=True)
    stale = results.remove_stale_temporaries(out_dir)  # a killed run's half-written files
    sandbox.remove_stale_stages()                      # and a killed run's sandbox folders in /tmp
    reporter = report.ReportWriter()                   # forked now, before any thread: matplotlib meanwhile
    items = list(submissions) if submissions is not None else _collect(paths)
    done = results.load_finished(out_dir, assignment)
    todo, kept, changed, gone = plan(assignment, items, done, force=force)
    if todo and prestart:  # the warm sandboxes start while the rest is prepared
        grading.prepare_run(assignment, min(len(todo), jobs or os.cpu_count() or 1), timeout=timeout,
                            warm=len(todo) > 1)
    current = [str(s) for s, _, _ in items]
    qnames = [q.name for q in spec.questions]
    jobs = jobs or os.cpu_count() or 1
    counts = {"submissions": len(items), "new": len(todo) - len(changed), "changed": len(changed),
              "unchanged": len(kept), "gone": len(gone), "to_grade": len(todo)}
    note = (f"{assignment}: {len(items)} submissions, {counts['unchanged']} already graded (unchanged, kept), "
            f"{len(todo)} to grade ({counts['new']} new, {counts['changed']} changed"
            f"{': ' + _describe(changed) if changed else ''})")
    if not quiet:
        print(f"{note}, {jobs} in parallel", file=sys.stderr)
        print(_isolation_line(), file=sys.stderr)
        if stale:
            print(f"removed {len(stale)} half-written file(s) left by an interrupted run", file=sys.stderr)
        if gone:
            print(f"{len(gone)} earlier result(s) whose submission is no longer given, left out of grades.csv "
                  f"(their files are kept in {out_dir}): {', '.join(gone[:20])}{' ...' if len(gone) > 20 else ''}",
                  file=sys.stderr)
    warm = len(todo) > 1  # several submissions share one compilation of the Keras network (spec.warmup)
    grade_one = grade_one or (lambda student, path, fingerprint: grading.grade_file(
        path, assignment=assignment, include_hidden=True, lang=lang, timeout=timeout, student=student, warm=warm,
        fingerprint=fingerprint))
    running_csv = results.RunningCsv(out_dir, qnames, kept.values())
    bar = None if quiet else _progress(len(todo))
    started = time.perf_counter()
    failures = []
    regraded = []

    def work(item):
        student, path, folder, fp = item
        try:
            outside = link_outside(path, folder)
            if outside:  # never read, whichever grader (local, dask) would have read it
                result = grading.failed_result(assignment, student, i18n.t("link_outside", lang, path=outside[0],
                                                                           target=outside[1]),
                                               time.perf_counter(), status="refused", fingerprint=fp)
            else:
                result = SubmissionResult.from_json(grade_one(student, path, fp))
            if result.student != student or result.fingerprint != fp:  # grade_one ignored what it was given
                which = "the" if result.fingerprint == fp else "another"
                raise RuntimeError(f"the grader returned a result for {result.student!r} with {which} fingerprint, "
                                   f"not for {student!r}")
            result = results.write_result(out_dir, result, lang)
        except Exception as exc:  # noqa: BLE001 - a harness error for one student must not stop the class
            failures.append((student, exc))
            return None
        running_csv.add(result)
        if student in changed:
            old = float(changed[student][0].score or 0)
            if abs(old - float(result.score or 0)) > 1e-9:
                regraded.append((student, old, float(result.score or 0)))
        if on_result is not None:
            on_result(result)
        return result

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for _ in pool.map(work, todo):
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    all_results = results.write_csv(out_dir, assignment, qnames, students=current)
    regrade_path = os.path.join(out_dir, results.REGRADE_NAME)
    if regraded:
        results.atomic_write(regrade_path, results.regrade_text(regraded))
    elif os.path.exists(regrade_path):
        os.unlink(regrade_path)  # it would describe an earlier run
    try:
        reporter.write(out_dir, assignment, all_results, qnames, lang,
                       harness_failures=[(s, f"{type(e).__name__}: {e}") for s, e in failures], run_note=note)
    except Exception as exc:  # noqa: BLE001 - the grades are written; a page that failed is said, not fatal
        print(f"warning: {report.REPORT_NAME} was not written: {type(exc).__name__}: {exc}", file=sys.stderr)
    if not quiet:
        print(f"graded {len(todo)} in {time.perf_counter() - started:.1f} s; results in {out_dir} "
              f"(grades.csv, {report.REPORT_NAME})", file=sys.stderr)
    if regraded and not quiet:
        print(f"scores changed on regrading ({results.REGRADE_NAME}):", file=sys.stderr)
        for student, old, new in sorted(regraded):
            print(f"  {student}: {results._num(old)} -> {results._num(new)}", file=sys.stderr)
    for student, exc in failures:
        print(f"harness error while grading {student}: {type(exc).__name__}: {exc}", file=sys.stderr)
    if summary is not None:
        summary.update(counts, regraded=sorted(regraded), gone=gone, failed=[s for s, _ in failures])
    return all_results, failures


def class_table(all_results, assignment):
    spec = specmod.load_spec(assignment)
    names = [q.name for q in spec.questions]
    all_results = [SubmissionResult.from_json(r) for r in all_results]
    width = max([7] + [len(str(r.student)) for r in all_results])
    head = f"{'student':<{width}}  " + "  ".join(f"{n[:14]:>14}" for n in names) + f"  {'total':>7}"
    lines = [head, "-" * len(head)]
    for r in sorted(all_results, key=lambda r: str(r.student)):
        by = results.question_scores(r)
        cells = []
        for n in names:
            t = by.get(n)
            cells.append(f"{'-' if t is None else results._num(t[0]) + '/' + results._num(t[1]):>14}")
        lines.append(f"{str(r.student):<{width}}  " + "  ".join(cells) + f"  {results._num(r.score):>7}")
    return "\n".join(lines)
