"""Question spec, 02_xor_mlp: solving XOR with a multi-layer perceptron (90 points autograded;
the written answers, graded by hand, make up the rest of the assignment's 100).

Tolerances (float64 throughout; expected values come from solutions/02_xor_mlp.py):
- step_fn, xor_table, count_parameters: exact (ints; dtype kind checked: an int array is expected,
  a bool or float array is a wrong answer, as the notebook asks for `.astype(int)`).
- sigmoid: rtol 1e-9, atol 1e-14. Every correct formula (1/(1+e^-z) split by sign, e^z/(1+e^z),
  exp(-logaddexp(0, -z)), 0.5*(1+tanh(z/2))) is within a few ulps in relative terms except
  0.5*(1+tanh(z/2)) for z << 0, whose error is absolute (about 6e-17, one ulp of 1 halved): atol
  1e-14 keeps a margin of 100 over it and still fails a sign or factor error by many orders.
- layer_forward, mlp_forward: rtol 1e-9, atol 1e-12 (a matrix product in another order, einsum
  or loops differ by ~1e-16 relative; every mistake tried differs by >= 1e-2).
A scalar input answered with a NumPy scalar (e.g. np.float64 from np.exp on a Python float) is
accepted where the reference gives a 0-d array: the value and its dtype kind are still checked.
"""
import numpy as np

from autograder.compare import PASS, Custom, Same, Verdict
from autograder.spec import AssignmentSpec, Case, Question, builtin, call

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
SLIDES = {"W1": np.array([[-2.0, 2.0], [-2.0, 2.0]]), "b1": np.array([3.0, -1.0]),
          "W2": np.array([1.0, 1.0]), "b2": -1.0}


def act(name):
    """A harness activation (probes.ACTIVATIONS), so these questions do not depend on the student's own."""
    return builtin("activation", name=name)


def _zero_d(actual, expected):
    """A NumPy or Python scalar stands for the 0-d array the reference returns for a scalar input.
    (wire.encode sends a 0-d array as shape (1,), since np.ascontiguousarray returns ndim >= 1, so the
    stored reference of a scalar case may be a 1-element array: both forms are accepted.)"""
    if (isinstance(expected, np.ndarray) and expected.size == 1 and expected.ndim <= 1
            and isinstance(actual, (int, float, np.integer, np.floating, np.bool_)) and not isinstance(actual, bool)):
        return np.asarray(actual).reshape(expected.shape)
    return actual


def same_array(rtol=1e-7, atol=1e-10):
    same = Same(rtol=rtol, atol=atol)
    return Custom(lambda actual, expected, case: same(_zero_d(actual, expected), expected, case))


# ---- step_fn ------------------------------------------------------------------------------------
def step_public():
    return [
        Case("z=[-1.5, 0.0, 0.3, 2.0]", call("step_fn", np.array([-1.5, 0.0, 0.3, 2.0]))),
        Case("2x3 array with zeros", call("step_fn", np.array([[0.0, -0.1, 4.0], [1e-9, 0.0, -7.0]]))),
        Case("z=0.0 (a number)", call("step_fn", 0.0)),
    ]


def step_hidden(rng):
    out = []
    for shape in ((7,), (3, 5), (2, 3, 4)):
        z = rng.normal(size=shape)
        flat = z.reshape(-1)
        flat[rng.choice(flat.size, size=max(2, flat.size // 4), replace=False)] = 0.0
        out.append(Case(f"random {shape} with exact zeros", call("step_fn", z), public=False))
    out.append(Case("edge values", call("step_fn", np.array([-0.0, 0.0, 1e-300, -1e-300, 1000.0, -1000.0])),
                    public=False))
    out.append(Case("int array", call("step_fn", np.array([-2, 0, 3, 0, 1])), public=False))
    out.append(Case("z=2.5 (a number)", call("step_fn", 2.5), public=False))
    return out


# ---- sigmoid ------------------------------------------------------------------------------------
def sigmoid_public():
    return [
        Case("z=[-2, 0, 2]", call("sigmoid", np.array([-2.0, 0.0, 2.0]))),
        Case("z=0.0 (a number)", call("sigmoid", 0.0)),
        Case("z=[-1000, 1000] (no overflow warning)", call("sigmoid", np.array([-1000.0, 1000.0]))),
    ]


def sigmoid_hidden(rng):
    out = [Case(f"random {shape}", call("sigmoid", rng.normal(scale=6.0, size=shape)), public=False)
           for shape in ((6,), (3, 4), (2, 3, 2))]
    edges = np.array([-1000.0, -745.0, -709.0, -40.0, -1e-8, -0.0, 0.0, 1e-8, 36.0, 40.0, 709.0, 745.0, 1000.0])
    out.append(Case("edge values up to |z| = 1000", call("sigmoid", edges), public=False))
    out.append(Case("2x2 with +-1000", call("sigmoid", np.array([[1000.0, -1000.0], [-500.0, 0.0]])), public=False))
    out.append(Case("z=-3.0 (a number)", call("sigmoid", -3.0), public=False))
    return out


# ---- layer_forward ------------------------------------------------------------------------------
def layer_public():
    X = np.array([[1.0, 2.0]])
    W = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    b = np.array([0.5, -3.0, 0.0])
    return [
        Case("notebook example, relu activation", call("layer_forward", X, W, b, act("relu"))),
        Case("notebook example, identity activation", call("layer_forward", X, W, b, act("identity"))),
        Case("XOR inputs and the slides' W1, b1, tanh", call("layer_forward", XOR_X, SLIDES["W1"], SLIDES["b1"],
                                                              act("tanh"))),
    ]


def layer_hidden(rng):
    out = []
    shapes = ((1, 1, 1), (4, 3, 2), (5, 2, 5), (3, 4, 4), (6, 3, 3))
    for (n, d_in, d_out), a in zip(shapes, ("tanh", "relu", "double", "tanh", "identity")):
        X, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
        out.append(Case(f"random n={n}, {d_in}->{d_out}, {a}",
                        call("layer_forward", X, W, b, act(a)), public=False))
    return out


# ---- mlp_forward --------------------------------------------------------------------------------
def mlp_public():
    s = SLIDES
    return [
        Case("the slides' XOR weights, relu activation",
             call("mlp_forward", XOR_X, s["W1"], s["b1"], s["W2"], s["b2"], act("relu"))),
        Case("the slides' XOR weights, tanh",
             call("mlp_forward", XOR_X, s["W1"], s["b1"], s["W2"], s["b2"], act("tanh"))),
        Case("3 inputs, 2 samples, identity",
             call("mlp_forward", np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]]),
                  np.array([[1.0, -1.0], [0.0, 2.0], [0.5, 0.5]]), np.array([0.1, -0.2]),
                  np.array([2.0, -1.0]), 0.25, activation=act("identity"))),
    ]


def mlp_hidden(rng):
    out = []
    shapes = ((5, 2, 2), (3, 3, 4), (1, 2, 3), (6, 4, 2), (4, 2, 5))
    for (n, d_in, d_h), a in zip(shapes, ("tanh", "relu", "double", "tanh", "identity")):
        args = (rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_h)), rng.normal(size=d_h),
                rng.normal(size=d_h), float(rng.normal()))
        out.append(Case(f"random n={n}, {d_in}->{d_h}->1, {a}",
                        call("mlp_forward", *args, act(a)), public=False))
    return out


# ---- xor_table ----------------------------------------------------------------------------------
def _mlp_stand_in(data):
    """mlp_forward answering from this process with a y the grader chose; records each call."""
    log = []

    def mlp_forward(X, W1, b1, W2, b2, activation=None):
        y = np.array(data["y"], dtype=np.float64)
        log.append({"rows": int(np.asarray(X).shape[0]) if np.ndim(X) else 0})
        return np.zeros((len(y), 2)), y
    return {"mlp_forward": mlp_forward}, log


def xor_table_public():
    return [Case("xor_table() with the given weights", call("xor_table")),
            Case("xor_table() is mlp_forward's y as int", call("xor_table"), stand_in={"y": [0.0, 1.0, 1.0, 0.0]})]


def xor_table_hidden(rng):
    return [Case(f"xor_table() follows mlp_forward ({k + 1})", call("xor_table"), public=False,
                 stand_in={"y": [float(v) for v in rng.integers(0, 2, size=4)]}) for k in range(2)]


def xor_table_compare(actual, expected, case):
    if case.get("stand_in") is None:
        return Same()(actual, expected, case)
    if not case.get("log"):
        return Verdict.fail("structure", message=("xor_table은 mlp_forward를 불러야 합니다", "xor_table must call mlp_forward"))
    want = np.array(case["stand_in"]["y"]).astype(int)
    verdict = Same()(actual, want, case)
    if not verdict.ok:
        return Verdict.fail("structure", message=("표는 손으로 적지 말고 mlp_forward의 y를 int로 바꾸어 만드세요",
                                                  "the table must be mlp_forward's y (as int), not written by hand"))
    return PASS


def xor_table_expected(case, value, ns):
    return value if case.stand_in is None else None


# ---- count_parameters ---------------------------------------------------------------------------
def count_public():
    return [
        Case("[2, 2, 1] (the XOR network)", call("count_parameters", [2, 2, 1])),
        Case("[784, 256, 10] (MNIST)", call("count_parameters", [784, 256, 10])),
        Case("[1, 6, 4, 1] (assignment 05)", call("count_parameters", [1, 6, 4, 1])),
    ]


def count_hidden(rng):
    out = []
    for length in (2, 3, 5, 6):
        sizes = [int(v) for v in rng.integers(1, 600, size=length)]
        out.append(Case(f"random, {length} layers", call("count_parameters", sizes), public=False))
    out.append(Case("[1, 1]", call("count_parameters", [1, 1]), public=False))
    out.append(Case("a tuple (3, 5, 2)", call("count_parameters", (3, 5, 2)), public=False))
    out.append(Case("[784, 512, 256, 10]", call("count_parameters", [784, 512, 256, 10]), public=False))
    return out


SPEC = AssignmentSpec(
    name="02_xor_mlp",
    questions=[
        Question(name="step_fn", points=10, functions=["step_fn"], compare=same_array(),
                 public_cases=step_public, hidden_cases=step_hidden,
                 hint=("z가 정확히 0이면 0입니다 (z <= 0 이면 0). 결과는 int 배열입니다 (.astype(int)).",
                       "z exactly 0 gives 0 (z <= 0 -> 0); return an int array (.astype(int))")),
        Question(name="sigmoid", points=15, functions=["sigmoid"], compare=same_array(rtol=1e-9, atol=1e-14),
                 public_cases=sigmoid_public, hidden_cases=sigmoid_hidden, no_warnings=True,
                 hint=("z의 부호에 따라 식을 나누어 지수 함수에 0 이하의 값만 넣으세요. 결과는 float64 배열입니다.",
                       "split by the sign of z so that exp only sees values <= 0; return a float64 array")),
        Question(name="layer_forward", points=15, functions=["layer_forward"], compare=Same(rtol=1e-9, atol=1e-12),
                 public_cases=layer_public, hidden_cases=layer_hidden,
                 hint=("activation(X @ W + b): W의 열 j가 출력 노드 j의 가중치입니다. 바이어스를 더한 뒤 활성화 함수를 적용합니다.",
                       "activation(X @ W + b): column j of W feeds node j; add the bias before the activation")),
        Question(name="mlp_forward", points=15, functions=["mlp_forward"], compare=Same(rtol=1e-9, atol=1e-12),
                 public_cases=mlp_public, hidden_cases=mlp_hidden, inject=("layer_forward",),
                 hint=("두 층 모두 인자로 받은 activation을 씁니다. (H, y)를 돌려주고 y의 shape은 (n,)입니다.",
                       "use the given activation in both layers; return (H, y) with y of shape (n,)")),
        Question(name="xor_table", points=15, functions=["xor_table"], compare=Custom(xor_table_compare),
                 public_cases=xor_table_public, hidden_cases=xor_table_hidden,
                 inject=("mlp_forward", "step_fn", "layer_forward"), stand_ins=_mlp_stand_in,
                 expected=xor_table_expected,
                 hint=("주어진 W1, b1, W2, b2, X_xor와 step_fn으로 mlp_forward를 실행해 y를 int 배열로 돌려주세요.",
                       "run mlp_forward on X_xor with the given W1, b1, W2, b2 and step_fn; return y as an int array")),
        Question(name="count_parameters", points=20, functions=["count_parameters"], compare=Same(),
                 public_cases=count_public, hidden_cases=count_hidden,
                 hint=("층마다 가중치 n_in * n_out 개와 바이어스 n_out 개: (n_in + 1) * n_out 을 더합니다. 파이썬 int를 돌려주세요.",
                       "each layer has n_in * n_out weights and n_out biases: sum (n_in + 1) * n_out; return an int")),
    ],
    hidden_seed=202,
)
