"""data/dataset2.csv is exactly what data/make_dataset2.py writes, and has the promised shape."""
import csv
import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CSV_PATH = ROOT / "data" / "dataset2.csv"
SCRIPT_PATH = ROOT / "data" / "make_dataset2.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_dataset2", SCRIPT_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows():
    with open(CSV_PATH, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_csv_is_the_script_output_byte_for_byte(script):
    expected = script.to_csv_text(*script.make()).encode("utf-8")
    actual = CSV_PATH.read_bytes()
    assert actual == expected


def test_make_is_deterministic(script):
    x1, y1 = script.make()
    x2, y2 = script.make()
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


def test_header_and_row_count(rows):
    assert rows[0] == ["x", "y"]
    assert len(rows) - 1 == 1000
    assert all(len(r) == 2 for r in rows)


def test_value_ranges(rows):
    values = np.array([[float(a), float(b)] for a, b in rows[1:]])
    x, y = values[:, 0], values[:, 1]
    assert np.all((x >= 0.0) & (x <= 1.0))
    assert np.all((y > -1.0) & (y < 1.0))
    # spread over the interval, not a constant
    assert x.min() < 0.05 and x.max() > 0.95
    assert y.std() > 0.1


def test_file_ends_with_newline_and_unix_line_endings():
    data = CSV_PATH.read_bytes()
    assert data.endswith(b"\n")
    assert b"\r" not in data
    assert len(io.StringIO(data.decode("utf-8")).readlines()) == 1001
