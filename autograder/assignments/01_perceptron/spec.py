"""Question spec, 01_perceptron: the perceptron and logic gates (100 points)."""
import ast

import numpy as np

from autograder.compare import PASS, Custom, Same, Verdict
from autograder.spec import AssignmentSpec, Case, Question, call, probe
from autograder.submission import function_sources

INPUTS = [(0, 0), (0, 1), (1, 0), (1, 1)]
TABLES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}
X4 = np.array(INPUTS, dtype=np.float64)


def weighted_sum_public():
    return [
        Case("x=[1,0], w=[0.5,0.5], b=-0.7", call("weighted_sum", np.array([1.0, 0.0]), np.array([0.5, 0.5]), -0.7)),
        Case("x=[1,1], w=[0.5,0.5], b=-0.7", call("weighted_sum", np.array([1.0, 1.0]), np.array([0.5, 0.5]), -0.7)),
        Case("3 inputs", call("weighted_sum", np.array([2.0, -1.0, 0.5]), np.array([0.1, 0.4, -2.0]), 0.25)),
    ]


def weighted_sum_hidden(rng):
    out = []
    for i, d in enumerate((2, 4, 7)):
        x, w = rng.normal(size=d), rng.normal(size=d)
        out.append(Case(f"random d={d}", call("weighted_sum", x, w, float(rng.normal())), public=False))
    return out


def step_public():
    return [Case(f"z={z}", call("step", z)) for z in (0.3, -2.0, 0.0)]


def step_hidden(rng):
    zs = [float(rng.normal()), -0.0, 1e-12, -1e-12, 7, 0, -3]
    return [Case(f"z={z!r}", call("step", z), public=False) for z in zs]


def perceptron_public():
    return [
        Case("AND weights on (1,1)", call("perceptron", np.array([1.0, 1.0]), np.array([0.5, 0.5]), -0.7)),
        Case("AND weights on (0,1)", call("perceptron", np.array([0.0, 1.0]), np.array([0.5, 0.5]), -0.7)),
        Case("weighted sum exactly 0", call("perceptron", np.array([1.0, 1.0]), np.array([0.5, -0.5]), 0.0)),
    ]


def perceptron_hidden(rng):
    out = []
    for d in (2, 3, 5):
        x, w = rng.normal(size=d), rng.normal(size=d)
        out.append(Case(f"random d={d}", call("perceptron", x, w, float(rng.normal())), public=False))
    out.append(Case("tie at 0 (3 inputs)", call("perceptron", np.array([1.0, 2.0, 0.0]), np.array([1.0, -0.5, 3.0]), 0.0),
                    public=False))
    return out


def gates_public():
    cases = [Case(f"{g}{x}", call(g, *x)) for g in ("AND", "OR", "NAND") for x in INPUTS]
    cases += [Case(f"{g} calls perceptron", probe("gate_calls", gate=g)) for g in ("AND", "OR", "NAND")]
    return cases


def _gate_calls(actual, expected, case):
    if not isinstance(actual, dict):
        return Verdict.fail("structure", message="could not inspect the gate")
    table = [int(v) if isinstance(v, (int, np.integer, bool, np.bool_)) else v for v in actual.get("table", [])]
    if table != expected["table"]:
        return Verdict.fail("structure", message="with a correct perceptron the truth table is wrong")
    if actual.get("perceptron_calls", 0) < 4:
        return Verdict.fail("structure", message="the gate must call perceptron(x, w, b)")
    return PASS


def gates_compare(actual, expected, case):
    if case["call"].get("probe") == "gate_calls":
        return _gate_calls(actual, expected, case)
    return Same()(actual, expected, case)


def xor_public():
    return [Case(f"XOR{x}", call("XOR", *x)) for x in INPUTS] + [Case("XOR built from the gates", probe("xor_structure"))]


def xor_compare(actual, expected, case):
    if case["call"].get("probe") != "xor_structure":
        return Same()(actual, expected, case)
    if not isinstance(actual, dict):
        return Verdict.fail("structure", message="could not inspect XOR")
    if actual.get("table") != TABLES["XOR"]:
        return Verdict.fail("structure", message="with correct gates, XOR's truth table is wrong")
    if actual.get("with_constant_0") != [0, 0, 0, 0] or actual.get("with_constant_1") != [1, 1, 1, 1]:
        return Verdict.fail("structure", message="XOR's output must come from the gates (AND, OR, NAND)")
    return PASS


_FORBIDDEN = (ast.BitXor, ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)


def xor_static(cells):
    """XOR may only compose the gates: no ^, ==, != or table lookups on its inputs."""
    node = function_sources(cells, "XOR")
    if node is None:
        return None  # the calls report the missing function
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.BitXor):
            return "XOR uses the ^ operator; compose the gates instead"
        if isinstance(sub, ast.Compare) and any(isinstance(op, _FORBIDDEN) for op in sub.ops):
            return "XOR compares its inputs (==, !=, is, in); compose the gates instead"
        if isinstance(sub, (ast.Subscript, ast.Dict)):
            return "XOR looks values up in a table; compose the gates instead"
    names = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    if not names & {"AND", "OR", "NAND"}:
        return "XOR must call the gates AND, OR, NAND"
    return None


def training_sets():
    return {name: (X4, np.array(TABLES[name], dtype=np.float64)) for name in ("AND", "OR", "NAND", "XOR")}


def train_public():
    return [Case(f"{name} (lr=0.1, epochs=20)", call("train_perceptron", X, t)) for name, (X, t) in training_sets().items()]


def train_hidden(rng):
    out = []
    for i in range(3):
        n, d = 12 + 3 * i, 3
        X = rng.integers(-3, 4, size=(n, d)).astype(np.float64)
        w_true = rng.normal(size=d)
        t = (X @ w_true + 0.3 > 0).astype(np.float64)
        out.append(Case(f"random separable set {i} (lr=0.2, epochs=7)",
                        call("train_perceptron", X, t, lr=0.2, epochs=7), public=False))
    return out


SPEC = AssignmentSpec(
    name="01_perceptron",
    questions=[
        Question("weighted_sum", 10, ["weighted_sum"], Same(rtol=1e-9, atol=1e-12), weighted_sum_public, weighted_sum_hidden,
                 hint=("가중치와 입력을 원소별로 곱해 더한 뒤 바이어스를 더합니다.", "multiply inputs and weights elementwise, sum, add the bias")),
        Question("step", 5, ["step"], Same(), step_public, step_hidden,
                 hint=("z가 정확히 0일 때의 값을 확인하세요 (강의: y <= 0 이면 0).", "check z exactly 0: the lecture returns 0 when z <= 0")),
        Question("perceptron", 10, ["perceptron"], Same(), perceptron_public, perceptron_hidden, inject=("weighted_sum", "step"),
                 hint=("step(weighted_sum(x, w, b))", "step(weighted_sum(x, w, b))")),
        Question("gates", 20, ["AND", "OR", "NAND"], Custom(gates_compare), gates_public, None, inject=("perceptron",),
                 hint=("각 게이트는 perceptron을 호출하고 진리표를 만족해야 합니다.", "each gate calls perceptron and matches its truth table")),
        Question("XOR", 20, ["XOR"], Custom(xor_compare), xor_public, None, inject=("AND", "OR", "NAND"), static=xor_static,
                 hint=("게이트를 조합하세요: AND(NAND(x1, x2), OR(x1, x2)).", "compose the gates, e.g. AND(NAND(x1, x2), OR(x1, x2))")),
        Question("train_perceptron", 35, ["train_perceptron"], Same(rtol=1e-9, atol=1e-12), train_public, train_hidden,
                 inject=("perceptron",), timeout=20,
                 hint=("오류 수는 갱신 전에 셉니다. w는 0에서 시작하고 표본을 순서대로 방문합니다.",
                       "count errors before each update; start from zeros and visit samples in order")),
    ],
    hidden_seed=101,
)
