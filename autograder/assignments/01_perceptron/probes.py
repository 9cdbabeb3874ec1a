"""01_perceptron's child-side probes: they call the student's gates and XOR with stand-ins the
harness controls and report what came back; the grader judges (spec.py)."""
import numpy as np

try:
    from agchild import kit          # inside the sandbox
except ImportError:
    from autograder.child import kit  # in the repository


GATE_TABLES = {"AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "NAND": (1, 1, 1, 0)}
INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))


def _gate(table, counter, name):
    def gate(x1, x2):
        counter[name] = counter.get(name, 0) + 1
        return table[INPUTS.index((int(x1), int(x2)))]
    return gate


def probe_xor_structure(ns):
    """Evaluate the student's XOR with honest gates (counting calls) and with constant gates."""
    xor = kit.student_function(ns, "XOR")
    saved = {g: ns.get(g) for g in GATE_TABLES}
    result = {}
    try:
        counter = {}
        for g, table in GATE_TABLES.items():
            ns[g] = _gate(table, counter, g)
        result["table"] = [int(xor(a, b)) for a, b in INPUTS]
        result["gate_calls"] = dict(counter)
        for const in (0, 1):
            for g in GATE_TABLES:
                ns[g] = _gate((const,) * 4, {}, g)
            result[f"with_constant_{const}"] = [int(xor(a, b)) for a, b in INPUTS]
    finally:
        for g, f in saved.items():
            if f is None:
                ns.pop(g, None)
            else:
                ns[g] = f
    return result


def probe_gate_calls(ns, gate):
    """Call one gate on the four inputs with a counting, correct `perceptron` in place."""
    fn = kit.student_function(ns, gate)
    saved = ns.get("perceptron")
    calls = []

    def perceptron(x, w, b):
        z = float(np.dot(np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)) + b)
        calls.append(1)
        return 1 if z > 0 else 0
    ns["perceptron"] = perceptron
    try:
        table = [fn(a, b) for a, b in INPUTS]
    finally:
        if saved is None:
            ns.pop("perceptron", None)
        else:
            ns["perceptron"] = saved
    return {"table": table, "perceptron_calls": len(calls)}


PROBES = {"xor_structure": probe_xor_structure, "gate_calls": probe_gate_calls}
