"""02_xor_mlp's child-side probes and the harness activations passed as arguments."""
import numpy as np

try:
    from agchild import kit          # inside the sandbox
except ImportError:
    from autograder.child import kit  # in the repository


ACTIVATIONS = {
    "identity": lambda z: np.asarray(z, dtype=np.float64) * 1.0,
    "tanh": lambda z: np.tanh(np.asarray(z, dtype=np.float64)),
    "relu": lambda z: np.maximum(np.asarray(z, dtype=np.float64), 0.0),
    "double": lambda z: 2.0 * np.asarray(z, dtype=np.float64),
}

BUILTINS = {"activation": lambda name: ACTIVATIONS[name]}

XOR_GIVEN = {"W1": [[-2.0, 2.0], [-2.0, 2.0]], "b1": [3.0, -1.0], "W2": [1.0, 1.0], "b2": -1.0,
             "X_xor": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]}


def probe_xor_table_structure(ns, constant_y=(1, 0, 0, 1)):
    """02: xor_table() with the slides' weights in place, once with the mlp_forward it finds
    (counting calls) and once with an mlp_forward that returns a fixed y, which a table computed
    by the network must follow (a hard-coded answer does not)."""
    fn = kit.student_function(ns, "xor_table")
    names = tuple(XOR_GIVEN) + ("mlp_forward",)
    missing = object()
    saved = {k: ns.get(k, missing) for k in names}
    honest = ns.get("mlp_forward")
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return honest(*args, **kwargs)

    def constant(*args, **kwargs):
        return np.zeros((len(constant_y), 2), dtype=int), np.array(constant_y, dtype=int)

    result = {}
    try:
        for k, v in XOR_GIVEN.items():
            ns[k] = np.array(v) if isinstance(v, list) else v
        if honest is not None:
            ns["mlp_forward"] = counting
        result["table"] = kit.int_list(fn())
        result["mlp_calls"] = len(calls)
        ns["mlp_forward"] = constant
        try:
            result["with_constant"] = kit.int_list(fn())
        except Exception:  # noqa: BLE001 - a table that does not come from mlp_forward's y
            result["with_constant"] = None
    finally:
        for k, v in saved.items():
            if v is missing:
                ns.pop(k, None)
            else:
                ns[k] = v
    return result


PROBES = {"xor_table_structure": probe_xor_table_structure}
