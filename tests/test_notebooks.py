"""The released notebooks: every graded function is a stub as shipped, and each notebook runs top
to bottom (check cells included) once the stubs are filled with solutions/ (nbclient)."""
import ast
import os
import shutil

import pytest

from autograder import spec as specmod
from autograder.authoring import stub_functions, weave
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
    assert sum(q.points for q in spec.questions) == 100
    for q in spec.questions:
        assert f'check("{assignment}.{q.name}")' in grade_cells[q.name].source
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


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
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
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


@pytest.mark.slow
@pytest.mark.parametrize("assignment", specmod.ASSIGNMENTS)
def test_notebook_runs_with_solutions_woven_in(assignment, tmp_path):
    from nbclient import NotebookClient
    nb = weave(_notebook(assignment), _solution(assignment), markers=False)
    shutil.copyfile(os.path.join(ROOT, "data", "dataset2.csv"), tmp_path / "dataset2.csv")
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0]
