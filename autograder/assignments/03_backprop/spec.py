"""Question spec, 03_backprop: backpropagation by hand, and activation functions (90 points autograded;
the written answers, graded by hand, make up the rest of the assignment's 100).

Tolerances (float64 throughout; expected values come from solutions/03_backprop.py unless said):
- sigmoid, activations, activation_grads: rtol 1e-9, atol 1e-14. Correct formulas written
  differently (np.where or a sign split, exp(-logaddexp(0, -z)), tanh = 2 sigmoid(2z) - 1,
  elu with expm1 or exp - 1, softplus with log1p or log, softmax shifted by the max or by the
  log-sum-exp) agree to a few ulps in relative terms, or, where a formula cancels (2 sigmoid(2z) - 1
  near 0, exp(z) - 1 near 0), to ~1e-16 absolute: atol 1e-14 keeps a margin of 100 over that. The
  questions fail on any warning (overflow at |z| = 1000 is the lesson) and on nan or inf.
- sigmoid_grad_from_output, forward, loss, sgd_update: rtol 1e-9, atol 1e-12 (same formulas in
  another order differ by ~1e-16 relative; every mistake tried differs by >= 1e-3).
- backward: compare.Gradients(max_rel_reference=1e-7, max_rel_numerical=1e-6), entrywise relative
  error (compare.relative_error). The numerical gradient is computed at reference time in float64:
  central differences Richardson-extrapolated, (4 D(1e-3) - D(2e-3)) / 3, error ~1e-13 absolute
  (measured: <= 5e-10 relative to the solution's gradient on every case); cases are drawn until every
  gradient entry is >= 1e-4 in size and no entry's sum over samples cancels by more than 1e6, so a
  correct backward written with einsum or loops stays below 1e-9 on both checks while a mean instead
  of a sum, a missing y(1 - y) or h(1 - h), or a wrong transpose is off by >= 1e-2.
- numerical_gradient: rtol 1e-7, atol 1e-8 against the exact value of the central difference
  (weighted_sin: c cos(x) sin(h)/h + x, exact for any h) or the analytic gradient (the network's
  loss, h = 1e-5, where the central difference's own error is ~1e-11). The solution's central
  differences were measured within 5e-11 of these on every case (the build refuses a case above
  1e-9); a forward difference is off by 7e-8 to 1e-1 (~h/2 |f''|), and ignoring `h` is off by
  ~2e-3 on the h = 0.1 case. `x` must come back bit-for-bit unchanged (the grader's input check).
- train: rtol 1e-7, atol 1e-10 on every loss and the final parameters (runs of up to 5000 epochs
  written with other formulas were measured to agree to ~5e-15). The default epochs = 5000 is read
  from the signature (probe "defaults", after a one-epoch call) rather than run: a 5000-epoch call
  costs ~0.5 s per submission; the default lr is also checked by a 300-epoch run.
"""
import numpy as np

from autograder.compare import Custom
from autograder.spec import AssignmentSpec, Case, Question, call, closure, probe, sibling

# The folder's other modules: problems.py (the XOR data, random networks, reference-time helpers),
# checks.py (the comparisons and `expected` hooks).
problems = sibling(__file__, "problems")
checks = sibling(__file__, "checks")
X_XOR, T_XOR, params0, random_params = problems.X_XOR, problems.T_XOR, problems.params0, problems.random_params
cache_of, random_problem = problems.cache_of, problems.random_problem


# ---- sigmoid ------------------------------------------------------------------------------------
def sigmoid_public():
    return [
        Case("z=[-2, 0, 2]", call("sigmoid", np.array([-2.0, 0.0, 2.0]))),
        Case("2x2 array", call("sigmoid", np.array([[0.5, -0.5], [3.0, -3.0]]))),
        Case("z=[-1000, 1000] (no overflow warning)", call("sigmoid", np.array([-1000.0, 1000.0]))),
    ]


def sigmoid_hidden(rng):
    out = [Case(f"random {shape}", call("sigmoid", rng.normal(scale=6.0, size=shape)), public=False)
           for shape in ((6,), (3, 4), (2, 3, 2))]
    edges = np.array([-1000.0, -745.0, -709.0, -40.0, -1e-8, -0.0, 0.0, 1e-8, 36.0, 40.0, 709.0, 745.0, 1000.0])
    out.append(Case("edge values up to |z| = 1000", call("sigmoid", edges), public=False))
    out.append(Case("2x2 with +-1000", call("sigmoid", np.array([[1000.0, -1000.0], [-500.0, 0.0]])), public=False))
    return out


# ---- sigmoid_grad_from_output -------------------------------------------------------------------
def sgrad_public():
    return [
        Case("y=[0, 0.5, 1]", call("sigmoid_grad_from_output", np.array([0.0, 0.5, 1.0]))),
        Case("2x2 outputs", call("sigmoid_grad_from_output", np.array([[0.1, 0.9], [0.25, 0.75]]))),
    ]


def sgrad_hidden(rng):
    out = [Case(f"outputs in (0, 1), {shape}", call("sigmoid_grad_from_output", rng.uniform(size=shape)),
                public=False) for shape in ((7,), (3, 4), (2, 2, 3))]
    out.append(Case("values near 0 and 1", call("sigmoid_grad_from_output",
                                                 np.array([1e-12, 1e-6, 0.01, 0.99, 1 - 1e-6, 1.0])), public=False))
    return out


# ---- forward ------------------------------------------------------------------------------------
def forward_public():
    rng = np.random.default_rng(42)
    return [
        Case("XOR inputs, params0", call("forward", X_XOR, params0())),
        Case("random network D=3, H=4, N=5", call("forward", rng.normal(size=(5, 3)), random_params(rng, 3, 4))),
    ]


def forward_hidden(rng):
    out = []
    for D, H, N in ((2, 2, 4), (1, 3, 6), (5, 3, 8), (4, 6, 1)):
        out.append(Case(f"random D={D}, H={H}, N={N}", call("forward", rng.normal(size=(N, D)), random_params(rng, D, H)),
                        public=False))
    out.append(Case("large weights (saturated sigmoids)",
                    call("forward", rng.normal(size=(6, 3)), random_params(rng, 3, 4, scale=40.0)), public=False))
    return out


# ---- loss ---------------------------------------------------------------------------------------
def loss_public():
    return [
        Case("y=[[0.8],[0.3]], t=[[1],[0]]", call("loss", np.array([[0.8], [0.3]]), np.array([[1.0], [0.0]]))),
        Case("XOR targets, all outputs 0.5", call("loss", np.full((4, 1), 0.5), T_XOR)),
    ]


def loss_hidden(rng):
    out = []
    for N in (1, 5, 20):
        y = rng.uniform(size=(N, 1))
        t = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
        out.append(Case(f"random N={N}", call("loss", y, t), public=False))
    out.append(Case("y equals t", call("loss", T_XOR.copy(), T_XOR), public=False))
    return out


# ---- backward -----------------------------------------------------------------------------------
def _backward_case(name, X, t, p, public=True, cache_params=None):
    """backward(t, p, cache); the cache is forward's for `cache_params` when given (other weights
    than p): the contract's formulas then read h and y from the cache and W2 from p, which is what
    backpropagation does and what a gradient recomputed from p (finite differences) does not, so
    such a case checks the formulas only (aspect "formulas": no numerical gradient to compare)."""
    cache = cache_of(X, p if cache_params is None else cache_params)
    return Case(name, probe("backward", t, p, {k: cache[k] for k in ("X", "h", "y")}), public=public,
                aspect=None if cache_params is None else "formulas")


FROM_CACHE = "cache from other weights"


def backward_public():
    rng = np.random.default_rng(42)
    X, t, p = random_problem(rng, 3, 4, 5)
    other = random_params(rng, 3, 4)
    return [_backward_case("XOR inputs, params0", X_XOR, T_XOR, params0()),
            _backward_case("random network D=3, H=4, N=5", X, t, p),
            _backward_case(f"{FROM_CACHE}: h, y from forward with other weights", X, t, p, cache_params=other)]


def backward_hidden(rng):
    out = [_backward_case(f"random D={D}, H={H}, N={N}", *random_problem(rng, D, H, N), public=False)
           for D, H, N in ((2, 2, 4), (1, 3, 6), (4, 5, 7), (3, 2, 1), (5, 6, 10))]
    for D, H, N in ((2, 3, 4), (4, 2, 6)):
        X, t, p = random_problem(rng, D, H, N)
        out.append(_backward_case(f"{FROM_CACHE}, D={D}, H={H}, N={N}", X, t, p, public=False,
                                  cache_params=random_params(rng, D, H)))
    return out


# ---- numerical_gradient -------------------------------------------------------------------------
def _sin_case(name, x, c, h=None, public=True):
    kwargs = {} if h is None else {"h": h}
    return Case(name, call("numerical_gradient", closure("weighted_sin", over=1, c=c), x, **kwargs), public=public)


def _mlp_case(name, which, X, t, p, public=True):
    return Case(name, call("numerical_gradient", closure("mlp_loss", over=1, which=which, X=X, t=t, params=p),
                           np.array(p[which])), public=public)


def ngrad_public():
    return [
        _sin_case("f = sum(c sin x) + |x|^2/2, x of shape (3,)", np.array([0.3, -1.2, 2.0]), np.array([1.0, -2.0, 0.5])),
        _sin_case("the same f, x of shape (2, 3), h = 1e-3", np.array([[0.5, 1.0, -0.7], [2.5, -3.0, 0.1]]),
                  np.array([[2.0, -1.0, 1.5], [0.5, 1.0, -2.0]]), h=1e-3),
        _mlp_case("the XOR network's loss, x = params0['W1']", "W1", X_XOR, T_XOR, params0()),
    ]


def ngrad_hidden(rng):
    out = []
    for shape, h in (((5,), None), ((3, 4), None), ((2, 2, 3), 1e-4), ((4,), 0.1)):
        x, c = rng.normal(size=shape), rng.uniform(1.0, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        out.append(_sin_case(f"weighted sin, x of shape {shape}" + ("" if h is None else f", h = {h:g}"), x, c, h,
                             public=False))
    X, t, p = random_problem(rng, 3, 4, 6)
    for which in ("W1", "b1", "W2", "b2"):
        out.append(_mlp_case(f"random network's loss, x = params['{which}']", which, X, t, p, public=False))
    return out


# ---- sgd_update ---------------------------------------------------------------------------------
def sgd_public():
    p = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([0.5, -0.5]), "W2": np.array([[1.0], [-1.0]]), "b2": np.array([0.0])}
    g = {"W1": np.array([[0.1, -0.2]]), "b1": np.array([1.0, 1.0]), "W2": np.array([[0.5], [0.5]]), "b2": np.array([2.0])}
    return [Case("small network, lr = 0.1", call("sgd_update", p, g, 0.1)),
            Case("XOR params0, gradient of ones, lr = 0.5",
                 call("sgd_update", params0(), {k: np.ones_like(v) for k, v in params0().items()}, 0.5))]


def sgd_hidden(rng):
    out = []
    for (D, H), lr in (((2, 3), 0.5), ((4, 2), 1e-3), ((3, 5), 2.0), ((1, 1), 0.0)):
        p, g = random_params(rng, D, H), random_params(rng, D, H)
        out.append(Case(f"random D={D}, H={H}, lr = {lr:g}", call("sgd_update", p, g, lr), public=False))
    return out


# ---- train --------------------------------------------------------------------------------------
def train_public():
    return [Case("XOR, params0, lr = 0.5, 20 epochs", call("train", X_XOR, T_XOR, params0(), lr=0.5, epochs=20)),
            Case("XOR, params0, lr = 2.0, 3 epochs", call("train", X_XOR, T_XOR, params0(), 2.0, 3))]


def train_hidden(rng):
    out = []
    for (D, H, N), lr, epochs in (((2, 3, 4), 1.0, 1), ((3, 4, 6), 0.3, 25), ((1, 2, 5), 1.5, 40)):
        X, t, p = rng.normal(size=(N, D)), rng.integers(0, 2, size=(N, 1)).astype(np.float64), random_params(rng, D, H)
        out.append(Case(f"random D={D}, H={H}, N={N}, lr = {lr:g}, {epochs} epochs",
                        call("train", X, t, p, lr=lr, epochs=epochs), public=False))
    out.append(Case("XOR, params0, default lr, 300 epochs", call("train", X_XOR, T_XOR, params0(), epochs=300),
                    public=False))
    out.append(Case("default arguments lr = 0.5, epochs = 5000",
                    probe("defaults", fn="train", args=[X_XOR, T_XOR, params0()], kwargs={"epochs": 1}), public=False,
                    aspect="defaults"))
    return out


# ---- activations and their derivatives ----------------------------------------------------------
EDGES = np.array([-1000.0, -710.0, -40.0, -1.0, -1e-9, -0.0, 0.0, 1e-9, 1.0, 40.0, 710.0, 1000.0])
SMALL = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])


def _elementwise_cases(fn, rng, kwargs_public=None, kwargs_hidden=None):
    kp, kh = kwargs_public or {}, kwargs_hidden or {}
    label = lambda kw: "".join(f", {k} = {v:g}" for k, v in kw.items())  # noqa: E731
    pub = [Case(f"{fn}: z=[-2, -0.5, 0, 0.5, 2]", call(fn, SMALL))]
    if kp:
        pub.append(Case(f"{fn}: z=[-2, -0.5, 0, 0.5, 2]{label(kp)}", call(fn, SMALL, **kp)))
    pub.append(Case(f"{fn}: z=[-1000, 0, 1000]", call(fn, np.array([-1000.0, 0.0, 1000.0]))))
    hid = [Case(f"{fn}: random (3, 4)", call(fn, rng.normal(scale=4.0, size=(3, 4))), public=False),
           Case(f"{fn}: random (2, 3, 2){label(kh)}", call(fn, rng.normal(scale=4.0, size=(2, 3, 2)), **kh), public=False),
           Case(f"{fn}: edge values up to |z| = 1000{label(kh)}", call(fn, EDGES, **kh), public=False)]
    return pub, hid


ACTIVATIONS = {"tanh": ({}, {}), "relu": ({}, {}), "leaky_relu": ({"a": 0.2}, {"a": 0.05}),
               "elu": ({"alpha": 2.0}, {"alpha": 0.5}), "softplus": ({}, {})}
GRADS = {"tanh_grad": ({}, {}), "relu_grad": ({}, {}), "leaky_relu_grad": ({"a": 0.2}, {"a": 0.05}),
         "elu_grad": ({"alpha": 2.0}, {"alpha": 0.5}), "softplus_grad": ({}, {})}


def _cases(table, hidden_rng=None):
    public, hidden = [], []
    rng = hidden_rng if hidden_rng is not None else np.random.default_rng(0)
    for fn, (kp, kh) in table.items():
        pub, hid = _elementwise_cases(fn, rng, kp, kh)
        public += pub
        hidden += hid
    return public, hidden


def softmax_public():
    return [Case("softmax: z=[1, 2, 3]", call("softmax", np.array([1.0, 2.0, 3.0]))),
            Case("softmax: rows [1, 2, 3] and [1000, 1001, 1002]",
                 call("softmax", np.array([[1.0, 2.0, 3.0], [1000.0, 1001.0, 1002.0]])))]


def softmax_hidden(rng):
    return [Case("softmax: random (4, 3)", call("softmax", rng.normal(scale=3.0, size=(4, 3))), public=False),
            Case("softmax: random (2, 3, 5)", call("softmax", rng.normal(scale=3.0, size=(2, 3, 5))), public=False),
            Case("softmax: rows with +-1000", call("softmax", np.array([[-1000.0, 0.0, 1000.0], [-1000.0, -1000.0, -999.0],
                                                                        [5.0, 5.0, 5.0]])), public=False),
            Case("softmax: one column (5, 1)", call("softmax", rng.normal(size=(5, 1))), public=False)]


def activations_public():
    return _cases(ACTIVATIONS)[0] + softmax_public()


def activations_hidden(rng):
    return _cases(ACTIVATIONS, rng)[1] + softmax_hidden(rng)


def grads_public():
    return _cases(GRADS)[0]


def grads_hidden(rng):
    return _cases(GRADS, rng)[1]


SPEC = AssignmentSpec(
    name="03_backprop",
    questions=[
        Question(name="sigmoid", points=5, functions=["sigmoid"], compare=checks.ELEMENTWISE,
                 public_cases=sigmoid_public, hidden_cases=sigmoid_hidden, no_warnings=True,
                 hint=("z의 부호에 따라 식을 나누거나 np.logaddexp를 쓰면 |z| = 1000에서도 경고가 없습니다.",
                       "split by the sign of z, or use np.logaddexp, so that |z| = 1000 gives no warning")),
        Question(name="sigmoid_grad_from_output", points=5, functions=["sigmoid_grad_from_output"],
                 compare=checks.FLOATS,
                 public_cases=sgrad_public, hidden_cases=sgrad_hidden, inject=("sigmoid",),
                 hint=("입력은 z가 아니라 시그모이드의 출력 y입니다: y * (1 - y).",
                       "the input is the sigmoid's output y, not z: y * (1 - y)")),
        Question(name="forward", points=10, functions=["forward"], compare=checks.FORWARD,
                 public_cases=forward_public, hidden_cases=forward_hidden, inject=("sigmoid",),
                 hint=("h = sigmoid(X @ W1 + b1), y = sigmoid(h @ W2 + b2); (y, cache)를 돌려주고 cache에 'X', 'h', 'y'를 넣으세요.",
                       "h = sigmoid(X @ W1 + b1), y = sigmoid(h @ W2 + b2); return (y, cache) with 'X', 'h', 'y' in cache")),
        Question(name="loss", points=5, functions=["loss"], compare=checks.FLOATS,
                 public_cases=loss_public, hidden_cases=loss_hidden,
                 hint=("평균이 아니라 합입니다: 0.5 * sum((y - t) ** 2). 파이썬 float를 돌려주세요.",
                       "a sum, not a mean: 0.5 * sum((y - t) ** 2), returned as a float")),
        Question(name="backward", points=20, functions=["backward"], compare=checks.BACKWARD,
                 public_cases=backward_public, hidden_cases=backward_hidden,
                 inject=("sigmoid", "sigmoid_grad_from_output"), expected=checks.backward_expected,
                 hint=("정리 표의 식대로: 샘플에 대해 더하기만 하고(N으로 나누지 않음), 기울기의 모양은 파라미터의 모양과 같습니다.",
                       "follow the summary table: sum over samples (no division by N); each gradient has its parameter's shape")),
        Question(name="numerical_gradient", points=10, functions=["numerical_gradient"], compare=checks.NGRAD_COMPARE,
                 public_cases=ngrad_public, hidden_cases=ngrad_hidden, expected=checks.ngrad_expected,
                 hint=("중앙 차분 (f(x+h) - f(x-h)) / (2h)을 원소마다 계산하고, 저장해 둔 원래 값을 다시 대입하세요.",
                       "central differences (f(x+h) - f(x-h)) / (2h) per entry; restore each entry by assigning its saved value")),
        Question(name="sgd_update", points=5, functions=["sgd_update"], compare=checks.FLOATS,
                 public_cases=sgd_public, hidden_cases=sgd_hidden,
                 hint=("params[k] - lr * grads[k]로 새 딕셔너리를 만드세요. params를 제자리에서 바꾸면 안 됩니다.",
                       "build a new dict of params[k] - lr * grads[k]; do not change params in place")),
        Question(name="train", points=10, functions=["train"], compare=Custom(checks.train_compare),
                 public_cases=train_public, hidden_cases=train_hidden,
                 inject=("forward", "loss", "backward", "sgd_update", "sigmoid", "sigmoid_grad_from_output"),
                 timeout=30,
                 hint=("에폭마다 forward, loss 기록(수정 전), backward, sgd_update 순서입니다. 인자로 받은 params는 바꾸지 마세요.",
                       "each epoch: forward, record the loss (before the update), backward, sgd_update; do not change the given params")),
        Question(name="activations", points=10,
                 functions=["tanh", "relu", "leaky_relu", "elu", "softplus", "softmax"], compare=checks.ELEMENTWISE,
                 public_cases=activations_public, hidden_cases=activations_hidden, no_warnings=True,
                 inject=("sigmoid",),
                 hint=("|z| = 1000에서 경고가 없어야 합니다: ELU는 np.minimum(z, 0)을 지수 함수에 넣고, softmax는 마지막 축의 최댓값을 빼세요.",
                       "no warning at |z| = 1000: ELU takes exp of np.minimum(z, 0); softmax subtracts the max of the last axis")),
        Question(name="activation_grads", points=10,
                 functions=["tanh_grad", "relu_grad", "leaky_relu_grad", "elu_grad", "softplus_grad"],
                 compare=checks.ELEMENTWISE,
                 public_cases=grads_public, hidden_cases=grads_hidden, no_warnings=True,
                 inject=("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"),
                 hint=("z <= 0에서 relu_grad는 0, leaky_relu_grad는 a, elu_grad는 alpha * exp(z)입니다. 결과는 float64 배열입니다.",
                       "for z <= 0: relu_grad 0, leaky_relu_grad a, elu_grad alpha * exp(z); return float64 arrays")),
    ],
    hidden_seed=303,
)
