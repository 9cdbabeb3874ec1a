"""The submission's result (outcome.SubmissionResult): built once, by grading.build_result; never
changed afterwards (a frozen dataclass whose containers refuse writes); every output a view of it.

Checked on results the real builder made: a graded submission (the sandboxed harness, 01's
sample class) and one that could not be read. from_json(as_json(r)) gives r back, through a file
too; the CSV row, the feedback, the nbgrader page, the terminal table and Gradescope's
results.json show the same scores; a write anywhere in a result raises; the batch path records
the student and the fingerprint without changing anything; the fit picture gives a new result
object, never an edited one; results cross a dask boundary as plain JSON data.
"""
import ast
import copy
import csv
import dataclasses
import io
import json
import os
import pickle
import re
import time
from pathlib import Path

import pytest

from autograder import batch, cli, grading, gradescope, nbgrader_bridge, report, results
from autograder import spec as specmod
from autograder.compare import Verdict
from autograder.outcome import (CaseResult, FrozenDict, FrozenList, QuestionResult, SubmissionResult,
                                question_entries, question_scores, thaw)

A = "01_perceptron"
SPEC = specmod.load_spec(A)
QUESTIONS = [q.name for q in SPEC.questions]
ROOT = Path(specmod.repo_root())
SAMPLES = ROOT / "samples" / A
FP = {"submission": "s" * 64, "assignment": "a" * 64, "harness": "0+h"}


@pytest.fixture(scope="module")
def graded():
    """bob's sample (some questions lost), graded by the real harness with a student id and a fingerprint."""
    return grading.grade_file(str(SAMPLES / "bob.ipynb"), assignment=A, student="bob 학생", fingerprint=FP)


@pytest.fixture
def failed():
    return grading.failed_result(A, "=kim", "this notebook could not be read", time.perf_counter(),
                                 status="unreadable", fingerprint=FP)


def _plain_only(value):
    """Whether value is plain JSON data (exactly dict, list, str, int, float, bool, None) all the way down."""
    if type(value) is dict:
        return all(type(k) is str and _plain_only(v) for k, v in value.items())
    if type(value) is list:
        return all(_plain_only(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


# ---- the JSON view and back ----------------------------------------------------------------
def test_graded_result_is_typed_and_round_trips(graded):
    assert isinstance(graded, SubmissionResult)
    assert graded.student == "bob 학생" and graded.assignment == A and graded.status == "graded"
    assert graded.fingerprint == FP
    assert 0 < graded.score < graded.max_score
    assert graded.score == round(sum(t["score"] for t in graded.tests), 4)
    doc = graded.as_json()
    assert _plain_only(doc)
    assert list(doc) == ["score", "max_score", "execution_time", "output", "output_format", "stdout_visibility",
                         "tests", "extra_data"]
    assert list(doc["extra_data"]) == ["student", "assignment", "status", "sandbox", "reference",
                                       "skipped_template_cells", "cells_run", "lang", "fingerprint", "written"]
    back = SubmissionResult.from_json(json.loads(json.dumps(doc, ensure_ascii=False)))
    assert back == graded
    assert back.as_json() == doc
    assert SubmissionResult.from_json(graded) is graded


def test_failed_result_round_trips(failed):
    assert failed.status == "unreadable" and failed.score == 0 and failed.max_score == SPEC.max_score
    assert [t["name"] for t in failed.tests] == [f"{A}.{q}" for q in QUESTIONS]
    doc = failed.as_json()
    assert doc["extra_data"]["status"] == "unreadable" and doc["output"] == "this notebook could not be read"
    assert SubmissionResult.from_json(json.loads(json.dumps(doc))) == failed
    assert SubmissionResult.from_json(doc) != dataclasses.replace(failed, status="refused")


def test_stored_file_reads_back_as_the_same_result(graded, failed, tmp_path):
    for r in (graded, failed):
        assert results.write_result(str(tmp_path), r) == r   # no picture to add: the same result
    done = results.load_finished(str(tmp_path), A)
    assert done == {"bob 학생": graded, "=kim": failed}
    assert all(isinstance(r, SubmissionResult) for r in done.values())
    on_disk = json.loads((tmp_path / "bob 학생.json").read_text(encoding="utf-8"))
    assert on_disk == graded.as_json()


def test_unknown_extra_data_is_kept_and_non_results_are_refused(graded, tmp_path):
    doc = graded.as_json()
    doc["extra_data"]["from_a_newer_harness"] = {"x": [1, 2]}
    r = SubmissionResult.from_json(doc)
    assert r.more == {"from_a_newer_harness": {"x": [1, 2]}} and r.as_json() == doc
    for bad in ([], "x", {"tests": {}}, {"tests": [1]}, {"extra_data": []}, {"score": "10"}, {"score": True}):
        with pytest.raises(ValueError):
            SubmissionResult.from_json(bad)
    (tmp_path / "stray.json").write_text('{"score": "lots", "extra_data": {"assignment": "01_perceptron", '
                                         '"status": "graded", "student": "x"}}', encoding="utf-8")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    assert results.load_finished(str(tmp_path), A) == {}


# ---- nobody changes a result ---------------------------------------------------------------
def test_every_write_into_a_result_raises(graded):
    before = graded.as_json()
    with pytest.raises(dataclasses.FrozenInstanceError):
        graded.score = graded.max_score
    with pytest.raises(dataclasses.FrozenInstanceError):
        graded.student = "someone else"
    writes = [
        lambda: graded.tests[0].__setitem__("score", 100),
        lambda: graded.tests[0]["extra_data"].update(passed_cases=99),
        lambda: graded.tests[0]["extra_data"]["cases"].append({}),
        lambda: graded.tests.append({}),
        lambda: graded.tests.pop(),
        lambda: graded.fingerprint.__setitem__("submission", "x"),
        lambda: graded.reference.clear(),
        lambda: graded["extra_data"].__setitem__("status", "graded by hand"),   # the mapping view too
        lambda: graded["tests"][0].setdefault("x", 1),
        lambda: graded["extra_data"]["skipped_template_cells"].extend([1]),
    ]
    for write in writes:
        with pytest.raises(TypeError, match="read-only"):
            write()
    assert graded.as_json() == before
    # a copy is plain data, free to change, and changes nothing of the result
    mine = copy.deepcopy(graded["extra_data"])
    mine["status"] = "changed"
    assert type(mine) is dict and graded.status == "graded"
    assert thaw(graded.tests)[0] == graded.tests[0] and type(thaw(graded.tests)[0]) is dict


def test_a_changed_result_is_a_new_object(graded):
    other = dataclasses.replace(graded, student="kim")
    assert other is not graded and other.student == "kim" and graded.student == "bob 학생"
    assert other.tests == graded.tests and isinstance(other.tests, FrozenList)


def test_no_module_assigns_into_a_results_json():
    """No assignment, augmented assignment or del whose target is inside a result's JSON
    (X["extra_data"][...], X["tests"][...], X["score"] ...) anywhere in the package."""
    keys = {"extra_data", "tests", "score", "max_score", "output", "execution_time"}
    offenders = []
    for path in sorted((ROOT / "autograder").rglob("*.py")):
        if "assignments" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                sub = target
                while isinstance(sub, ast.Subscript):
                    if isinstance(sub.slice, ast.Constant) and sub.slice.value in keys and \
                            isinstance(sub.value, ast.Name) and sub.value.id in ("result", "r", "res"):
                        offenders.append(f"{path.name}:{node.lineno}")
                    sub = sub.value
    assert offenders == []


def test_pickle_and_dask_carry_plain_data(graded):
    back = pickle.loads(pickle.dumps(graded))
    assert back == graded and isinstance(back.tests, FrozenList) and isinstance(back.tests[0], FrozenDict)
    # a frozen container pickles as the plain type it holds
    assert type(pickle.loads(pickle.dumps(graded.tests[0]))) is dict


def test_a_dask_worker_returns_the_results_json(tmp_path):
    """What crosses the dask boundary is the result's JSON (plain data), rebuilt by from_json here."""
    from autograder import cluster
    payload = (SAMPLES / "alice.ipynb").read_bytes()
    doc = cluster._grade_remote("alice.ipynb", payload, A, None, "en", "alice", cluster.package_fingerprint(A), FP)
    assert _plain_only(doc)
    r = SubmissionResult.from_json(doc)
    assert r.student == "alice" and r.fingerprint == FP and r.score == r.max_score == SPEC.max_score


# ---- the views agree -----------------------------------------------------------------------
def test_csv_feedback_and_other_views_show_the_same_scores(graded, failed):
    for r in (graded, failed):
        row = list(csv.reader(io.StringIO(results.csv_text([r], QUESTIONS))))[1]
        per_question = question_scores(r)
        assert row[1:1 + len(QUESTIONS)] == [results._num(per_question[q][0]) for q in QUESTIONS]
        assert row[-3:] == [results._num(r.score), results._num(r.max_score), r.status]
        assert sum(per_question[q][0] for q in QUESTIONS) == pytest.approx(r.score, abs=1e-6)
        total = f"{results._num(r.score)} / {results._num(r.max_score)}"
        md = results.feedback_text(r)
        assert re.search(rf"^\*\*{re.escape(total)}\*\*$", md, re.M), md[:300]
        assert f"<p><b>{total}</b></p>" in nbgrader_bridge.feedback_html(r)
        assert cli.format_check(r, "en").splitlines()[0].endswith(f": {total}")
        doc = gradescope.to_results_json(r)
        assert gradescope.validate_results(doc) == []
        assert doc["score"] == r.score and [t["score"] for t in doc["tests"]] == [t["score"] for t in r.tests]
        assert doc == gradescope.to_results_json(r.as_json())   # the same view of the object and of its JSON
    assert row[0] == "'=kim"   # the CSV neutralises the id; the result keeps it
    assert failed.student == "=kim"
    page = report.render(A, [graded, failed.as_json()], QUESTIONS)   # results and stored JSON alike
    assert "bob 학생" in page and "unreadable" in page


def test_views_read_a_stored_json_as_they_read_the_result(graded):
    doc = graded.as_json()
    assert results.feedback_text(doc) == results.feedback_text(graded)
    assert results.csv_text([doc], QUESTIONS) == results.csv_text([graded], QUESTIONS)
    assert nbgrader_bridge.feedback_html(doc) == nbgrader_bridge.feedback_html(graded)
    assert cli.format_check(doc, "en") == cli.format_check(graded, "en")


# ---- the fit picture -----------------------------------------------------------------------
def _with_fit(student="kim"):
    q = SPEC.questions[0]
    curve = {"figure": "fit", "domain": [0.0, 0.5, 1.0], "student": [0.0, 0.4, 1.0], "reference": [0.0, 0.5, 1.0]}
    qr = QuestionResult(q, [CaseResult("fit", True, Verdict(True, extra=curve), q.functions[0])])
    return grading.build_result(A, student, question_entries(A, qr, "en"), [], "", time.perf_counter(), None,
                                "no sandbox", fingerprint=FP)


def test_the_picture_is_named_in_a_new_result_the_built_one_unchanged(tmp_path):
    built = _with_fit()
    written = results.write_result(str(tmp_path), built)
    assert built.figure is None and "figure" not in built.as_json()["extra_data"]
    assert written is not built and written.figure == results.figure_name("kim") == "kim.fit.png"
    assert (tmp_path / "kim.fit.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "kim.json").read_text(encoding="utf-8")) == written.as_json()
    assert "![fit](kim.fit.png)" in (tmp_path / "kim.feedback.md").read_text(encoding="utf-8")
    assert dataclasses.replace(written, figure=None) == built


def test_a_picture_that_fails_is_said_in_a_new_result(tmp_path, monkeypatch):
    built = _with_fit()

    def broken(out_dir, result):
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(results, "write_figure", broken)
    written = results.write_result(str(tmp_path), built)
    assert written.figure_error == "no fonts today" and written.figure is None and built.figure_error is None
    assert json.loads((tmp_path / "kim.json").read_text(encoding="utf-8"))["extra_data"]["figure_error"] == \
        "no fonts today"


# ---- the batch path -------------------------------------------------------------------------
def test_batch_gives_student_and_fingerprint_to_the_builder(tmp_path):
    """grade_class hands each grader the student and the fingerprint; the result comes back with
    them already (nothing is changed afterwards: the results are frozen) and is written as is."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("kim", "lee"):
        (subs / f"{name}.py").write_text("x = 1\n", encoding="utf-8")
    made = {}

    def grade_one(student, path, fingerprint):
        made[student] = grading.failed_result(A, student, "stand-in", time.perf_counter(), status="unreadable",
                                              fingerprint=fingerprint)
        return made[student]

    all_results, failures = batch.grade_class(A, [str(subs)], str(out), jobs=2, quiet=True, grade_one=grade_one)
    assert failures == []
    for student in ("kim", "lee"):
        stored = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
        expected_fp = results.fingerprint(str(subs / f"{student}.py"), A)
        assert stored["extra_data"]["student"] == student and stored["extra_data"]["fingerprint"] == expected_fp
        assert made[student].fingerprint == expected_fp and stored == made[student].as_json()
    assert sorted(all_results, key=lambda r: r.student) == [made["kim"], made["lee"]]


def test_batch_refuses_a_result_made_for_someone_else(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("kim", "park"):
        (subs / f"{name}.py").write_text("x = 1\n", encoding="utf-8")

    def grade_one(student, path, fingerprint):
        if student == "park":  # the right student, another fingerprint
            return grading.failed_result(A, student, "stand-in", time.perf_counter(), fingerprint=FP)
        return grading.failed_result(A, "lee", "stand-in", time.perf_counter(), fingerprint=fingerprint)

    _, failures = batch.grade_class(A, [str(subs)], str(out), jobs=1, quiet=True, grade_one=grade_one)
    assert sorted(s for s, _ in failures) == ["kim", "park"]
    assert "'lee'" in str(dict(failures)["kim"]) and "another fingerprint" in str(dict(failures)["park"])
    assert sorted(os.listdir(out)) == ["grades.csv", "report.html"]


# ---- the written answers: part of the 100, graded by hand, said in every view -----------------
def test_the_written_answers_are_recorded_and_said_to_be_graded_by_hand(graded, failed):
    from autograder.authoring import answer_cells
    from autograder.submission import import_nbformat
    template = import_nbformat().read(grading.template_path(A), as_version=4)
    answers = answer_cells(template)
    assert answers, "01's notebook has written answers"
    for result in (graded, failed):
        assert {w["name"]: w["points"] for w in result.written} == answers
        assert SubmissionResult.from_json(json.loads(json.dumps(result.as_json()))).written == result.written
    # the autograded questions and the written answers make the assignment's 100
    assert SPEC.max_score + sum(answers.values()) == 100
    assert graded.max_score + sum(answers.values()) == 100
    for lang in ("en", "ko"):
        text = results.feedback_text(graded, lang)
        for name in answers:
            assert results.md_inline(name) in text
        assert results.md_inline(results.written_lines(graded, lang)[0]) in text
        assert results.written_lines(graded, lang)[0] in cli.format_check(graded, lang)
        import html
        assert html.escape(results.written_lines(graded, lang)[0], quote=True) in report.render(A, [graded], QUESTIONS, lang)
    # a result without a template to read (another assignment's, or an old file) says nothing of them
    bare = SubmissionResult.from_json(dict(graded.as_json(), extra_data={
        k: v for k, v in graded.as_json()["extra_data"].items() if k != "written"}))
    assert bare.written is None and results.written_lines(bare) == []
