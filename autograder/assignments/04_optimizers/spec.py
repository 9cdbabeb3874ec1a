"""Question spec, 04_optimizers: the lecture's update rules and minimize (90 points autograded;
the written answers, graded by hand, make up the rest of the assignment's 100).

Every rule has the contract update(w, grad_fn, config=None) -> (w_next, config). A case either
calls the rule once with config=None (so the grader's input check sees whether `w` was changed
in place), or runs it through the probe "iterate", which applies it several times, threading the
config it returns, and records (w_next, config, w_unchanged) after every step. Explicit configs
only go through the probe: changing the given config in place (CS231n's style) is allowed, only
`w` must not change.

Tolerances. Every expected value is the float64 solution's; a correct implementation written
differently (other association orders, `x ** 0.5` for sqrt, in-place updates of its own state,
state initialised after a None check, m + (1 - b1)(g - m) for Adam's m) differs from it by
rounding only: measured (tests/grading/test_04_optimizers.py's CORRECT, every public and hidden
case) at most 6.5e-16 relative. RTOL = 1e-10 leaves five orders of margin for that, and is still
tight enough that a mistake that moves a result "a little" fails: each such mistake is also
exercised where it is large (a nearly flat direction, |g| ~ 1e-4, makes epsilon's place and
value decide the step; several threaded steps and a given non-zero velocity expose NAG's
look-ahead; a given t exposes Adam's step count). ATOL = 1e-14 only covers values that are
exactly zero in the reference; the smallest non-zero state values here (Adam's v ~ 1e-11 in
the flat direction) are still compared relatively.

Momentum and NAG: writing the velocity with the other sign (v <- beta v + lr g; w <- w - v) is
the same algorithm; the stored "velocity" is then -m. Both sign conventions are accepted, each
consistently over a whole case (a given velocity is read in the student's convention), see
`_both_velocity_signs`.
"""
import copy

import numpy as np

from autograder.child import wire, worker
from autograder.compare import PASS, Custom, Same, Verdict
from autograder.spec import AssignmentSpec, Case, Question, builtin, call, encode_call, probe

RTOL = 1e-10
ATOL = 1e-14


class Close(Same):
    """Same; for a public case the message also says how far a float result is off, since a result
    that is wrong by 1e-9 prints, at six digits, exactly like the expected one."""

    def _value(self, actual, expected, where, public):
        verdict = super()._value(actual, expected, where, public)
        kind = expected.dtype.kind if isinstance(expected, np.ndarray) else ("f" if isinstance(expected, float) else "")
        if verdict.key == "value_public" and kind == "f":
            try:
                with np.errstate(all="ignore"):
                    diff = float(np.max(np.abs(np.asarray(actual, dtype=np.float64) - expected)))
                verdict.params["actual"] = f"{verdict.params['actual']} (max |Δ| {diff:.3g}, rtol {self.rtol:g})"
            except (TypeError, ValueError):
                pass
        return verdict


SAME = Close(rtol=RTOL, atol=ATOL)


def _type_label(value):
    return f"ndarray{value.shape}" if isinstance(value, np.ndarray) else type(value).__name__


BOWL = [1.0, 25.0]                      # the notebook's bowl: J(w) = 0.5 (w1^2 + 25 w2^2)
W_START = np.array([-1.5, 0.8])
W_FLAT = np.array([2e-4, -0.8])         # the gradient's first component is 2e-4: epsilon matters there

RULES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")

# Non-default hyperparameters and non-zero state for the "explicit config" cases.
EXPLICIT = {
    "sgd": {"learning_rate": 0.05},
    "momentum": {"learning_rate": 0.03, "momentum": 0.7, "velocity": np.array([0.05, -0.1])},
    "nesterov": {"learning_rate": 0.03, "momentum": 0.7, "velocity": np.array([0.05, -0.1])},
    "adagrad": {"learning_rate": 0.2, "epsilon": 1e-4, "cache": np.array([0.5, 2.0])},
    "rmsprop": {"learning_rate": 0.01, "rho": 0.8, "epsilon": 1e-6, "cache": np.array([0.3, 4.0])},
    "adam": {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6,
             "m": np.array([0.1, -0.3]), "v": np.array([0.02, 0.5]), "t": 4},
}
PARTIAL = {"sgd": 0.02, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.1, "rmsprop": 0.02, "adam": 0.01}
# Learning rates on Rosenbrock's valley, where the gradient at (-1.2, 1) is about (-216, -88).
ROSENBROCK_LR = {"sgd": 5e-4, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 0.05, "rmsprop": 0.01, "adam": 0.02}


def _grad(A, b=None):
    return builtin("quadratic_grad", A=A) if b is None else builtin("quadratic_grad", A=A, b=b)


# A rule's case compares one call (aspect "one step") or the chain of calls the probe "iterate"
# makes (aspect "steps"): see the module docstring and _compare_one.
def _one_step(name, rule, w, grad, public=True):
    return Case(name, call(rule, w, grad, None), public=public, aspect="one step")


def _steps(name, rule, w0, grad, config, steps, public=True):
    return Case(name, probe("iterate", rule=rule, w0=w0, grad=grad, config=config, steps=steps), public=public,
                aspect="steps")


def _random_config(rule, rng, shape):
    """Random non-default hyperparameters and state of the right shape."""
    lr = float(rng.uniform(0.005, 0.05))
    if rule == "sgd":
        return {"learning_rate": lr}
    if rule in ("momentum", "nesterov"):
        return {"learning_rate": lr, "momentum": float(rng.uniform(0.5, 0.95)),
                "velocity": 0.1 * rng.normal(size=shape)}
    if rule == "adagrad":
        return {"learning_rate": float(rng.uniform(0.05, 0.5)), "epsilon": float(10 ** rng.uniform(-7, -4)),
                "cache": rng.uniform(0.1, 3.0, size=shape)}
    if rule == "rmsprop":
        return {"learning_rate": lr, "rho": float(rng.uniform(0.8, 0.99)), "epsilon": float(10 ** rng.uniform(-9, -6)),
                "cache": rng.uniform(0.1, 3.0, size=shape)}
    return {"learning_rate": lr, "beta1": float(rng.uniform(0.7, 0.95)), "beta2": float(rng.uniform(0.95, 0.9999)),
            "epsilon": float(10 ** rng.uniform(-9, -6)), "m": 0.1 * rng.normal(size=shape),
            "v": rng.uniform(0.01, 1.0, size=shape), "t": int(rng.integers(1, 60))}


def rule_public(rule):
    def cases():
        out = [
            _one_step("one step, config=None, bowl A=[1, 25], w=[-1.5, 0.8]", rule, W_START, _grad(BOWL)),
            _one_step("one step, config=None, w=[2e-4, -0.8] (a nearly flat direction)", rule, W_FLAT, _grad(BOWL)),
            _steps("3 steps from config=None, each with the config returned before", rule, W_START, _grad(BOWL),
                   None, 3),
            _steps("2 steps from {'learning_rate': %g} (other defaults filled)" % PARTIAL[rule], rule, W_START,
                   _grad(BOWL), {"learning_rate": PARTIAL[rule]}, 2),
        ]
        cfg = EXPLICIT[rule]
        label = ", ".join(f"{k}={v.tolist() if isinstance(v, np.ndarray) else v}" for k, v in cfg.items())
        out.append(_steps(f"2 steps from an explicit config ({label})", rule, W_START, _grad(BOWL), dict(cfg), 2))
        return out
    return cases


def rule_hidden(rule):
    def cases(rng):
        out = []
        for d in (3, 6):
            w0 = rng.normal(size=d)
            A, b = rng.uniform(0.5, 8.0, size=d), rng.normal(size=d)
            out.append(_steps(f"random bowl d={d}, random config and state, 4 steps", rule, w0, _grad(A, b),
                              _random_config(rule, rng, d), 4, public=False))
        M = rng.normal(size=(4, 4))
        A = M @ M.T + 0.5 * np.eye(4)
        out.append(_steps("full quadratic (SPD matrix) d=4, config=None, 3 steps", rule, rng.normal(size=4),
                          _grad(A, rng.normal(size=4)), None, 3, public=False))
        out.append(_steps("Rosenbrock from (-1.2, 1), 4 steps", rule, np.array([-1.2, 1.0]), builtin("rosenbrock_grad"),
                          {"learning_rate": ROSENBROCK_LR[rule]}, 4, public=False))
        # A weight matrix: w of shape (2, 3); the gradient is A @ w - b with A 2x2 SPD.
        M = rng.normal(size=(2, 2))
        A, b = M @ M.T + np.eye(2), rng.normal(size=(2, 3))
        out.append(_one_step("w of shape (2, 3), config=None, one step", rule, rng.normal(size=(2, 3)), _grad(A, b),
                             public=False))
        w_flat = rng.choice([-1.0, 1.0], size=3) * 10 ** rng.uniform(-4.5, -3, size=3)
        out.append(_steps("tiny gradients (|g| ~ 1e-4), config=None, 2 steps", rule, w_flat, _grad([1.0, 1.0, 1.0]),
                          None, 2, public=False))
        if rule != "sgd":
            big = dict(EXPLICIT[rule])
            if rule == "adam":
                big["t"] = 57
            out.append(_steps("explicit state, other bowl, 3 steps", rule, np.array([0.7, -0.4]), _grad([3.0, 0.5]),
                              big, 3, public=False))
        return out
    return cases


# ---- momentum and NAG: either sign convention of the stored velocity -------------------------

def _flip(config):
    if isinstance(config, dict) and isinstance(config.get("velocity"), np.ndarray):
        config = dict(config)
        config["velocity"] = -config["velocity"]
    return config


def _flip_result(value):
    if isinstance(value, tuple):
        return (value[0], _flip(value[1]))
    return [dict(rec, config=_flip(rec["config"])) for rec in value]


def _both_velocity_signs(case, value, ns):
    """Expected outcomes in both conventions: the solution's, and the solution's run on the case with
    the given velocity read as -m and every stored velocity negated (v = -m, w <- w - v)."""
    alt = copy.deepcopy(case.call)
    if case.aspect == "steps":   # the probe "iterate": the config is its parameter, not the rule's argument
        alt["params"]["config"] = _flip(alt["params"].get("config"))
    else:
        alt["args"][2] = {"value": _flip(alt["args"][2]["value"])}
    reply = worker.perform_call(ns, encode_call(alt), table=worker.probe_table("04_optimizers"))
    if not reply["ok"]:
        raise RuntimeError(f"the solution failed on {case.name} (other velocity sign): {reply['error']}")
    return {"accepted": [value, _flip_result(wire.decode(reply["value"]))]}


# ---- comparison --------------------------------------------------------------------------------

def _compare_step(actual_w, actual_config, expected, where, public):
    v = SAME.compare(actual_w, expected[0], f"{where}w_next", public)
    if v.ok:
        v = SAME.compare(actual_config, expected[1], f"{where}config", public)
    return v


def _compare_one(actual, expected, case):
    public = bool(case.get("public"))
    if case["aspect"] == "steps":
        if not isinstance(actual, list):
            return Verdict.fail("type", where="steps", actual=_type_label(actual), expected="a list of steps")
        if len(actual) != len(expected):
            return Verdict.fail("length", where="steps", actual=len(actual), expected=len(expected))
        for i, (a, e) in enumerate(zip(actual, expected)):
            if not isinstance(a, dict):
                return Verdict.fail("type", where=f"step {i + 1}", actual=_type_label(a), expected="(w_next, config)")
            if not a.get("w_unchanged", True):
                return Verdict.fail("mutated", arg="w")
            v = _compare_step(a.get("w"), a.get("config"), (e["w"], e["config"]), f"step {i + 1}: ", public)
            if not v.ok:
                return v
        return PASS
    if not isinstance(actual, (tuple, list)) or len(actual) != 2:
        return Verdict.fail("type", where="output", actual=_type_label(actual), expected="a tuple (w_next, config)")
    return _compare_step(actual[0], actual[1], expected, "", public)


def rule_compare(actual, expected, case):
    """One step or a chain of steps: w_next (shape, float dtype, values) and config (exactly the
    hyperparameters and state keys; arrays and numbers close; t an int or NumPy int)."""
    options = expected["accepted"] if isinstance(expected, dict) and "accepted" in expected else [expected]
    first = None
    for option in options:
        verdict = _compare_one(actual, option, case)
        if verdict.ok:
            return PASS
        first = first or verdict
    return first


# ---- minimize ----------------------------------------------------------------------------------

def minimize_public():
    rule, grad = builtin("decaying_rule", learning_rate=0.1), builtin("quadratic_grad", A=[1.0, 4.0])
    return [
        Case("5 steps, bowl A=[1, 4], w0=[-1.5, 0.8], config=None",
             call("minimize", rule, grad, W_START, 5, None)),
        Case("steps=0: path is [w0]", call("minimize", rule, grad, W_START, 0, None)),
        Case("3 steps from config={'k': 4} (the rule counts its calls in config)",
             call("minimize", rule, grad, W_START, 3, {"k": 4})),
    ]


def minimize_hidden(rng):
    d = 5
    A = rng.uniform(0.5, 4.0, size=d)
    return [
        Case("random bowl d=5, 7 steps",
             call("minimize", builtin("decaying_rule", learning_rate=0.2),
                  builtin("quadratic_grad", A=A, b=rng.normal(size=d)), rng.normal(size=d), 7, None), public=False),
        Case("w0 given as a list of ints, 3 steps",
             call("minimize", builtin("decaying_rule", learning_rate=0.1),
                  builtin("quadratic_grad", A=[1.0, 2.0, 0.5]), [2, -1, 3], 3, None), public=False),
        Case("Rosenbrock, 10 steps",
             call("minimize", builtin("decaying_rule", learning_rate=1e-3), builtin("rosenbrock_grad"),
                  np.array([-1.2, 1.0]), 10, None), public=False),
        Case("steps=0 on a random point, config={'k': 2}",
             call("minimize", builtin("decaying_rule", learning_rate=0.1), builtin("quadratic_grad", A=A),
                  rng.normal(size=d), 0, {"k": 2}), public=False),
    ]


HINTS = {
    "sgd": ("w - learning_rate * g를 새 배열로 반환하고, config에는 learning_rate (기본 0.01)를 채워 돌려주세요.",
            "return a new array w - learning_rate * g, and the config with learning_rate (default 0.01) filled in"),
    "momentum": ("m <- beta*m - lr*g(w); w <- w + m. 속도는 config['velocity']에 저장해 다음 호출이 이어 씁니다.",
                 "m <- beta*m - lr*g(w); w <- w + m; keep m in config['velocity'] for the next call"),
    "nesterov": ("기울기는 w가 아니라 앞을 내다본 점 w + beta*m (갱신 전 m)에서 구합니다.",
                 "take the gradient at the look-ahead point w + beta*m (m before the update), not at w"),
    "adagrad": ("s는 g**2를 누적하고, epsilon (기본 1e-6)은 제곱근 안에 있습니다: sqrt(s + epsilon).",
                "s accumulates g**2; epsilon (default 1e-6) sits inside the square root: sqrt(s + epsilon)"),
    "rmsprop": ("s <- rho*s + (1 - rho)*g**2, epsilon (기본 1e-8)은 제곱근 안에 있습니다.",
                "s <- rho*s + (1 - rho)*g**2; epsilon (default 1e-8) sits inside the square root"),
    "adam": ("t를 먼저 1 늘린 뒤 편향 보정에 쓰고, epsilon은 제곱근 밖에 있습니다: sqrt(v_hat) + epsilon. t는 int입니다.",
             "increment t first, then use it in the bias correction; epsilon sits outside: sqrt(v_hat) + epsilon; t is an int"),
    "minimize": ("path[0]은 w0 (float64), 각 호출이 돌려준 config를 다음 호출에 넘기고, path는 (steps+1, n) 배열입니다.",
                 "path[0] is w0 (float64); pass each returned config to the next call; path is a (steps+1, n) array"),
}
POINTS = {"sgd": 10, "momentum": 15, "nesterov": 15, "adagrad": 15, "rmsprop": 15, "adam": 15}


def _rule_question(rule):
    return Question(name=rule, points=POINTS[rule], functions=[rule], compare=Custom(rule_compare),
                    public_cases=rule_public(rule), hidden_cases=rule_hidden(rule),
                    expected=_both_velocity_signs if rule in ("momentum", "nesterov") else None, hint=HINTS[rule])


SPEC = AssignmentSpec(
    name="04_optimizers",
    questions=[_rule_question(rule) for rule in RULES] + [
        Question(name="minimize", points=5, functions=["minimize"], compare=SAME,
                 public_cases=minimize_public, hidden_cases=minimize_hidden, hint=HINTS["minimize"]),
    ],
    hidden_seed=404,
)
