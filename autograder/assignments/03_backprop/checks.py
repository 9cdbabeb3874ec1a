"""03_backprop's comparisons and `expected` hooks (the tolerances are measured in spec.py's docstring)."""
import numpy as np

from autograder.compare import Gradients, Same
from autograder.spec import sibling

problems = sibling(__file__, "problems")

FLOATS = Same(rtol=1e-9, atol=1e-12)
ELEMENTWISE = Same(rtol=1e-9, atol=1e-14)
FORWARD = Same(rtol=1e-9, atol=1e-12, exact_keys=False)
BACKWARD = Gradients(max_rel_reference=1e-7, max_rel_numerical=1e-6)
NGRAD_COMPARE = Same(rtol=1e-7, atol=1e-8)
TRAIN_SAME = Same(rtol=1e-7, atol=1e-10)


def backward_expected(case, value, ns):
    """The solution's gradient and, but for a case of aspect "formulas", the numerical one."""
    if case.aspect == "formulas":
        return {"reference": value, "numerical": None}  # no loss of p has this gradient: the formulas decide
    t, params, cache = (a["value"] for a in case.call["args"])
    num = problems.numerical_grads(cache["X"], t, params)
    verdict = Gradients(max_rel_reference=1e-9, max_rel_numerical=1e-9)(value, {"reference": value, "numerical": num})
    if not verdict.ok:
        raise RuntimeError(f"backward case {case.name!r} is not well conditioned: {verdict}")
    return {"reference": value, "numerical": num}


def ngrad_expected(case, value, ns):
    f, x = case.call["args"][0], case.call["args"][1]["value"]
    params = f["params"]
    if f["closure"] == "weighted_sin":
        h = case.call["kwargs"]["h"]["value"] if "h" in case.call["kwargs"] else 1e-5
        expected = params["c"] * np.cos(x) * (np.sin(h) / h) + x
    else:
        X, t, p = params["X"], params["t"], params["params"]
        _, cache = ns["forward"](X, p)
        expected = ns["backward"](t, p, cache)[params["which"]]
    if not NGRAD_COMPARE(value, expected).ok or np.max(np.abs(value - expected)) > 1e-9:
        raise RuntimeError(f"the solution's central differences are too far from the exact value on {case.name!r}")
    return expected


def train_compare(actual, expected, case):
    """The training's losses and final parameters; for the case of aspect "defaults", the defaults
    read from the signature (and the one-epoch call's outcome)."""
    if case.get("aspect") == "defaults":
        return Same(exact_keys=False)(actual, expected, case)
    return TRAIN_SAME(actual, expected, case)
