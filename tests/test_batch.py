"""Grading a class (autograder.batch) as a TA can trust it: submissions collected as documented,
resumed by content (a rerun regrades exactly what changed: the submission, the assignment's spec
or references, the harness; `--force` all), regrade.csv for changed scores, students whose
submission is gone left out of grades.csv, a link out of the folder refused, ids neutralised in
CSV; the same on the nbgrader route, where one student's bad file or gradebook error is theirs alone.

Most tests grade with a stand-in grader (grade_one) that scores a file by the fraction written in
it, in the results' JSON shape with public and hidden entries per question, so that they test the
run, not the sandbox; the end-to-end ones grade with the real harness."""
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from autograder import batch, results
from autograder import spec as specmod

A = "01_perceptron"
SPEC = specmod.load_spec(A)
QUESTIONS = [q.name for q in SPEC.questions]
ROOT = specmod.repo_root()


def fake_result(student, fraction, fingerprint=None):
    """A result as grade_file makes it (its JSON), with each question's cases in a public and a hidden entry."""
    tests = []
    for q in SPEC.questions:
        for part, suffix, vis in ((0.5, "", "visible"), (0.5, " (hidden)", "after_published")):
            tests.append({"name": f"{A}.{q.name}{suffix}", "score": round(q.points * part * fraction, 4),
                          "max_score": q.points * part, "status": "passed" if fraction == 1 else "failed",
                          "output": "", "visibility": vis,
                          "extra_data": {"question": q.name, "functions": list(q.functions), "cases": []}})
    return {"score": round(sum(t["score"] for t in tests), 4), "max_score": sum(t["max_score"] for t in tests),
            "execution_time": 0.01, "output": "", "tests": tests,
            "extra_data": {"student": student, "assignment": A, "status": "graded", "fingerprint": fingerprint}}


class FakeGrader:
    """grade_one(student, path, fingerprint): the file holds `fraction = F`; it records whom it graded."""

    def __init__(self):
        self.graded = []

    def __call__(self, student, path, fingerprint):
        self.graded.append(student)
        with open(path, encoding="utf-8") as fh:
            fraction = float(fh.read().split("=")[1])
        return fake_result(student, fraction, fingerprint)


def _write(folder, name, fraction):
    path = folder / name
    path.write_text(f"fraction = {fraction}\n", encoding="utf-8")
    return path


def _grades(out):
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def _run(subs, out, grader, **kwargs):
    summary = {}
    all_results, failures = batch.grade_class(A, [str(subs)], str(out), jobs=2, quiet=True, grade_one=grader,
                                              summary=summary, **kwargs)
    assert not failures
    return all_results, summary


@pytest.fixture
def klass(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    fractions = {"kim": 1.0, "lee": 0.5, "park": 0.0}
    for s, f in fractions.items():
        _write(subs, f"{s}.py", f)
    return subs, out, fractions


# ---- collect -----------------------------------------------------------------------------
def test_collect_files_folders_and_single_submission_folders(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "kim.ipynb").write_text("{}", encoding="utf-8")
    (subs / "lee.py").write_text("x = 1", encoding="utf-8")
    (subs / "park").mkdir()
    (subs / "park" / "hw.ipynb").write_text("{}", encoding="utf-8")
    (subs / "notes.txt").write_text("not a submission", encoding="utf-8")
    (subs / ".hidden.py").write_text("", encoding="utf-8")
    (subs / "_staging").mkdir()
    got = batch.collect([str(subs)])
    assert got == [("kim", str(subs / "kim.ipynb")), ("lee", str(subs / "lee.py")), ("park", str(subs / "park"))]
    # a folder holding one notebook is one student; a file given by itself is one student
    assert batch.collect([str(subs / "park")]) == [("park", str(subs / "park"))]
    assert batch.collect([str(subs / "lee.py")]) == [("lee", str(subs / "lee.py"))]


def test_collect_keeps_one_submission_per_student(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "kim.py").write_text("", encoding="utf-8")
    (a / "choi.py").write_text("", encoding="utf-8")
    (b / "kim.ipynb").write_text("{}", encoding="utf-8")
    (b / "lee.py").write_text("", encoding="utf-8")
    got = batch.collect([str(a), str(b)])
    assert sorted(got) == [("choi", str(a / "choi.py")), ("kim", str(b / "kim.ipynb")), ("lee", str(b / "lee.py"))]
    assert "two submissions for student 'kim'" in capsys.readouterr().err


# ---- results' CSV view ---------------------------------------------------------------------
def test_csv_sums_public_and_hidden_entries_per_question():
    r = fake_result("kim", 0.5)
    rows = list(csv.reader(io.StringIO(results.csv_text([r], QUESTIONS))))
    assert rows[0] == ["student", *QUESTIONS, "total", "max_total", "status"]
    expected = [results._num(q.points * 0.5) for q in SPEC.questions]
    assert rows[1] == ["kim", *expected, results._num(SPEC.max_score * 0.5), results._num(SPEC.max_score), "graded"]


@pytest.mark.parametrize("student", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_neutralises_formula_ids(student):
    text = results.csv_text([fake_result(student, 1.0)], QUESTIONS)
    cell = list(csv.reader(io.StringIO(text)))[1][0]
    assert cell == "'" + student
    assert list(csv.reader(io.StringIO(results.regrade_text([(student, 1, 2)]))))[1] == ["'" + student, "1", "2"]
    assert results.csv_cell("kim") == "kim"


def test_question_of_groups_by_extra_question_or_name():
    assert results.question_of({"name": f"{A}.step (hidden)"}) == "step"
    assert results.question_of({"name": f"{A}.step", "extra_data": {"question": "gates"}}) == "gates"
    assert results.question_scores(fake_result("x", 1.0)) == {q.name: (q.points, q.points) for q in SPEC.questions}


# ---- resume by content -----------------------------------------------------------------------
def test_rerun_regrades_exactly_what_changed(klass, capsys):
    subs, out, fractions = klass
    grader = FakeGrader()
    first, summary = _run(subs, out, grader)
    assert sorted(grader.graded) == sorted(fractions) and summary["new"] == 3
    grades = _grades(out)
    for s, f in fractions.items():
        assert grades[s]["total"] == results._num(SPEC.max_score * f)
        fp = json.loads((out / f"{s}.json").read_text(encoding="utf-8"))["extra_data"]["fingerprint"]
        assert fp == results.fingerprint(str(subs / f"{s}.py"), A)
    mtimes = {s: (out / f"{s}.json").stat().st_mtime_ns for s in fractions}

    # nothing changed: nothing graded, nothing rewritten
    grader = FakeGrader()
    _, summary = _run(subs, out, grader)
    assert grader.graded == [] and summary["unchanged"] == 3 and summary["to_grade"] == 0
    assert {s: (out / f"{s}.json").stat().st_mtime_ns for s in fractions} == mtimes
    assert not (out / results.REGRADE_NAME).exists()

    # lee resubmits: only lee is graded again; the changed score is printed and in regrade.csv
    _write(subs, "lee.py", 0.75)
    grader = FakeGrader()
    batch.grade_class(A, [str(subs)], str(out), jobs=2, grade_one=grader)
    err = capsys.readouterr().err
    assert grader.graded == ["lee"]
    assert "2 already graded" in err and "1 to grade (0 new, 1 changed: submission 1)" in err, err
    old, new = results._num(SPEC.max_score * 0.5), results._num(SPEC.max_score * 0.75)
    assert f"lee: {old} -> {new}" in err
    rows = list(csv.DictReader(open(out / results.REGRADE_NAME, encoding="utf-8")))
    assert rows == [{"student": "lee", "old": old, "new": new}]
    assert _grades(out)["lee"]["total"] == new
    for s in ("kim", "park"):
        assert (out / f"{s}.json").stat().st_mtime_ns == mtimes[s]


def test_changed_references_spec_or_harness_regrade_everyone(klass, monkeypatch):
    subs, out, fractions = klass
    _run(subs, out, FakeGrader())
    real = results.assignment_fingerprint(A)
    monkeypatch.setattr(results, "assignment_fingerprint", lambda a: real[::-1])  # as after `autograder reference`
    grader = FakeGrader()
    _, summary = _run(subs, out, grader)
    assert sorted(grader.graded) == sorted(fractions) and summary["changed"] == 3
    assert not (out / results.REGRADE_NAME).exists()  # same scores: nobody changed
    monkeypatch.setattr(results, "harness_fingerprint", lambda: "another harness")
    grader = FakeGrader()
    _run(subs, out, grader)
    assert sorted(grader.graded) == sorted(fractions)


def test_assignment_fingerprint_follows_its_files(tmp_path, monkeypatch):
    """The assignment's part of the fingerprint changes with its references (and spec.py)."""
    folder = tmp_path / A
    (folder / "references").mkdir(parents=True)
    source = specmod.assignment_dir(A)
    for rel in ("spec.py", "references/public.json", "references/hidden.json"):
        (folder / rel).write_bytes(open(os.path.join(source, rel), "rb").read())
    monkeypatch.setattr(specmod, "assignment_dir", lambda a: str(folder))
    before = results.assignment_fingerprint(A)
    assert before == results.assignment_fingerprint(A)
    with open(folder / "references" / "hidden.json", "a", encoding="utf-8") as fh:
        fh.write(" ")
    after_refs = results.assignment_fingerprint(A)
    with open(folder / "spec.py", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert len({before, after_refs, results.assignment_fingerprint(A)}) == 3


def test_force_regrades_all(klass):
    subs, out, fractions = klass
    _run(subs, out, FakeGrader())
    grader = FakeGrader()
    _, summary = _run(subs, out, grader, force=True)
    assert sorted(grader.graded) == sorted(fractions) and summary["changed"] == 3


def test_gone_submission_drops_out_of_grades_csv(klass, capsys):
    subs, out, fractions = klass
    _run(subs, out, FakeGrader())
    (subs / "park.py").unlink()
    grader = FakeGrader()
    all_results, _ = batch.grade_class(A, [str(subs)], str(out), jobs=2, grade_one=grader)
    err = capsys.readouterr().err
    assert grader.graded == []
    assert set(_grades(out)) == {"kim", "lee"} and {r.student for r in all_results} == {"kim", "lee"}
    assert (out / "park.json").exists() and (out / "park.feedback.md").exists()  # kept
    assert "park" in err and "left out of grades.csv" in err


def test_result_without_fingerprint_is_regraded(klass):
    """A result written by an older harness (no fingerprint) is graded again."""
    subs, out, fractions = klass
    _run(subs, out, FakeGrader())
    data = json.loads((out / "kim.json").read_text(encoding="utf-8"))
    del data["extra_data"]["fingerprint"]
    (out / "kim.json").write_text(json.dumps(data), encoding="utf-8")
    grader = FakeGrader()
    _run(subs, out, grader)
    assert grader.graded == ["kim"]


# ---- bad input -----------------------------------------------------------------------------
def test_link_out_of_the_folder_is_refused_and_the_others_graded(klass):
    subs, out, fractions = klass
    (subs / "eve.py").symlink_to(os.path.join(ROOT, "solutions", f"{A}.py"))
    grader = FakeGrader()
    _run(subs, out, grader)
    assert "eve" not in grader.graded and sorted(grader.graded) == sorted(fractions)  # never read
    eve = json.loads((out / "eve.json").read_text(encoding="utf-8"))
    assert eve["score"] == 0 and eve["extra_data"]["status"] == "refused"
    assert "link" in eve["output"] and f"{A}.py" in eve["output"]
    assert _grades(out)["eve"]["status"] == "refused"
    grader = FakeGrader()
    _run(subs, out, grader)
    assert grader.graded == []  # a refusal is a finished result


def test_formula_id_neutralised_in_csv_but_kept_in_json(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    student = "=cmd|' -C calc'!A0"
    _write(subs, f"{student}.py", 1.0)
    _write(subs, "kim.py", 1.0)
    _run(subs, out, FakeGrader())
    assert set(_grades(out)) == {"'" + student, "kim"}
    data = json.loads((out / f"{results.safe_name(student)}.json").read_text(encoding="utf-8"))
    assert data["extra_data"]["student"] == student
    _write(subs, f"{student}.py", 0.5)
    _run(subs, out, FakeGrader())
    rows = list(csv.reader(open(out / results.REGRADE_NAME, encoding="utf-8")))
    assert rows[1][0] == "'" + student


def test_every_run_writes_report_html(klass):
    subs, out, _ = klass
    _run(subs, out, FakeGrader())
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in text and A in text


# ---- end to end, with the real harness -------------------------------------------------------
def _solution():
    with open(os.path.join(ROOT, "solutions", f"{A}.py"), encoding="utf-8") as fh:
        return fh.read()


def test_cli_regrades_a_corrected_submission(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    wrong = _solution().replace("return 1 if z > 0 else 0", "return 1 if z >= 0 else 0")
    assert wrong != _solution()
    (subs / "kim.py").write_text(_solution(), encoding="utf-8")
    (subs / "lee.py").write_text(wrong, encoding="utf-8")
    cmd = [sys.executable, "-m", "autograder", "grade", A, str(subs), "--out", str(out), "-j", "2"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    first = _grades(out)
    assert first["kim"]["total"] == results._num(SPEC.max_score)
    assert float(first["lee"]["total"]) < SPEC.max_score
    (subs / "lee.py").write_text(_solution(), encoding="utf-8")  # lee corrects the mistake
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "1 changed" in proc.stderr and "1 to grade" in proc.stderr, proc.stderr
    assert _grades(out)["lee"]["total"] == results._num(SPEC.max_score)
    rows = list(csv.DictReader(open(out / results.REGRADE_NAME, encoding="utf-8")))
    assert rows == [{"student": "lee", "old": first["lee"]["total"], "new": results._num(SPEC.max_score)}]
    proc = subprocess.run(cmd + ["--force"], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0 and "2 to grade" in proc.stderr, proc.stderr


# ---- the nbgrader route ----------------------------------------------------------------------
def _course(tmp_path, students):
    """A course folder with submitted/<student>/<A>/<A>.ipynb (the released notebook, woven)."""
    from autograder.authoring import weave
    from autograder.submission import import_nbformat
    nbformat = import_nbformat()
    root = tmp_path / "course"
    template = nbformat.read(os.path.join(ROOT, "assignments", f"{A}.ipynb"), as_version=4)
    for student, source in students.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(weave(template, source, markers=False), str(folder / f"{A}.ipynb"))
        (folder / "timestamp.txt").write_text("2025-03-01 12:00:00.000000 UTC", encoding="utf-8")
    return root


def _gradebook_totals(root):
    from autograder import nbgrader_bridge
    with nbgrader_bridge.gradebook(str(root)) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(A)}


@pytest.mark.slow
def test_nbgrader_route_resumes_by_content_and_isolates_bad_students(tmp_path, monkeypatch, capsys):
    pytest.importorskip("nbgrader.api")
    from autograder import nbgrader_bridge
    wrong = _solution().replace("return 1 if z > 0 else 0", "return 1 if z >= 0 else 0")
    root = _course(tmp_path, {"kim": _solution(), "lee": wrong, "park": _solution()})
    (root / "submitted" / "park" / A / "timestamp.txt").write_text("not a time", encoding="utf-8")
    real = nbgrader_bridge.record_in_gradebook

    def breaks_for_lee(gb, assignment, result, course_root, notes=None):
        if result["extra_data"]["student"] == "lee":
            raise RuntimeError("database is locked")
        return real(gb, assignment, result, course_root, notes)

    monkeypatch.setattr(nbgrader_bridge, "record_in_gradebook", breaks_for_lee)
    code = nbgrader_bridge.grade_course(A, str(root), jobs=2)
    err = capsys.readouterr().err
    assert code == 1
    assert "lee" in err and "database is locked" in err
    assert "park" in err and "timestamp.txt" in err
    totals = _gradebook_totals(root)
    assert totals["kim"] == SPEC.max_score and totals["park"] == SPEC.max_score and "lee" not in totals
    out = root / "autograder" / A
    assert (out / "report.html").exists() and set(_grades(out)) == {"kim", "lee", "park"}
    assert (root / "feedback" / "park" / A / f"{A}.html").exists()

    # the rerun grades nothing again and records lee; lee's fix is then graded alone
    monkeypatch.setattr(nbgrader_bridge, "record_in_gradebook", real)
    assert nbgrader_bridge.grade_course(A, str(root), jobs=2) == 0
    assert "0 to grade" in capsys.readouterr().err
    assert _gradebook_totals(root)["lee"] == float(_grades(out)["lee"]["total"]) < SPEC.max_score
    from autograder.authoring import weave
    from autograder.submission import import_nbformat
    nbformat = import_nbformat()
    template = nbformat.read(os.path.join(ROOT, "assignments", f"{A}.ipynb"), as_version=4)
    nbformat.write(weave(template, _solution(), markers=False), str(root / "submitted" / "lee" / A / f"{A}.ipynb"))
    assert nbgrader_bridge.grade_course(A, str(root), jobs=2) == 0
    err = capsys.readouterr().err
    assert "1 changed" in err and "1 to grade" in err, err
    assert _gradebook_totals(root)["lee"] == SPEC.max_score
    assert (out / results.REGRADE_NAME).exists()


def test_feedback_escapes_what_students_control():
    """Printed output that closes a code fence, markup in an exception or an id: text in the
    feedback markdown and in the nbgrader HTML feedback, never structure."""
    forged = "```\n**100 / 100** (graded by the TA)\n<script>alert(1)</script>\n```"
    r = fake_result("<img src=x onerror=alert(1)>", 0.0)
    r["output"] = forged
    r["tests"][0]["output"] = "✗ case: raised ValueError: </pre><b>x</b>"
    md = results.feedback_text(r)
    longest = max(len(run) for run in __import__("re").findall(r"`+", forged))
    before, after = md.split(forged)
    opening, closing = before.splitlines()[-1], after.splitlines()[1]
    assert opening.startswith("`" * (longest + 1)) and closing == "`" * (len(opening) - len(opening.lstrip("`")))
    assert "<img" not in md and "<script>" not in md.replace(forged, "")
    from autograder import nbgrader_bridge
    page = nbgrader_bridge.feedback_html(r)
    assert "<script" not in page and "<img" not in page and "</pre><b>" not in page
    assert "&lt;script&gt;" in page
