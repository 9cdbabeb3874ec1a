"""Comparisons: each takes what the student's call returned (plain data, decoded in the grading
process) and what the reference expects, and returns a Verdict. Nothing here runs student code.
"""
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Verdict:
    ok: bool
    key: str = "passed"
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)   # plain data for the feedback (e.g. a fitted curve)

    @classmethod
    def fail(cls, key, **params):
        return cls(False, key, params)

    @property
    def kind(self):
        """The kind of failure, all that a hidden case tells the student (never a number derived
        from its expected value): missing, not_attempted, type, shape, dtype, value, warning, time,
        raised, changed_input, structure, crash, skipped."""
        return KINDS.get(self.key, "value")


KINDS = {"passed": "passed", "not_attempted": "not_attempted", "missing_function": "missing", "type": "type",
         "length": "type", "keys": "type", "shape": "shape", "dtype": "dtype", "value": "value",
         "value_public": "value", "relerr": "value", "nonfinite": "value", "keras_fit": "value",
         "threshold": "value", "warned": "warning", "call_timeout": "time", "question_timeout": "time",
         "timeout": "time", "raised": "raised", "mutated": "changed_input", "structure": "structure",
         "keras": "structure", "output_printed": "structure", "crash": "crash", "limit": "crash",
         "skipped_after_timeout": "skipped", "reference_failed": "raised"}


PASS = Verdict(True)


def _fmt(value, limit=120):
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=6, threshold=12, separator=", ")
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _type_label(value):
    if isinstance(value, np.ndarray):
        return f"ndarray{value.shape}"
    return type(value).__name__


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_real(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _scalar(x):
    """A 0-d array or a 1-element array counts as its scalar for scalar questions."""
    if isinstance(x, np.ndarray) and x.size == 1 and x.ndim <= 1 and x.dtype.kind in "iufb":
        return x.reshape(()).item() if x.dtype.kind != "b" else np.bool_(x.reshape(()))
    return x


@dataclass
class Same:
    """Outputs equal to the reference: ints and bools exactly, floats within rtol/atol; arrays
    are checked for type, then shape, then dtype kind, then values (each with its own message)."""
    rtol: float = 1e-7
    atol: float = 1e-10
    exact_keys: bool = True

    def __call__(self, actual, expected, case=None):
        return self.compare(actual, expected, "output", case is not None and case.get("public", False))

    def compare(self, actual, expected, where, public):
        if isinstance(expected, tuple):
            if not isinstance(actual, (tuple, list)):
                return Verdict.fail("type", where=where, actual=_type_label(actual), expected=f"tuple of {len(expected)}")
            if len(actual) != len(expected):
                return Verdict.fail("length", where=where, actual=len(actual), expected=len(expected))
            for i, (a, e) in enumerate(zip(actual, expected)):
                v = self.compare(a, e, f"{where}[{i}]", public)
                if not v.ok:
                    return v
            return PASS
        if isinstance(expected, dict):
            if not isinstance(actual, dict):
                return Verdict.fail("type", where=where, actual=_type_label(actual), expected="dict")
            if self.exact_keys and set(actual) != set(expected) or not set(expected) <= set(actual):
                return Verdict.fail("keys", where=where, actual=sorted(actual), expected=sorted(expected))
            for k in expected:
                v = self.compare(actual[k], expected[k], f"{where}[{k!r}]", public)
                if not v.ok:
                    return v
            return PASS
        if isinstance(expected, list):
            if isinstance(actual, np.ndarray) and actual.ndim == 1:
                actual = actual.tolist()
            if not isinstance(actual, (list, tuple)):
                return Verdict.fail("type", where=where, actual=_type_label(actual), expected="list")
            if len(actual) != len(expected):
                return Verdict.fail("length", where=where, actual=len(actual), expected=len(expected))
            for i, (a, e) in enumerate(zip(actual, expected)):
                v = self.compare(a, e, f"{where}[{i}]", public)
                if not v.ok:
                    return v
            return PASS
        if isinstance(expected, np.ndarray):
            return self._array(actual, expected, where, public)
        if expected is None:
            return PASS if actual is None else Verdict.fail("type", where=where, actual=_type_label(actual), expected="None")
        if isinstance(expected, (bool, np.bool_)):
            actual = _scalar(actual)
            if not isinstance(actual, (bool, np.bool_)):
                return Verdict.fail("type", where=where, actual=_type_label(actual), expected="bool")
            return PASS if bool(actual) == bool(expected) else self._value(actual, expected, where, public)
        if _is_int(expected):
            actual = _scalar(actual)
            if not _is_int(actual):
                return Verdict.fail("type", where=where, actual=_type_label(actual), expected="int")
            return PASS if int(actual) == int(expected) else self._value(actual, expected, where, public)
        if _is_real(expected):
            actual = _scalar(actual)
            if not _is_real(actual):
                return Verdict.fail("type", where=where, actual=_type_label(actual), expected="float")
            a, e = float(actual), float(expected)
            if not math.isfinite(a) and math.isfinite(e):
                return Verdict.fail("nonfinite", where=where)
            if math.isclose(a, e, rel_tol=self.rtol, abs_tol=self.atol) or (a == e):
                return PASS
            return self._value(a, e, where, public)
        if isinstance(expected, str):
            return PASS if actual == expected else self._value(actual, expected, where, public)
        return PASS if actual == expected else self._value(actual, expected, where, public)

    def _array(self, actual, expected, where, public):
        if not isinstance(actual, np.ndarray):
            return Verdict.fail("type", where=where, actual=_type_label(actual), expected=f"ndarray{expected.shape}")
        if actual.shape != expected.shape:
            return Verdict.fail("shape", where=where, actual=actual.shape, expected=expected.shape)
        ek, ak = expected.dtype.kind, actual.dtype.kind
        if ek in "iu" and ak not in "iu" or ek == "f" and ak not in "f" or ek == "b" and ak != "b":
            label = {"i": "an integer dtype", "u": "an integer dtype", "f": "a float dtype", "b": "bool"}[ek]
            return Verdict.fail("dtype", where=where, actual=str(actual.dtype), expected=label)
        if ek in "iub":
            ok = np.array_equal(actual, expected)
        else:
            if not np.all(np.isfinite(actual)) and np.all(np.isfinite(expected)):
                return Verdict.fail("nonfinite", where=where)
            ok = np.allclose(actual, expected, rtol=self.rtol, atol=self.atol, equal_nan=True)
        return PASS if ok else self._value(actual, expected, where, public)

    def _value(self, actual, expected, where, public):
        if public:
            return Verdict.fail("value_public", where=where, actual=_fmt(actual), expected=_fmt(expected))
        detail = ""
        if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray) and actual.dtype.kind == "f":
            with np.errstate(all="ignore"):
                detail = f" (max |diff| {float(np.max(np.abs(actual - expected))):.3g})"
        return Verdict.fail("value", where=where, detail=detail)


def relative_error(a, b):
    """CS231n's relative error: the largest entry-wise |a - b| / (|a| + |b|) (denominator floored at 1e-12)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


@dataclass
class Gradients:
    """A dict of gradients against the reference's and against central differences, by relative error."""
    max_rel_reference: float = 1e-7
    max_rel_numerical: float = 1e-5

    def __call__(self, actual, expected, case=None):
        ref, num = expected["reference"], expected["numerical"]
        if not isinstance(actual, dict):
            return Verdict.fail("type", where="grads", actual=_type_label(actual), expected="dict")
        if set(actual) != set(ref):
            return Verdict.fail("keys", where="grads", actual=sorted(actual), expected=sorted(ref))
        for k in ref:
            a = actual[k]
            if not isinstance(a, np.ndarray):
                return Verdict.fail("type", where=f"grads[{k!r}]", actual=_type_label(a), expected=f"ndarray{ref[k].shape}")
            if a.shape != ref[k].shape:
                return Verdict.fail("shape", where=f"grads[{k!r}]", actual=a.shape, expected=ref[k].shape)
            if a.dtype.kind != "f":
                return Verdict.fail("dtype", where=f"grads[{k!r}]", actual=str(a.dtype), expected="a float dtype")
            if not np.all(np.isfinite(a)):
                return Verdict.fail("nonfinite", where=f"grads[{k!r}]")
            err = relative_error(a, ref[k])
            if err > self.max_rel_reference:
                return Verdict.fail("relerr", where=f"grads[{k!r}]", err=err, tol=self.max_rel_reference,
                                    against="the reference")
            err = relative_error(a, num[k]) if num is not None else 0.0
            if err > self.max_rel_numerical:
                return Verdict.fail("relerr", where=f"grads[{k!r}]", err=err, tol=self.max_rel_numerical,
                                    against="central differences")
        return PASS


@dataclass
class Custom:
    """A question-specific rule: fn(actual, expected, case) -> Verdict."""
    fn: object

    def __call__(self, actual, expected, case=None):
        return self.fn(actual, expected, case)
