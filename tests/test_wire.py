"""The sandbox boundary's data format (autograder/wire.py): what a student's process sends is read
as plain data or refused, never built into an object; arrays come back exactly as np.load reads
them, whichever of the two readers (the header parser for np.save's usual header, or np.load)
handles them."""
import base64
import io
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from autograder.child import wire

DTYPES = st.sampled_from(["<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "|u1", "|b1", "<c16", "<c8",
                          ">f8", ">i4"])


def _npy(arr, **kwargs):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, **kwargs)
    return buf.getvalue()


def _message(raw, tag="ndarray"):
    return {"__ndarray__": base64.b64encode(raw).decode("ascii"), "type": tag}


@settings(max_examples=300, deadline=None)
@given(DTYPES.flatmap(lambda d: hnp.arrays(np.dtype(d), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0,
                                                                          max_side=5))))
def test_round_trip_equals_np_load(arr):
    message = wire.encode(arr)
    raw = base64.b64decode(message["__ndarray__"])
    expected = np.load(io.BytesIO(raw), allow_pickle=False)
    got = wire.decode(message)
    assert got.dtype == expected.dtype == arr.dtype
    assert got.shape == expected.shape == arr.shape
    assert np.array_equal(got, expected, equal_nan=got.dtype.kind in "fc")
    assert got.flags.writeable and got.flags.c_contiguous  # a student's function may write to its input


@settings(max_examples=400, deadline=None)
@given(DTYPES.flatmap(lambda d: hnp.arrays(np.dtype(d), hnp.array_shapes(min_dims=0, max_dims=6, min_side=0,
                                                                          max_side=12))),
       st.booleans())
def test_arrays_are_written_byte_for_byte_as_np_save_writes_them(arr, fortran):
    """wire writes the .npy bytes itself (faster than np.save's header code): exactly np.save's, for
    every plain dtype and shape (a Fortran-ordered array is sent C-ordered, as before)."""
    arr = np.asfortranarray(arr) if fortran else arr
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr).reshape(arr.shape), allow_pickle=False)  # (a 0-d array stays 0-d)
    assert base64.b64decode(wire.encode(arr)["__ndarray__"]) == buf.getvalue()


def test_the_header_is_np_saves_where_its_padding_is_a_whole_block():
    # a header whose text ends exactly on a 64-byte boundary gets 64 bytes of padding from np.save
    # every header length: hundreds and zeros (an empty array, whatever its other sides) in turn
    shapes = [(side,) + (100,) * hundreds + (0,) * zeros for side in (1, 12345) for hundreds in range(6)
              for zeros in range(1, 20)] + [(1,), (7, 3), ()]
    pads = set()
    for shape in shapes:
        arr = np.zeros(shape, "<f8")
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        assert wire._npy_bytes(arr) == buf.getvalue(), shape
        header = buf.getvalue()[10:].split(b"\n", 1)[0]
        pads.add(len(header) - len(header.rstrip()) - (21 - len(repr(shape[0])) if shape else 0))  # less the room to grow
    assert max(pads) >= 64  # a header that needed a whole block of padding was among them


def test_np_save_header_takes_the_fast_reader():
    raw = _npy(np.arange(6.0).reshape(2, 3))
    assert wire._npy_simple(raw) is not None
    raw = _npy(np.array(2.5))
    assert wire._npy_simple(raw).shape == ()


@pytest.mark.parametrize("make", [
    lambda: _npy(np.asfortranarray(np.arange(12.0).reshape(3, 4))),   # fortran_order True
    lambda: _npy(np.arange(5), version=(2, 0)),                         # another format version
    lambda: _npy(np.arange(5), version=(3, 0)),
])
def test_other_headers_go_to_np_load(make):
    raw = make()
    assert wire._npy_simple(raw) is None
    assert np.array_equal(wire.decode(_message(raw)), np.load(io.BytesIO(raw)))


@pytest.mark.parametrize("arr", [
    np.array([{"a": 1}, None], dtype=object),
    np.zeros(3, dtype=[("x", "<f8"), ("y", "<i4")]),
    np.zeros(2, dtype="V8"),
    np.array(["ab", "c"]),
    np.array([np.datetime64("2026-11-24")]),
], ids=["object", "structured", "void", "unicode", "datetime"])
def test_disallowed_dtypes_refused(arr):
    raw = _npy(arr, allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.decode(_message(raw))


def test_pickle_disguised_as_an_array_is_refused():
    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))
    payload = pickle.dumps(Boom())
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + payload
    with pytest.raises(wire.WireError):
        wire.decode(_message(raw))


@pytest.mark.parametrize("header", [
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",              # 32 bytes, 4 sent
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",              # one byte short
])
def test_data_that_does_not_match_the_shape_is_refused(header):
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\x00" * 23
    with pytest.raises(wire.WireError):
        wire.decode(_message(raw))


def test_header_length_beyond_the_message_is_refused():
    raw = b"\x93NUMPY\x01\x00" + (60000).to_bytes(2, "little") + b"{'descr': '<f8'"
    with pytest.raises(wire.WireError):
        wire.decode(_message(raw))


def test_unknown_markers_and_types_refused():
    for bad in ({"__nope__": 1}, {"__ndarray__": "not base64!"}, {"__dict__": {"~a": {"__zzz__": 0}}}):
        with pytest.raises((wire.WireError, ValueError)):
            wire.decode(bad)
    with pytest.raises(wire.WireError):
        wire.loads('{"a": NaN}')
