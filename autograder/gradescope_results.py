"""Gradescope's results.json: its documented format (validate_results: field names, types and the
allowed values of visibility, status and the format fields) and the harness's result as one
(to_results_json, a view of a SubmissionResult; zero_result, the document for a submission there
is nothing to grade in, or a harness that failed). Used by `autograder.gradescope run` inside
Gradescope, so it needs nothing but the standard library and the assignment's spec.
"""
import json
import math
import time

from . import spec as specmod

# Gradescope's results.json (gradescope-autograders.readthedocs.io, "Autograder Specifications").
TOP_KEYS = frozenset({"score", "execution_time", "output", "output_format", "test_output_format",
                      "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"})
TEST_KEYS = frozenset({"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                       "tags", "visibility", "extra_data"})
VISIBILITIES = frozenset({"hidden", "after_due_date", "after_published", "visible"})
FORMATS = frozenset({"text", "html", "simple_format", "md", "ansi"})
STATUSES = frozenset({"passed", "failed"})
LEADERBOARD_ORDERS = frozenset({"asc", "desc"})


# ---- the results.json schema -------------------------------------------------------------
def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_results(doc):
    """Problems with `doc` as a Gradescope results.json (an empty list when it is valid): only the
    documented fields, each of its documented type, and the documented values of visibility,
    stdout_visibility, status and the format fields; a score on the top level or on every test;
    strict JSON (no NaN or Infinity)."""
    problems = []
    if not isinstance(doc, dict):
        return ["results.json is not a JSON object"]
    for key in sorted(set(doc) - TOP_KEYS):
        problems.append(f"top level: {key!r} is not a Gradescope field (put it under extra_data)")
    if "score" in doc and not _is_number(doc["score"]):
        problems.append(f"top level: score {doc['score']!r} is not a finite number")
    if "execution_time" in doc and not _is_number(doc["execution_time"]):
        problems.append(f"top level: execution_time {doc['execution_time']!r} is not a finite number")
    if "output" in doc and not isinstance(doc["output"], str):
        problems.append("top level: output is not a string")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in doc and doc[key] not in FORMATS:
            problems.append(f"top level: {key} {doc[key]!r} is not one of {sorted(FORMATS)}")
    for key in ("visibility", "stdout_visibility"):
        if key in doc and doc[key] not in VISIBILITIES:
            problems.append(f"top level: {key} {doc[key]!r} is not one of {sorted(VISIBILITIES)}")
    if "extra_data" in doc and not isinstance(doc["extra_data"], dict):
        problems.append("top level: extra_data is not an object")
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        problems.append("top level: tests is not a list")
        tests = []
    if "score" not in doc and ("tests" not in doc or not all(isinstance(t, dict) and "score" in t for t in tests)):
        problems.append("no score: give a top-level score or a score on every test")
    for i, t in enumerate(tests):
        where = f"tests[{i}]" + (f" ({t.get('name')})" if isinstance(t, dict) and t.get("name") else "")
        if not isinstance(t, dict):
            problems.append(f"{where}: not an object")
            continue
        for key in sorted(set(t) - TEST_KEYS):
            problems.append(f"{where}: {key!r} is not a Gradescope test field (put it under extra_data)")
        for key in ("score", "max_score"):
            if key in t and not _is_number(t[key]):
                problems.append(f"{where}: {key} {t[key]!r} is not a finite number")
        if "status" in t and t["status"] not in STATUSES:
            problems.append(f"{where}: status {t['status']!r} is not one of {sorted(STATUSES)}")
        for key in ("name", "number", "output"):
            if key in t and not isinstance(t[key], str):
                problems.append(f"{where}: {key} is not a string")
        for key in ("name_format", "output_format"):
            if key in t and t[key] not in FORMATS:
                problems.append(f"{where}: {key} {t[key]!r} is not one of {sorted(FORMATS)}")
        if "tags" in t and not (isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])):
            problems.append(f"{where}: tags is not a list of strings")
        if "visibility" in t and t["visibility"] not in VISIBILITIES:
            problems.append(f"{where}: visibility {t['visibility']!r} is not one of {sorted(VISIBILITIES)}")
        if "extra_data" in t and not isinstance(t["extra_data"], dict):
            problems.append(f"{where}: extra_data is not an object")
    if "leaderboard" in doc:
        board = doc["leaderboard"]
        if not isinstance(board, list):
            problems.append("top level: leaderboard is not a list")
        else:
            for i, row in enumerate(board):
                if not (isinstance(row, dict) and isinstance(row.get("name"), str) and "value" in row
                        and (_is_number(row["value"]) or isinstance(row["value"], str))
                        and row.get("order", "desc") in LEADERBOARD_ORDERS and set(row) <= {"name", "value", "order"}):
                    problems.append(f"leaderboard[{i}]: not {{name, value[, order asc|desc]}}")
    try:
        json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"not strict JSON: {exc}")
    return problems


# ---- from the harness's result to results.json ---------------------------------------------
def _plain(value):
    """Strict-JSON data: numpy scalars and arrays as Python values, NaN and infinities as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):  # numpy's float64 too
        return float(value) if math.isfinite(value) else repr(float(value))
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _plain(value.tolist())
    return str(value)


def to_results_json(result, **extra_data):
    """The harness's result (a SubmissionResult, or any dict of its JSON's shape) as Gradescope's
    results.json, a new document: a field Gradescope does not name moves under extra_data (top
    level and per test), where `extra_data` is added too; stdout hidden from students and the
    feedback shown as plain text unless the result says otherwise; strict JSON."""
    doc = _plain(result.as_json() if hasattr(result, "as_json") else result)
    extra = doc.setdefault("extra_data", {})
    for key in sorted(set(doc) - TOP_KEYS):
        extra.setdefault(key, doc.pop(key))
    for key, value in extra_data.items():
        extra.setdefault(key, _plain(value))
    doc.setdefault("stdout_visibility", "hidden")
    doc.setdefault("output_format", "text")
    for t in doc.get("tests", []):
        t_extra = t.setdefault("extra_data", {})
        for key in sorted(set(t) - TEST_KEYS):
            t_extra.setdefault(key, t.pop(key))
    if "score" not in doc:
        doc["score"] = round(sum(t.get("score", 0) for t in doc.get("tests", [])), 4)
    return doc


def zero_result(assignment, output, status, started=None, extra=None):
    """A results.json scoring 0 with `output` shown: one entry per question (so the maximum is
    right), used when there is nothing to grade or the harness failed."""
    tests = []
    try:
        for q in specmod.load_spec(assignment).questions:
            tests.append({"name": f"{assignment}.{q.name}", "score": 0.0, "max_score": q.points, "status": "failed",
                          "output": output, "visibility": "visible",
                          "extra_data": {"question": q.name, "functions": list(q.functions)}})
    except Exception:  # noqa: BLE001 - the harness itself may be what is broken
        tests = []
    doc = {"score": 0.0, "execution_time": round(time.perf_counter() - started, 3) if started else 0.0,
           "output": output, "output_format": "text", "stdout_visibility": "hidden", "tests": tests,
           "extra_data": {"assignment": assignment, "status": status, **(extra or {})}}
    return doc
