"""Judging one reply of a child, in the grading process: decode the plain data, check that the
inputs came back unchanged and that nothing warned where nothing may, then ask the question's
comparison (compare.py). A child's reply is untrusted: any shape is a verdict, never an exception."""
import numpy as np

from .child import wire
from .compare import Verdict

NOT_ATTEMPTED_ERRORS = {"NotImplementedError"}

def _identical(a, b):
    """Exactly the same plain data (used to see whether a function changed its inputs)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:  # noqa: BLE001
        return False


def _unsupported(value):
    if isinstance(value, wire.Unsupported):
        return value
    items = value if isinstance(value, (list, tuple)) else value.values() if isinstance(value, dict) else ()
    for v in items:
        found = _unsupported(v)
        if found is not None:
            return found
    return None


def _error_verdict(reply):
    err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    etype, message = str(err.get("type", "Error"))[:80], str(err.get("message", ""))[:300]
    if etype in NOT_ATTEMPTED_ERRORS:
        return Verdict.fail("not_attempted")
    if etype == "MissingFunction":
        return Verdict.fail("missing_function", name=message)
    if etype == "Timeout":
        if message == "question":
            return Verdict.fail("question_timeout", seconds=0)
        try:
            return Verdict.fail("call_timeout", seconds=float(message))
        except ValueError:
            return Verdict.fail("call_timeout", seconds=0)
    if etype == "Crash":
        return Verdict.fail("crash", message=message)
    if etype == "MemoryError":
        return Verdict.fail("limit", message="out of memory (MemoryError)")
    if etype == "ReferenceHelperError":
        return Verdict.fail("reference_failed", name="", message=message)
    return Verdict.fail("raised", type=etype, message=message)


def _inputs_changed(case, reply):
    after = reply.get("args_after") if isinstance(reply.get("args_after"), list) else []
    for i, arg in enumerate(case["call"].get("args", [])):
        if "value" in arg and i < len(after) and after[i] is not None and not _same_wire(arg["value"], after[i]):
            return f"#{i + 1}"
    kwargs_after = reply.get("kwargs_after") if isinstance(reply.get("kwargs_after"), dict) else {}
    for k, v in kwargs_after.items():
        arg = case["call"].get("kwargs", {}).get(k)
        if arg and "value" in arg and not _same_wire(arg["value"], v):
            return str(k)[:40]
    return None


def _same_wire(sent, back):
    """Whether an argument came back as it was sent. The same encoding is the same value (decoding
    is deterministic), which is most arguments: only a different one is decoded and compared."""
    if sent == back:
        return True
    try:
        return _identical(wire.decode(sent), wire.decode(back))
    except (wire.WireError, ValueError, TypeError, RecursionError):
        return False


def judge_reply(question, case, reply):
    """Verdict for one case from the child's reply (all comparison happens here, in the grader)."""
    if not isinstance(reply, dict):
        return Verdict.fail("crash", message="no reply")
    if not reply.get("ok"):
        return _error_verdict(reply)
    try:
        actual = wire.decode(reply.get("value"))
    except (wire.WireError, ValueError, TypeError, RecursionError) as exc:
        return Verdict.fail("type", where="output", actual=f"unreadable data ({str(exc)[:80]})", expected="plain data")
    bad = _unsupported(actual)
    if bad is not None:
        return Verdict.fail("type", where="output", actual=bad.what, expected="NumPy arrays / numbers")
    if question.check_args and "fn" in case["call"]:
        changed = _inputs_changed(case, reply)
        if changed:
            return Verdict.fail("mutated", arg=changed)
    warnings = reply.get("warnings")
    if question.no_warnings and isinstance(warnings, list) and warnings:
        return Verdict.fail("warned", warning=str(warnings[0])[:200])
    try:
        return question.compare(actual, case["expected"], case)
    except Exception as exc:  # noqa: BLE001 - a shape the comparison did not foresee is a wrong answer
        return Verdict.fail("type", where="output", actual=f"{type(actual).__name__} ({type(exc).__name__})",
                            expected="the documented return type")


# ---- running one question --------------------------------------------------------------------------
