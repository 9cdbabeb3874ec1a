"""A new assignment is one folder, one notebook and one solution: a toy one, made in a temporary
folder, is discovered, gets references from its solution, and grades end to end in the sandbox."""
import json
import os

import pytest

from autograder import grading, references
from autograder import spec as specmod
from autograder.submission import import_nbformat

SPEC = '''
import numpy as np
from autograder.compare import Custom, Same
from autograder.spec import AssignmentSpec, Case, Question, call, sibling

checks = sibling(__file__, "checks")   # the folder's other module: the comparison of triple


def double_public():
    return [Case("x = [1, 2]", call("double", np.array([1.0, 2.0]))),
            Case("x = 0.5", call("double", 0.5))]


def double_hidden(rng):
    return [Case(f"random {n}", call("double", rng.normal(size=n)), public=False) for n in (3, 5)]


def triple_public():
    return [Case("x = [1, -1]", call("triple", np.array([1.0, -1.0])), aspect="values"),
            Case("a float64 array", call("triple", np.array([1.0, -1.0])), aspect="float64")]


def triple_hidden(rng):
    return [Case("random (2, 2)", call("triple", rng.normal(size=(2, 2))), public=False, aspect="values")]


SPEC = AssignmentSpec(name="98_toy", questions=[
    Question(name="double", points=60, functions=["double"], compare=Same(rtol=1e-12),
             public_cases=double_public, hidden_cases=double_hidden),
    Question(name="triple", points=40, functions=["triple"], compare=Custom(checks.triple_compare),
             public_cases=triple_public, hidden_cases=triple_hidden, inject=("double",)),
], hidden_seed=98)
'''

CHECKS = '''
import numpy as np
from autograder.compare import PASS, Same, Verdict

VALUES = Same(rtol=1e-6)   # float32 values pass; the float64 case alone checks the dtype


def triple_compare(actual, expected, case):
    """What a case compares is its aspect (stored with it in the references), never its label."""
    if case["aspect"] == "float64":
        if isinstance(actual, np.ndarray) and actual.dtype == np.float64:
            return PASS
        return Verdict.fail("dtype", where="output", actual=str(getattr(actual, "dtype", type(actual).__name__)),
                            expected="float64")
    return VALUES(actual, expected, case)
'''

SOLUTION = '''
import numpy as np

def double(x):
    return 2 * np.asarray(x, dtype=np.float64) if np.ndim(x) else 2.0 * float(x)

def triple(x):
    return double(x) + np.asarray(x, dtype=np.float64)
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "autograder" / "assignments" / "98_toy").mkdir(parents=True)
    (root / "solutions").mkdir()
    (root / "assignments").mkdir()
    (root / "autograder" / "assignments" / "98_toy" / "spec.py").write_text(SPEC, encoding="utf-8")
    (root / "autograder" / "assignments" / "98_toy" / "checks.py").write_text(CHECKS, encoding="utf-8")
    (root / "solutions" / "98_toy.py").write_text(SOLUTION, encoding="utf-8")
    nbformat = import_nbformat()
    nb = nbformat.v4.new_notebook(metadata={"autograder": {"assignment": "98_toy"}})
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np"),
                nbformat.v4.new_code_cell("def double(x):\n    raise NotImplementedError()"),
                nbformat.v4.new_code_cell("def triple(x):\n    raise NotImplementedError()")]
    nbformat.write(nb, str(root / "assignments" / "98_toy.ipynb"))
    monkeypatch.setattr(specmod, "ASSIGNMENTS_DIR", str(root / "autograder" / "assignments"))
    monkeypatch.setattr(specmod, "repo_root", lambda: str(root))
    monkeypatch.setattr(specmod, "ASSIGNMENTS", specmod.discover())
    references._functions.pop("98_toy", None)
    yield root
    references._functions.pop("98_toy", None)
    specmod._cache.pop("98_toy", None)


def test_a_toy_assignment_is_discovered_referenced_and_graded(toy, tmp_path):
    assert specmod.discover() == ("98_toy",)
    public, hidden = references.build("98_toy")
    assert len(public["questions"]["double"]) == 2 and len(hidden["questions"]["double"]) == 2
    assert os.path.exists(toy / "autograder" / "assignments" / "98_toy" / "references" / "secret.txt")

    good = tmp_path / "good.py"
    good.write_text(SOLUTION, encoding="utf-8")
    result = grading.grade_file(str(good), assignment="98_toy")
    assert result["score"] == 100, [t["output"] for t in result["tests"]]
    assert {t["name"] for t in result["tests"]} == {"98_toy.double", "98_toy.double (hidden)", "98_toy.triple",
                                                   "98_toy.triple (hidden)"}

    wrong = tmp_path / "wrong.py"
    wrong.write_text(SOLUTION.replace("return 2 * np.asarray", "return 3 * np.asarray"), encoding="utf-8")
    scores = grading.question_scores(grading.grade_file(str(wrong), assignment="98_toy"))
    assert scores["double"][0] < 60 and scores["triple"] == (40, 40)  # triple graded with the reference's double

    assert [c.get("aspect") for c in public["questions"]["triple"]] == ["values", "float64"]
    single = tmp_path / "single.py"
    single.write_text(SOLUTION.replace("return double(x) + np.asarray(x, dtype=np.float64)",
                                       "return (double(x) + np.asarray(x, dtype=np.float64)).astype(np.float32)"),
                      encoding="utf-8")
    partial = grading.grade_file(str(single), assignment="98_toy")
    cases = {c["name"]: c["passed"] for t in partial["tests"] if t["extra_data"]["question"] == "triple"
             for c in t["extra_data"]["cases"]}
    assert cases == {"x = [1, -1]": True, "a float64 array": False, "random (2, 2)": True}, cases

    untouched = grading.grade_file(str(toy / "assignments" / "98_toy.ipynb"))
    assert untouched["score"] == 0 and untouched["extra_data"]["assignment"] == "98_toy"
    json.dumps(result.as_json())
