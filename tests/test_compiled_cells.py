"""The submission's cells are compiled once, by the grader (sandbox.session.compiled_cells), and every
question's child runs that bytecode instead of compiling the same source again (child/worker.run_cell).
What the child runs is still exactly the student's source: a cell that does not compile goes as
source and fails in the child with the message it always had, a blob that is not code is ignored,
and a cell's own `from __future__` import applies to it and to nothing else."""
import base64
import marshal

from autograder.child import worker
from autograder.sandbox.session import compiled_cells


def _blob(source, index=0):
    return base64.b64encode(marshal.dumps(compile(source, f"<cell {index}>", "exec"))).decode("ascii")


def test_each_cell_that_compiles_carries_its_bytecode():
    cells = compiled_cells([{"index": 0, "source": "x = 1"}, {"index": 1, "source": "def f(:\n  pass"},
                            {"index": 2, "source": "y = x + 1"}])
    assert [c["index"] for c in cells] == [0, 1, 2] and [c["source"] for c in cells][0] == "x = 1"
    assert "code" in cells[0] and "code" in cells[2]
    assert "code" not in cells[1]          # a syntax error: source only, the child reports it
    code = marshal.loads(base64.b64decode(cells[2]["code"]))
    assert code.co_filename == "<cell 2>" and code.co_code == compile("y = x + 1", "<cell 2>", "exec").co_code


def test_bytecode_stops_at_the_budget_and_the_rest_goes_as_source():
    cells = [{"index": i, "source": f"v{i} = {i}"} for i in range(5)]
    one = len(compiled_cells(cells[:1])[0]["code"])
    cells = compiled_cells(cells, budget=2 * one + one // 2)
    assert ["code" in c for c in cells] == [True, True, False, False, False]


def test_the_child_runs_the_graders_bytecode():
    ns = worker.new_namespace()
    # the bytecode says 2, the source 1: what ran is the bytecode (the grader compiled it)
    assert worker.run_cell(ns, "x = 1", 0, None, _blob("x = 2")) is None
    assert ns["x"] == 2


def test_a_blob_that_is_not_code_is_ignored_and_the_source_compiled():
    for blob in ("not base64 !!", base64.b64encode(b"\x00garbage").decode(), base64.b64encode(marshal.dumps(42)).decode(),
                 12345):
        ns = worker.new_namespace()
        assert worker.run_cell(ns, "x = 1", 0, None, blob) is None, blob
        assert ns["x"] == 1


def test_a_cell_that_does_not_compile_fails_in_the_child_as_before():
    cell = compiled_cells([{"index": 3, "source": "def f(:\n  pass"}])[0]
    error = worker.run_cell(worker.new_namespace(), cell["source"], 3, None, cell.get("code"))
    assert error["type"] == "SyntaxError" and error["message"].startswith("line 1:")


def test_a_cells_future_import_is_its_own():
    cells = compiled_cells([{"index": 0, "source": "from __future__ import annotations\ndef f(x: Undefined): pass"},
                            {"index": 1, "source": "def g(x: int): pass"}])
    ns = worker.new_namespace()
    for cell in cells:
        assert worker.run_cell(ns, cell["source"], cell["index"], None, cell["code"]) is None
    assert ns["f"].__annotations__ == {"x": "Undefined"}   # postponed in the cell that asked for it
    assert ns["g"].__annotations__ == {"x": int}           # and not in the next one


def test_cells_given_to_a_session_later_are_compiled_too():
    """grading's early session is made before the notebook is read and gets its cells afterwards:
    they are compiled the same way as cells given to the constructor."""
    from autograder.sandbox import pool
    from autograder.sandbox.session import Session
    session = Session([], pool.SandboxSetup(), pool=None)
    session.cells = [{"index": 0, "source": "x = 1"}]
    assert "code" in session.cells[0]
    assert "code" in Session([{"index": 0, "source": "x = 1"}], pool.SandboxSetup(), pool=None).cells[0]
