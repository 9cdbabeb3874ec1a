"""Question spec, 01_perceptron: the perceptron and logic gates (90 points autograded;
the written answers, graded by hand, make up the rest of the assignment's 100)."""
import ast

import numpy as np

from autograder.compare import PASS, Custom, Same, Verdict
from autograder.spec import AssignmentSpec, Case, Question, call
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


# ---- gates and XOR: judged here, from what the grader's stand-ins were asked -----------------------
# The child never judges structure: a gate is called with a stand-in `perceptron` that answers from
# this process and records (x, w, b); XOR is called with stand-in gates that answer from tables this
# process chooses (the honest ones in public cases, random ones in hidden cases). Patching anything
# in the child can only make the student's own answers wrong.
def _perceptron_stand_in(_data):
    log = []

    def perceptron(x, w, b):
        x, w = np.asarray(x, dtype=np.float64).ravel(), np.asarray(w, dtype=np.float64).ravel()
        answer = 1 if float(np.dot(x, w) + float(b)) > 0 else 0
        log.append({"x": x.tolist(), "w": w.tolist(), "b": float(b), "answer": answer})
        return answer
    return {"perceptron": perceptron}, log


def _gate_stand_ins(tables):
    log = []

    def gate(name):
        def answer(x1, x2):
            a = tables[name][INPUTS.index((int(x1), int(x2)))]
            log.append({"gate": name, "args": [int(x1), int(x2)], "answer": a})
            return a
        return answer
    return {g: gate(g) for g in ("AND", "OR", "NAND")}, log


def _stand_ins(data):
    return _perceptron_stand_in(data) if data.get("kind") == "perceptron" else _gate_stand_ins(data["tables"])


def gates_public():
    return [Case(f"{g}{x}", call(g, *x), stand_in={"kind": "perceptron"}) for g in ("AND", "OR", "NAND") for x in INPUTS]


def _as_int(value):
    return int(value) if isinstance(value, (int, np.integer, bool, np.bool_)) else None


def gates_compare(actual, expected, case):
    verdict = Same()(actual, expected, case)
    if not verdict.ok:
        return verdict
    inputs = [float(a["value"]["__int__"]) for a in case["call"]["args"]]
    mine = [c for c in case.get("log", []) if c["x"] == inputs]
    if not mine:
        return Verdict.fail("structure", message=("게이트는 perceptron(x, w, b)를 x = (x1, x2)로 불러서 답을 내야 합니다",
                                                  "the gate must call perceptron(x, w, b) with x = (x1, x2)"))
    if _as_int(actual) != mine[-1]["answer"]:
        return Verdict.fail("structure", message=("게이트의 답은 perceptron이 돌려준 값이어야 합니다",
                                                  "the gate must return what perceptron returned"))
    return PASS


def xor_public():
    return [Case(f"XOR{x}", call("XOR", *x), stand_in={"kind": "gates", "tables": {g: TABLES[g] for g in ("AND", "OR", "NAND")}})
            for x in INPUTS]


def xor_hidden(rng):
    out = []
    for k in range(2):
        tables = {g: [int(v) for v in rng.integers(0, 2, size=4)] for g in ("AND", "OR", "NAND")}
        out += [Case(f"XOR{x} with other gates ({k + 1})", call("XOR", *x), public=False,
                     stand_in={"kind": "gates", "tables": tables}) for x in INPUTS]
    return out


def xor_expected(case, value, ns):
    """The truth table where the gates are the honest ones (public cases); with other tables only the
    log decides: XOR's answer must follow the gates, whatever their tables."""
    return value if case.public else None


def xor_compare(actual, expected, case):
    """XOR(x1, x2) must be a composition of the gates: it calls at least one, every gate it calls gets
    XOR's inputs or earlier gates' answers, and what XOR returns is the last gate's answer."""
    if expected is not None:
        verdict = Same()(actual, expected, case)
        if not verdict.ok:
            return verdict
    log = case.get("log") or []
    x1, x2 = (int(a["value"]["__int__"]) for a in case["call"]["args"])
    if not log:
        return Verdict.fail("structure", message=("XOR는 게이트 AND, OR, NAND를 불러야 합니다", "XOR must call the gates AND, OR, NAND"))
    known = {x1, x2}
    for entry in log:
        if not set(entry["args"]) <= known:
            return Verdict.fail("structure", message=("게이트에는 XOR의 입력이나 앞선 게이트의 출력만 넣어야 합니다",
                                                      "each gate must get XOR's inputs or earlier gates' outputs"))
        known.add(entry["answer"])
    if _as_int(actual) != log[-1]["answer"]:
        return Verdict.fail("structure", message=("XOR의 출력은 게이트(AND, OR, NAND)의 출력이어야 합니다",
                                                  "XOR's output must come from the gates (AND, OR, NAND)"))
    return PASS


_FORBIDDEN = (ast.BitXor, ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)


def xor_static(cells):
    """XOR is written as `def XOR(x1, x2)` and only composes the gates: no ^, ==, != or table lookups
    on its inputs (the behavioural cases catch what a static rule cannot see)."""
    node = function_sources(cells, "XOR")
    if node is None or not isinstance(node, ast.FunctionDef):
        return ("XOR를 def XOR(x1, x2): 로 정의하세요", "define XOR with def XOR(x1, x2):")
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.BitXor):
            return ("XOR에 ^ 연산자를 썼습니다. 게이트를 조합하세요", "XOR uses the ^ operator; compose the gates instead")
        if isinstance(sub, ast.Compare) and any(isinstance(op, _FORBIDDEN) for op in sub.ops):
            return ("XOR가 입력을 비교합니다 (==, !=, is, in). 게이트를 조합하세요",
                    "XOR compares its inputs (==, !=, is, in); compose the gates instead")
        if isinstance(sub, (ast.Subscript, ast.Dict)):
            return ("XOR가 표에서 값을 찾아봅니다. 게이트를 조합하세요", "XOR looks values up in a table; compose the gates instead")
    return None


def training_sets():
    return {name: (X4, np.array(TABLES[name], dtype=np.float64)) for name in ("AND", "OR", "NAND", "XOR")}


def train_public():
    return [Case(f"{name} (lr=0.1, epochs=20)", call("train_perceptron", X, t)) for name, (X, t) in training_sets().items()]


def train_hidden(rng):
    """Integer inputs and a learning rate of 1/4: every weighted sum is exact in binary floating point,
    so no tie at 0 depends on the order of a sum (np.dot or a loop)."""
    out = []
    for i in range(3):
        n, d = 12 + 3 * i, 3
        X = rng.integers(-3, 4, size=(n, d)).astype(np.float64)
        w_true = rng.normal(size=d)
        t = (X @ w_true + 0.3 > 0).astype(np.float64)
        out.append(Case(f"random separable set {i} (lr=0.25, epochs=7)",
                        call("train_perceptron", X, t, lr=0.25, epochs=7), public=False))
    return out


SPEC = AssignmentSpec(
    name="01_perceptron",
    questions=[
        Question(name="weighted_sum", points=10, functions=["weighted_sum"], compare=Same(rtol=1e-9, atol=1e-12),
                 public_cases=weighted_sum_public, hidden_cases=weighted_sum_hidden,
                 hint=("가중치와 입력을 원소별로 곱해 더한 뒤 바이어스를 더합니다.", "multiply inputs and weights elementwise, sum, add the bias")),
        Question(name="step", points=5, functions=["step"], compare=Same(),
                 public_cases=step_public, hidden_cases=step_hidden,
                 hint=("z가 정확히 0일 때의 값을 확인하세요 (강의: y <= 0 이면 0).", "check z exactly 0: the lecture returns 0 when z <= 0")),
        Question(name="perceptron", points=10, functions=["perceptron"], compare=Same(),
                 public_cases=perceptron_public, hidden_cases=perceptron_hidden, inject=("weighted_sum", "step"),
                 hint=("step(weighted_sum(x, w, b))", "step(weighted_sum(x, w, b))")),
        Question(name="gates", points=20, functions=["AND", "OR", "NAND"], compare=Custom(gates_compare),
                 public_cases=gates_public, stand_ins=_stand_ins,
                 hint=("각 게이트는 perceptron을 호출하고 진리표를 만족해야 합니다.", "each gate calls perceptron and matches its truth table")),
        Question(name="XOR", points=15, functions=["XOR"], compare=Custom(xor_compare),
                 public_cases=xor_public, hidden_cases=xor_hidden, stand_ins=_stand_ins, static=xor_static,
                 expected=xor_expected,
                 hint=("게이트를 조합하세요: AND(NAND(x1, x2), OR(x1, x2)).", "compose the gates, e.g. AND(NAND(x1, x2), OR(x1, x2))")),
        Question(name="train_perceptron", points=30, functions=["train_perceptron"],
                 compare=Same(rtol=1e-9, atol=1e-12),
                 public_cases=train_public, hidden_cases=train_hidden, inject=("perceptron",), timeout=20,
                 hint=("오류 수는 갱신 전에 셉니다. w는 0에서 시작하고 표본을 순서대로 방문합니다.",
                       "count errors before each update; start from zeros and visit samples in order")),
    ],
    hidden_seed=101,
)
