"""Unit tests of the comparisons (autograder/compare.py): each check fails where it should, with its
own message, and what a hidden case may say is only the kind of the failure."""
import numpy as np
import pytest

from autograder.compare import KINDS, Custom, Gradients, Same, Verdict, relative_error


def test_same_checks_type_then_shape_then_dtype_then_values():
    same = Same(rtol=1e-9, atol=1e-12)
    expected = np.array([1.0, 2.0])
    assert same(np.array([1.0, 2.0]), expected).ok
    assert same([1.0, 2.0], expected).key == "type"
    assert same(np.array([1.0, 2.0, 3.0]), expected).key == "shape"
    assert same(np.array([1, 2]), expected).key == "dtype"
    assert same(np.array([1.0, 2.1]), expected).key == "value"
    assert same(np.array([1.0, np.inf]), expected).key == "nonfinite"
    assert same(np.array([1.0, 2.0 + 1e-13]), expected).ok        # within atol


def test_same_on_containers_and_scalars():
    same = Same()
    assert same((1, np.array([0.5])), (1, np.array([0.5]))).ok
    assert same((1,), (1, 2)).key == "length"
    assert same({"a": 1.0}, {"a": 1.0, "b": 2.0}).key == "keys"
    assert same(np.int64(3), 3).ok and same(3.0, 3).key == "type"      # an int is expected exactly
    assert same(np.array([7]), 7).ok                                   # a one-element array counts as its scalar
    assert Same(exact_keys=False)({"a": 1.0, "extra": 0}, {"a": 1.0}).ok


def test_public_failures_show_values_hidden_ones_do_not():
    same = Same()
    public = same(np.array([1.0, 3.0]), np.array([1.0, 2.0]), {"public": True})
    hidden = same(np.array([1.0, 3.0]), np.array([1.0, 2.0]), {"public": False})
    assert public.key == "value_public" and "expected" in public.params
    assert hidden.key == "value" and hidden.kind == "value"


def test_relative_error_and_gradients():
    assert relative_error(np.array([1.0]), np.array([1.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    ref = {"W": np.array([[1.0, 2.0]])}
    grads = Gradients(max_rel_reference=1e-7, max_rel_numerical=1e-6)
    assert grads({"W": np.array([[1.0, 2.0]])}, {"reference": ref, "numerical": ref}).ok
    assert grads({"W": np.array([[1.0, 2.1]])}, {"reference": ref, "numerical": ref}).key == "relerr"
    assert grads({"W": np.array([1.0, 2.0])}, {"reference": ref, "numerical": ref}).key == "shape"
    assert grads({"V": ref["W"]}, {"reference": ref, "numerical": ref}).key == "keys"
    # a cache from other weights: no numerical gradient applies, the reference alone decides
    assert grads({"W": np.array([[1.0, 2.0]])}, {"reference": ref, "numerical": None}).ok


def test_every_failure_key_has_a_kind():
    assert Verdict.fail("relerr", err=1.0, tol=1e-7).kind == "value"
    assert Verdict.fail("call_timeout", seconds=1).kind == "time"
    assert Verdict.fail("missing_function", name="f").kind == "missing"
    assert Custom(lambda a, e, c: Verdict.fail("structure", message="x"))(1, 1).kind == "structure"
    assert set(KINDS.values()) >= {"type", "shape", "dtype", "value", "warning", "time", "missing"}


def test_a_changed_input_is_found_whether_or_not_it_comes_back_encoded_the_same():
    """judge._inputs_changed: an argument sent back as it was sent is unchanged without decoding; one
    encoded differently is decoded and compared (-0.0 for 0.0 is the same value, 0.5 is not)."""
    from autograder import judge
    from autograder.child import wire
    w = np.array([0.0, 1.0, 2.0])
    case = {"call": {"fn": "sgd", "args": [{"value": wire.encode(w)}, {"fn": "grad"}],
                     "kwargs": {"config": {"value": wire.encode({"learning_rate": 0.1})}}}}
    same = {"args_after": [wire.encode(w.copy()), None], "kwargs_after": {"config": wire.encode({"learning_rate": 0.1})}}
    assert judge._inputs_changed(case, same) is None
    signed_zero = dict(same, args_after=[wire.encode(np.array([-0.0, 1.0, 2.0])), None])
    assert signed_zero["args_after"][0] != case["call"]["args"][0]["value"]   # another encoding ...
    assert judge._inputs_changed(case, signed_zero) is None                   # ... of the same value
    assert judge._inputs_changed(case, dict(same, args_after=[wire.encode(w - 0.5), None])) == "#1"
    assert judge._inputs_changed(case, dict(same, kwargs_after={"config": wire.encode({"learning_rate": 0.2})})) == "config"
