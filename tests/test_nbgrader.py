"""nbgrader end to end, with the real commands in a temporary course:
`autograder nbgrader init`, `nbgrader generate_assignment`, students placed in `submitted/`,
`nbgrader autograde`, `nbgrader export`, then `autograder grade --nbgrader` and the gradebook read
back through nbgrader's API. Honest students get the same scores on both routes; a tampering
student may fool stock nbgrader but never the harness. The written questions are manually graded
answer cells: a TA's scores for them (given here through nbgrader's API, as formgrader does) are
left alone by `autograder grade --nbgrader`, and `nbgrader export` adds them to the harness's. The
written answers are part of the assignment's 100 points: full autograded marks plus full written
marks export as exactly 100, and no student exports more."""
import csv
import os
import subprocess
import sys
import time

import pytest

from autograder import spec as specmod
from autograder.authoring import answer_cells, weave
from autograder.submission import import_nbformat

pytestmark = pytest.mark.slow
nbgrader_api = pytest.importorskip("nbgrader.api")

nbformat = import_nbformat()
ROOT = specmod.repo_root()
BIN = os.path.dirname(sys.executable)
A = "01_perceptron"
QUESTIONS = ["weighted_sum", "step", "perceptron", "gates", "XOR", "train_perceptron"]
POINTS = {q.name: q.points for q in specmod.load_spec(A).questions}   # the autograded questions
AUTO = sum(POINTS.values())                                            # their part of the 100
HONEST = ("correct", "partly_wrong", "untouched")
TEMPLATE = nbformat.read(os.path.join(ROOT, "assignments", f"{A}.ipynb"), as_version=4)
WRITTEN = answer_cells(TEMPLATE)                        # {grade_id: points}, graded by hand
# what the TA gives in formgrader (before the harness runs): the correct student every written point,
# partly_wrong the first question in full and the second half, partial_credit one point
MANUAL = {"correct": dict(WRITTEN),
          "partly_wrong": {g: (p if i == 0 else p / 2) for i, (g, p) in enumerate(WRITTEN.items())},
          "partial_credit": {next(iter(WRITTEN)): 1.0}}


def _exe(name):
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} is not installed beside {sys.executable}")
    return path


def _run(args, cwd, timeout=300):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _solution(assignment):
    with open(os.path.join(ROOT, "solutions", f"{assignment}.py"), encoding="utf-8") as fh:
        return fh.read()


def _put(course, student, nb):
    folder = os.path.join(course, "submitted", student, A)
    os.makedirs(folder, exist_ok=True)
    nbformat.write(nb, os.path.join(folder, f"{A}.ipynb"))
    with open(os.path.join(folder, "timestamp.txt"), "w") as fh:
        fh.write("2025-03-01 12:00:00.000000 UTC")


def _students(course):
    release = nbformat.read(os.path.join(course, "release", A, f"{A}.ipynb"), as_version=4)
    correct = weave(release, _solution(A), markers=False)
    _put(course, "correct", correct)

    # one mistake that makes one question wholly wrong (XOR computes XNOR), the rest right
    wrong = _solution(A).replace("return AND(NAND(x1, x2), OR(x1, x2))", "return NAND(NAND(x1, x2), OR(x1, x2))")
    assert "NAND(NAND(" in wrong
    _put(course, "partly_wrong", weave(release, wrong, markers=False))

    # a question partly right (the bias is never updated while training): stock nbgrader's grade
    # cell is all or nothing, the harness gives credit per case (public and hidden)
    partial = _solution(A).replace("b = b + lr * (t[i] - y)", "b = b")
    _put(course, "partial_credit", weave(release, partial, markers=False))

    _put(course, "untouched", release)

    # tampering 1: every locked check cell edited to `pass` (stubs untouched)
    edited = nbformat.from_dict(release)
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass"
    _put(course, "tamper_cells", edited)

    # tampering 2: a new cell patching the harness, NumPy and builtins (stubs untouched)
    patched = nbformat.from_dict(release)
    patched.cells.insert(2, nbformat.v4.new_code_cell(
        "import builtins, numpy\n"
        "import autograder.notebook as _nb\n"
        "_nb.check = lambda *a, **k: None\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "numpy.array_equal = lambda *a, **k: True\n"
        "builtins.abs = lambda x: 0.0\n"))
    _put(course, "tamper_patch", patched)


def _export(course):
    _run([_exe("nbgrader"), "export", "--to", "export.csv"], course)
    with open(os.path.join(course, "export.csv"), newline="") as fh:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh) if row["assignment"] == A}


def _gradebook(course):
    db_url = f"sqlite:///{os.path.join(course, 'gradebook.db')}"
    out = {}
    with nbgrader_api.Gradebook(db_url, course_id="dl_homework") as gb:
        for sub in gb.assignment_submissions(A):
            s = sub.student.id
            out[s] = {"total": float(sub.score),
                      **{q: float(gb.find_grade(q, A, A, s).score) for q in QUESTIONS}}
            out[s]["auto"] = sum(out[s][q] for q in QUESTIONS)
            out[s]["manual"] = {g: gb.find_grade(g, A, A, s).manual_score for g in WRITTEN}
    return out


def _grade_by_hand(course):
    """What a TA does in formgrader: a manual score for each written answer."""
    with nbgrader_api.Gradebook(f"sqlite:///{os.path.join(course, 'gradebook.db')}", course_id="dl_homework") as gb:
        for student, scores in MANUAL.items():
            for grade_id, score in scores.items():
                grade = gb.find_grade(grade_id, A, A, student)
                grade.manual_score = score
        gb.db.commit()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = str(tmp_path_factory.mktemp("course") / "dl")
    timings = {}
    t0 = time.perf_counter()
    _run([_exe("autograder"), "nbgrader", "init", course], ROOT)
    _run([_exe("nbgrader"), "generate_assignment", A, "--force"], course)
    timings["init+generate"] = time.perf_counter() - t0
    _students(course)
    t1 = time.perf_counter()
    _run([_exe("nbgrader"), "autograde", A, "--force"], course)
    timings["nbgrader autograde"] = time.perf_counter() - t1
    after_autograde = _gradebook(course)
    _grade_by_hand(course)
    stock_export = _export(course)
    stock_gradebook = _gradebook(course)
    t2 = time.perf_counter()
    proc = _run([_exe("autograder"), "grade", A, "--nbgrader", course, "-j", "4"], ROOT)
    timings["autograder grade --nbgrader"] = time.perf_counter() - t2
    harness_export = _export(course)
    harness_gradebook = _gradebook(course)
    print("timings:", {k: round(v, 1) for k, v in timings.items()})
    print("stock nbgrader:", stock_gradebook)
    print("harness:", harness_gradebook)
    return {"root": course, "after_autograde": after_autograde, "stock": stock_gradebook, "stock_export": stock_export, "harness": harness_gradebook,
            "harness_export": harness_export, "table": proc.stdout}


def test_init_makes_a_course(course):
    root = course["root"]
    assert os.path.exists(os.path.join(root, "nbgrader_config.py"))
    for a in specmod.ASSIGNMENTS:
        src = os.path.join(root, "source", a, f"{a}.ipynb")
        assert os.path.exists(src)
        text = open(src, encoding="utf-8").read()
        assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text
    assert os.path.exists(os.path.join(root, "source", "05_keras_tanh", "dataset2.csv"))
    with nbgrader_api.Gradebook(f"sqlite:///{os.path.join(root, 'gradebook.db')}", course_id="dl_homework") as gb:
        assert {a.name for a in gb.assignments} >= set(specmod.ASSIGNMENTS)


def test_release_matches_assignments(course):
    release = nbformat.read(os.path.join(course["root"], "release", A, f"{A}.ipynb"), as_version=4)
    template = nbformat.read(os.path.join(ROOT, "assignments", f"{A}.ipynb"), as_version=4)
    assert [(c.cell_type, c.source) for c in release.cells] == [(c.cell_type, c.source) for c in template.cells]
    for rc, tc in zip(release.cells, template.cells):
        meta = rc.metadata.get("nbgrader", {})
        assert meta.get("grade_id") == tc.metadata["nbgrader"]["grade_id"]
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            assert "checksum" in meta and rc.metadata.get("editable") is False
        if meta.get("grade") and meta.get("solution"):          # a written answer: the student writes here
            assert rc.cell_type == "markdown" and rc.metadata.get("editable") is not False


def test_init_keeps_the_written_answers_as_manually_graded_cells(course):
    root = course["root"]
    assert 1 <= len(WRITTEN) <= 3
    source = nbformat.read(os.path.join(root, "source", A, f"{A}.ipynb"), as_version=4)
    assert answer_cells(source) == WRITTEN
    for cell in source.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in WRITTEN:
            assert "### BEGIN SOLUTION" in cell.source                 # the model answer, for the TAs
    with nbgrader_api.Gradebook(f"sqlite:///{os.path.join(root, 'gradebook.db')}", course_id="dl_homework") as gb:
        cells = {c.name: c for c in gb.find_notebook(A, A).grade_cells}
        for grade_id, points in WRITTEN.items():
            assert cells[grade_id].cell_type == "markdown" and cells[grade_id].max_score == points
        for q, points in POINTS.items():
            assert cells[q].cell_type == "code" and cells[q].max_score == points
        assert gb.find_notebook(A, A).max_score == gb.find_assignment(A).max_score == 100   # what nbgrader counts out of
    # after stock autograde the answers wait for a TA; nothing is scored for them yet
    for student in HONEST:
        assert set(course["after_autograde"][student]["manual"].values()) == {None}
        assert course["after_autograde"][student]["total"] == course["after_autograde"][student]["auto"]


def test_the_written_answers_are_inside_the_100():
    assert list(POINTS) == QUESTIONS
    assert AUTO + sum(WRITTEN.values()) == 100 and 0 < sum(WRITTEN.values()) < 100


def test_stock_nbgrader_scores_honest_students(course):
    stock = course["stock"]
    assert stock["correct"]["auto"] == AUTO
    assert stock["untouched"]["auto"] == 0
    assert stock["partly_wrong"]["auto"] == AUTO - POINTS["XOR"] and stock["partly_wrong"]["XOR"] == 0
    assert course["stock_export"]["correct"] == AUTO + sum(WRITTEN.values()) == 100


def test_harness_scores_in_gradebook_and_export(course):
    harness = course["harness"]
    assert harness["correct"]["auto"] == AUTO
    assert harness["untouched"]["auto"] == 0
    assert harness["partly_wrong"]["auto"] == AUTO - POINTS["XOR"] and harness["partly_wrong"]["XOR"] == 0
    for s in HONEST:
        assert course["harness_export"][s] == harness[s]["total"]


def test_the_harness_leaves_manual_scores_alone_and_export_adds_them_up(course):
    harness = course["harness"]
    for student in (*HONEST, "partial_credit", "tamper_cells", "tamper_patch"):
        given = MANUAL.get(student, {})
        assert harness[student]["manual"] == {g: given.get(g) for g in WRITTEN}, student
        manual = sum(given.values())
        assert harness[student]["total"] == harness[student]["auto"] + manual
        assert course["harness_export"][student] == harness[student]["auto"] + manual
    # full autograded marks and every written point: exactly the assignment's 100, and nobody above it
    assert course["harness_export"]["correct"] == 100
    assert course["harness_export"]["partly_wrong"] == AUTO - POINTS["XOR"] + sum(MANUAL["partly_wrong"].values()) < 100
    assert all(0 <= total <= 100 for total in course["harness_export"].values()), course["harness_export"]
    assert "correct" in course["table"] and "partly_wrong" in course["table"]


def test_both_routes_agree_on_honest_students(course):
    for s in HONEST:
        assert course["harness"][s] == course["stock"][s], s


def test_partial_credit_per_case(course):
    stock, harness = course["stock"]["partial_credit"], course["harness"]["partial_credit"]
    assert stock["train_perceptron"] == 0 and stock["auto"] == AUTO - POINTS["train_perceptron"]
    assert 0 <= harness["train_perceptron"] < POINTS["train_perceptron"]
    assert AUTO - POINTS["train_perceptron"] <= harness["auto"] < AUTO
    for q in QUESTIONS[:-1]:
        assert stock[q] == harness[q], q


def test_tampering_does_not_fool_the_harness(course):
    for s in ("tamper_cells", "tamper_patch"):
        assert course["harness"][s]["auto"] == 0, (s, course["harness"][s])
        assert course["harness_export"][s] == 0
    # what stock nbgrader gives (recorded, not required): it restores locked cells from the
    # gradebook, but a cell that patches the harness in the kernel fools it.
    print("stock nbgrader on tampering:", {s: course["stock"][s]["auto"] for s in ("tamper_cells", "tamper_patch")})


def test_outputs_and_feedback(course):
    root = course["root"]
    out = os.path.join(root, "autograder", A)
    assert os.path.exists(os.path.join(out, "grades.csv"))
    for s in (*HONEST, "partial_credit", "tamper_cells", "tamper_patch"):
        assert os.path.exists(os.path.join(out, f"{s}.json"))
        fb = os.path.join(root, "feedback", s, A)
        html = open(os.path.join(fb, f"{A}.html"), encoding="utf-8").read()
        assert "<html" in html and A in html
        assert os.path.exists(os.path.join(fb, "timestamp.txt"))


def test_resumed_run_records_earlier_results(course):
    """Students graded by an earlier run are not graded again, but their scores still go into the
    gradebook (here: scores zeroed by hand after the first run come back)."""
    root = course["root"]
    db_url = f"sqlite:///{os.path.join(root, 'gradebook.db')}"
    with nbgrader_api.Gradebook(db_url, course_id="dl_homework") as gb:
        for q in QUESTIONS:
            gb.find_grade(q, A, A, "correct").auto_score = 0.0
        gb.db.commit()
    assert _gradebook(root)["correct"]["auto"] == 0
    proc = _run([_exe("autograder"), "grade", A, "--nbgrader", root, "-j", "2"], ROOT)
    assert "0 to grade" in proc.stderr
    assert _gradebook(root) == course["harness"]


@pytest.mark.parametrize("forked", [True, False], ids=["process", "thread"])
def test_gradebook_writer_reports_its_failure(tmp_path, forked):
    from autograder import nbgrader_bridge
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{tmp_path}/no/such/dir/gradebook.db'\n")
    writer = nbgrader_bridge.GradebookWriter(str(tmp_path), A, forked=forked)
    assert (writer._proc is not None) == forked
    with pytest.raises(Exception) as info:
        writer.close()
    assert "gradebook" in str(info.value).lower() or "database" in str(info.value).lower(), info.value


def test_stock_autograde_sees_a_failing_check_cell_fail(course):
    """The check cell shows a failure without raising in Jupyter (Run All goes on), but raises under
    nbgrader's autograde (NBGRADER_EXECUTION=autograde), which is how stock nbgrader scores it."""
    path = os.path.join(course["root"], "autograded", "partly_wrong", A, f"{A}.ipynb")
    nb = nbformat.read(path, as_version=4)
    failed = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code"
              and c.metadata.get("nbgrader", {}).get("grade")
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))}
    assert failed == {"XOR"}
    error = next(o for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "XOR"
                 for o in c.get("outputs", []) if o.get("output_type") == "error")
    assert error["ename"] == "CheckFailed"
    assert course["stock"]["partly_wrong"]["XOR"] == 0 and course["stock"]["correct"]["XOR"] == POINTS["XOR"]


def test_a_result_is_recorded_question_by_question_and_an_unknown_cell_is_said(course, tmp_path):
    """record_in_gradebook finds the submission's grades in one query (nbgrader's models, find_grade's
    joins): each question's score lands in its own cell, the same as find_grade reads back, and a
    question the gradebook has no cell for is a note, not an error, with the others recorded."""
    import json
    import shutil
    from autograder import nbgrader_bridge, results
    root = course["root"]
    db = tmp_path / "gradebook.db"
    shutil.copy(os.path.join(root, "gradebook.db"), db)  # the course's own stays as the other tests left it
    with open(os.path.join(root, "autograder", A, "partly_wrong.json"), encoding="utf-8") as fh:
        doc = json.load(fh)
    doc["extra_data"]["student"] = "newcomer"
    ghost = dict(doc["tests"][0], name=f"{A}.no_such_cell", score=1.0, max_score=1.0,
                 extra_data=dict(doc["tests"][0]["extra_data"], question="no_such_cell"))
    doc["tests"].append(ghost)
    expected = {q: s for q, (s, _) in results.question_scores(doc).items() if q != "no_such_cell"}
    assert set(expected) == set(QUESTIONS) and len(set(expected.values())) > 1  # scores that tell cells apart
    notes = []
    with nbgrader_api.Gradebook(f"sqlite:///{db}", course_id="dl_homework") as gb:
        written = nbgrader_bridge.record_in_gradebook(gb, A, doc, root, notes)
    assert written == expected
    assert any("no_such_cell" in n for n in notes), notes
    with nbgrader_api.Gradebook(f"sqlite:///{db}", course_id="dl_homework") as gb:
        assert {q: float(gb.find_grade(q, A, A, "newcomer").auto_score) for q in QUESTIONS} == expected
