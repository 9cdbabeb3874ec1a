"""The released notebooks: every graded function is a stub as shipped, and each notebook runs top
to bottom (check cells included) once the stubs are filled with solutions/ (nbclient)."""
import ast
import os
import re

import pytest

from autograder import spec as specmod
from autograder.authoring import answer_cells, stub_functions, weave
from autograder.submission import import_nbformat

nbformat = import_nbformat()
ROOT = specmod.repo_root()


def _notebook(assignment):
    return nbformat.read(os.path.join(ROOT, "assignments", f"{assignment}.ipynb"), as_version=4)


def _solution(assignment):
    with open(os.path.join(ROOT, "solutions", f"{assignment}.py"), encoding="utf-8") as fh:
        return fh.read()


@pytest.mark.parametrize("assignment", specmod.ASSIGNMENTS)
def test_metadata_points_and_check_cells_match_the_spec(assignment):
    nb = _notebook(assignment)
    assert nb.metadata["autograder"]["assignment"] == assignment
    spec = specmod.load_spec(assignment)
    grade_cells = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
                   if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
    assert {q.name: q.points for q in spec.questions} == {k: c.metadata["nbgrader"]["points"] for k, c in grade_cells.items()}
    # the assignment is worth 100 points: the autograded questions and the written ones together
    assert sum(q.points for q in spec.questions) + sum(answer_cells(nb).values()) == 100
    assert 0 < sum(answer_cells(nb).values()) < 100
    for q in spec.questions:
        assert f'check("{assignment}.{q.name}")' in grade_cells[q.name].source
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


LABEL = re.compile(r"\*\*\[(\d+)점 / (\d+) points\]\*\*")


@pytest.mark.parametrize("assignment", specmod.ASSIGNMENTS)
def test_the_points_the_notebook_states_are_its_grade_cells_points(assignment):
    """Each graded cell's points (check cell or written answer) are the label of the nearest heading
    above it, and the labels add up to the assignment's 100; a points table, where there is one,
    says the same."""
    nb = _notebook(assignment)
    labelled = {}
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        heading = next(c for c in reversed(nb.cells[:i]) if c.cell_type == "markdown" and LABEL.search(c.source))
        (ko, en), = LABEL.findall(heading.source)
        assert float(ko) == float(en) == meta["points"], (meta["grade_id"], ko, en, meta["points"])
        labelled[id(heading)] = float(ko)
    assert sum(labelled.values()) == 100
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert len(LABEL.findall(text)) == len(labelled)          # no label without its grade cell
    table = [line for line in nb.cells[0].source.splitlines() if line.startswith("|") and "배점" not in line
             and not set(line) <= set("|- ")]
    if table:                                                 # the intro's points table
        rows = [float(line.rstrip(" |").rsplit("|", 1)[1]) for line in table[:-1]]
        assert table[-1].rstrip(" |").rsplit("|", 1)[1].strip(" *") == "100"
        spec = specmod.load_spec(assignment)
        assert rows == [q.points for q in spec.questions] + [sum(answer_cells(nb).values())]


class _Anything:
    """Stands in for modules the annotations mention (keras, pandas ...), without importing them."""

    def __getattr__(self, name):
        return self

    def __getitem__(self, item):
        return self

    def __call__(self, *args, **kwargs):
        return self


def _stub_globals():
    import typing

    import numpy
    g = {"np": numpy, "step_fn": None, "keras": _Anything(), "pd": _Anything(), "plt": _Anything()}
    g.update({name: getattr(typing, name) for name in ("Callable", "Any", "Optional", "Tuple", "Dict", "List")})
    return g


@pytest.mark.parametrize("assignment", specmod.ASSIGNMENTS)
def test_every_graded_function_is_a_stub_that_raises(assignment):
    nb = _notebook(assignment)
    spec = specmod.load_spec(assignment)
    graded = {f for q in spec.questions for f in q.functions}
    stubs = set(stub_functions(nb))
    assert graded <= stubs, f"not stubs: {graded - stubs}"
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue   # (written answers are markdown solution cells)
        tree = ast.parse(cell.source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in graded:
                body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
                assert len(body) == 1 and isinstance(body[0], ast.Raise), node.name
                ns = {}
                stub = ast.Module(body=[ast.FunctionDef(name=node.name, args=node.args, body=node.body,
                                                        decorator_list=[], returns=None, type_params=[])],
                                  type_ignores=[])
                ast.fix_missing_locations(stub)
                exec(compile(stub, "<stub>", "exec"), _stub_globals(), ns)
                n_required = len(node.args.args) - len(node.args.defaults)
                with pytest.raises(NotImplementedError):
                    ns[node.name](*([None] * n_required))


def _execute(nb, folder, env=None):
    """Run every cell with nbclient in `folder` (as Restart & Run All from there). Returns the errors."""
    from nbclient import NotebookClient
    from grading_helpers import environment
    os.environ.setdefault("MPLBACKEND", "Agg")
    with environment(**(env or {})):
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}},
                                allow_errors=True)
        client.execute()
    return [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def _shown(cell):
    return "".join(o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values()) for o in cell.get("outputs", []))


def _check_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", specmod.ASSIGNMENTS)
def test_notebook_runs_where_it_is_with_solutions_woven_in(assignment):
    """Restart & Run All of a correct notebook in assignments/ itself (05 finds data/dataset2.csv
    with data_path, nothing copied): no error, and every check cell shows its public cases passed."""
    nb = weave(_notebook(assignment), _solution(assignment), markers=False)
    errors = _execute(nb, os.path.join(ROOT, "assignments"))
    assert not errors, errors[0]
    for cell in _check_cells(nb):
        shown = _shown(cell)
        assert "✓" in shown and "✗" not in shown, shown[:2000]


@pytest.mark.slow
def test_a_failing_check_cell_reports_without_stopping_run_all_but_fails_under_nbgrader():
    assignment = "01_perceptron"
    wrong = _solution(assignment).replace("return AND(NAND(x1, x2), OR(x1, x2))", "return NAND(NAND(x1, x2), OR(x1, x2))")
    assert wrong != _solution(assignment)
    nb = weave(_notebook(assignment), wrong, markers=False)
    errors = _execute(nb, os.path.join(ROOT, "assignments"), env={"NBGRADER_EXECUTION": "", "AUTOGRADER_CHECK_RAISE": ""})
    assert not errors, errors[0]                                   # Run All went to the end
    xor = next(c for c in _check_cells(nb) if '"01_perceptron.XOR"' in c.source)
    assert "✗" in _shown(xor)                                       # ... and the XOR check shows its failure
    last_demo = [c for c in nb.cells if "demo" in c.metadata.get("tags", [])][-1]
    assert last_demo.get("execution_count"), "the cells after the failing check ran"

    nb = weave(_notebook(assignment), wrong, markers=False)
    errors = _execute(nb, os.path.join(ROOT, "assignments"), env={"NBGRADER_EXECUTION": "autograde"})
    failed = {nb.cells[i].metadata["nbgrader"]["grade_id"] for i, o in errors}
    assert failed == {"XOR"}, failed                                # under nbgrader the check cell fails

# ---- issue 14: terms, the rule about extra cells, written answers, the in-notebook check ----------

import numpy as np  # noqa: E402

from autograder import authoring, i18n, notebook, submission  # noqa: E402

WRITTEN = list(specmod.ASSIGNMENTS)
# words the notebooks once used for what TERMS names otherwise
OLD_TERMS = ["비공개 테스트", "공개 테스트", "공개된 테스트", "공개되지 않은 케이스", "테스트 케이스", "데모 셀",
             "채점하지 않습니다", "채점하지 않음"]


def _markdown(nb):
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _rule_block(nb):
    text = nb.cells[0].source
    start = text.index("**셀에 관한 규칙")
    return text[start:]


@pytest.mark.parametrize("assignment", WRITTEN)
def test_notebooks_use_the_shared_terms(assignment):
    text = _markdown(_notebook(assignment))
    for old in OLD_TERMS:
        assert old not in text, old
    for key in ("public_case", "hidden_case", "check_cell", "demo_cell"):
        assert i18n.term(key, "ko") in text, key
    # the feedback speaks of the same cases
    assert i18n.t("hidden_case", "ko") == i18n.term("hidden_case", "ko")
    assert i18n.t("public_case", "ko") == i18n.term("public_case", "ko")


def test_every_notebook_states_the_same_rule_about_extra_cells():
    blocks = {a: _rule_block(_notebook(a)) for a in WRITTEN}
    first = blocks[WRITTEN[0]]
    rule = first[:first.index("- 확인 셀은")]      # the part about which cells run
    for a, block in blocks.items():
        assert block.startswith(rule), a
        text = _markdown(_notebook(a))
        # no notebook says otherwise elsewhere (old invitations to experiment in new cells, or warnings)
        assert "새 셀을 만들어 확인해 보세요" not in text and "새 셀을 추가하세요" not in text
        assert "다른 노트북에서 하거나" not in text


@pytest.mark.parametrize("assignment", WRITTEN)
def test_the_grader_applies_the_stated_rule(assignment, tmp_path):
    """A new cell runs at grading; an unchanged demo or check cell does not; an edited demo cell does."""
    nb = _notebook(assignment)
    demo = next(c for c in nb.cells if "demo" in c.metadata.get("tags", []))
    check_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                      and not c.metadata["nbgrader"].get("solution"))
    edited = nbformat.from_dict(nb)
    new = nbformat.v4.new_code_cell("experiment = 1 + 1")
    edited.cells.insert(2, new)
    edited_demo = next(c for c in edited.cells if "demo" in c.metadata.get("tags", []))
    edited_demo.source += "\nprint('changed')"
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(edited, str(path))
    template = os.path.join(ROOT, "assignments", f"{assignment}.ipynb")
    skip = submission.template_skip_set(template)
    sub = submission.read_submission(str(path), skip_for=lambda a: skip, assignment=assignment)
    sources = [c["source"] for c in sub.cells]
    assert any("experiment = 1 + 1" in s for s in sources)
    assert any("print('changed')" in s for s in sources)
    assert not any(submission.normalize(check_cell.source) == submission.normalize(s) for s in sources)
    others = [c for c in nb.cells if "demo" in c.metadata.get("tags", []) and c.source != demo.source]
    for c in others:
        assert not any(submission.normalize(c.source) == submission.normalize(s) for s in sources)


@pytest.mark.parametrize("assignment", WRITTEN)
def test_written_questions_are_manually_graded_answer_cells(assignment):
    nb = _notebook(assignment)
    answers = authoring.answer_cells(nb)
    assert 1 <= len(answers) <= 3
    text = _markdown(nb)
    total = sum(answers.values())
    assert f"모두 {total:g}점" in nb.cells[0].source            # the notebook says what they are worth
    assert "생각해 볼 질문 (채점하지 않" not in text
    for cell in nb.cells:
        if authoring.is_answer_cell(cell):
            meta = cell.metadata["nbgrader"]
            assert meta["points"] > 0 and meta["grade_id"].startswith("written_") and not meta.get("locked")
            assert cell.source == authoring.TEXT_STUB
            assert meta["grade_id"] in authoring.MODEL_ANSWERS
    woven = authoring.weave(nb, _solution(assignment), markers=True)
    for cell in woven.cells:
        if authoring.is_answer_cell(cell):
            assert cell.source.startswith("### BEGIN SOLUTION") and cell.source.endswith("### END SOLUTION")
    # the written answers are part of the assignment's 100 points, not on top of them, and the notebook says so
    auto = sum(q.points for q in specmod.load_spec(assignment).questions)
    assert auto + total == 100
    assert f"자동 채점 {auto:g}점 + 서술형 {total:g}점 = 100점" in nb.cells[0].source
    head = next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_head"))
    assert f"{total:g} of the 100 points" in head and f"이 {total:g}점은 과제 100점에 들어 있습니다" in head
    assert "따로 더해집니다" not in text and "100점과 따로" not in text and "자동 채점 합계는 100점" not in text


def _entry(score=11.7857, max_score=25, passed=False):
    cases = [{"name": "case one", "public": True, "passed": True, "message": ""},
             {"name": "case two", "public": True, "passed": passed, "message": "" if passed else "wrong value"}]
    lines = ["✓ case one", "✓ case two" if passed else "✗ case two: 값이 다릅니다", "힌트: 합이 아니라 평균입니다"]
    return {"name": "03_backprop.loss", "score": score, "max_score": max_score,
            "status": "passed" if passed else "failed", "output": "\n".join(lines), "extra_data": {"cases": cases}}


def test_the_check_table_is_korean_with_the_hint_in_sight_and_rounded_scores():
    html = notebook._Report(_entry(), "ko")._repr_html_()
    assert "<details" not in html                        # nothing collapsed
    assert "힌트: 합이 아니라 평균입니다" in html           # the hint is visible
    assert "11.79 / 25" in html and "11.7857" not in html   # results' number format
    assert i18n.term("public_case", "ko") in html and i18n.term("message", "ko") in html
    assert ">case<" not in html and ">message<" not in html  # no English headers
    assert "값이 다릅니다" in html
    text = repr(notebook._Report(_entry(), "ko"))
    assert "11.79 / 25" in text and "힌트" in text
    english = notebook._Report(_entry(), "en")._repr_html_()
    assert i18n.term("public_case", "en") in english


def test_a_failing_check_raises_only_under_nbgrader(monkeypatch):
    ns = {"np": np, "step": lambda z: 1}          # wrong at z <= 0
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("AUTOGRADER_CHECK_RAISE", raising=False)
    assert notebook.check("01_perceptron.step", namespace=ns) is None      # shown, not raised
    for run in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", run)
        with pytest.raises(notebook.CheckFailed):
            notebook.check("01_perceptron.step", namespace=ns)
    ns_ok = {"np": np, "step": lambda z: 1 if z > 0 else 0}
    assert notebook.check("01_perceptron.step", namespace=ns_ok) is None     # a passing check never raises
    monkeypatch.setenv("AUTOGRADER_CHECK_RAISE", "0")
    assert notebook.check("01_perceptron.step", namespace=ns) is None
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setenv("AUTOGRADER_CHECK_RAISE", "1")
    with pytest.raises(notebook.CheckFailed):
        notebook.check("01_perceptron.step", namespace=ns)


def test_data_path_finds_the_data_where_the_notebooks_are(tmp_path):
    assignments = os.path.join(ROOT, "assignments")
    found = notebook.data_path("dataset2.csv", start=assignments)
    assert os.path.samefile(os.path.join(assignments, found), os.path.join(ROOT, "data", "dataset2.csv"))
    # a bundle's layout: <bundle>/assignments/<nb> and <bundle>/data/<file>; and a copy beside the notebook wins
    (tmp_path / "assignments").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dataset2.csv").write_text("x,y\n0,0\n")
    got = notebook.data_path("dataset2.csv", start=str(tmp_path / "assignments"))
    assert os.path.samefile(tmp_path / "assignments" / got, tmp_path / "data" / "dataset2.csv")
    (tmp_path / "assignments" / "dataset2.csv").write_text("x,y\n1,1\n")
    assert notebook.data_path("dataset2.csv", start=str(tmp_path / "assignments")) == "dataset2.csv"
    with pytest.raises(FileNotFoundError):
        notebook.data_path("no-such-file.csv", start=str(tmp_path))
