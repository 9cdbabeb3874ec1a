"""One grading pipeline behind every front end (notebook check, `check`, `grade`, nbgrader):
read the submission, run each question's cases through an executor, compare in this process,
score, and build the Gradescope-style result.
"""
import time

import numpy as np

from . import i18n, references, sandbox, wire
from . import spec as specmod
from .compare import Verdict
from .submission import SubmissionError, peek_assignment, read_submission, template_skip_set

NOT_ATTEMPTED_ERRORS = {"NotImplementedError"}


def template_path(assignment):
    return specmod.resource_path(f"assignments/{assignment}.ipynb")


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


def _contains_unsupported(value):
    if isinstance(value, wire.Unsupported):
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            found = _contains_unsupported(v)
            if found is not None:
                return found
    if isinstance(value, dict):
        for v in value.values():
            found = _contains_unsupported(v)
            if found is not None:
                return found
    return None


def judge_reply(question, case, reply):
    """Verdict for one case from the child's reply (all comparison happens here, in the grader)."""
    if not reply.get("ok"):
        err = reply.get("error") or {}
        etype = str(err.get("type", "Error"))
        if etype in NOT_ATTEMPTED_ERRORS:
            return Verdict.fail("not_attempted")
        if etype == "MissingFunction":
            return Verdict.fail("missing_function", name=err.get("message", ""))
        if etype == "Timeout":
            return Verdict.fail("timeout", message=err.get("message", ""))
        if etype in ("Crash", "limit"):
            return Verdict.fail("crash" if etype == "Crash" else "limit", message=err.get("message", ""))
        if etype == "MemoryError":
            return Verdict.fail("limit", message="out of memory")
        return Verdict.fail("raised", type=etype, message=str(err.get("message", ""))[:300])
    try:
        actual = wire.decode(reply.get("value"))
    except (wire.WireError, ValueError, TypeError) as exc:
        return Verdict.fail("type", where="output", actual=f"unreadable data ({exc})", expected="plain data")
    bad = _contains_unsupported(actual)
    if bad is not None:
        return Verdict.fail("type", where="output", actual=bad.what, expected="NumPy arrays / numbers")
    if question.check_args and "fn" in case["call"]:
        after = reply.get("args_after") or []
        for i, spec in enumerate(case["call"].get("args", [])):
            if "value" not in spec or i >= len(after) or after[i] is None:
                continue
            try:
                if not _identical(wire.decode(spec["value"]), wire.decode(after[i])):
                    return Verdict.fail("mutated", arg=f"#{i + 1}")
            except (wire.WireError, ValueError, TypeError):
                return Verdict.fail("mutated", arg=f"#{i + 1}")
        for k, v in (reply.get("kwargs_after") or {}).items():
            spec = case["call"].get("kwargs", {}).get(k)
            if spec and "value" in spec:
                try:
                    if not _identical(wire.decode(spec["value"]), wire.decode(v)):
                        return Verdict.fail("mutated", arg=k)
                except (wire.WireError, ValueError, TypeError):
                    return Verdict.fail("mutated", arg=k)
    if question.no_warnings and reply.get("warnings"):
        return Verdict.fail("warned", warning=str(reply["warnings"][0])[:200])
    try:
        return question.compare(actual, case["expected"], case)
    except Exception as exc:  # noqa: BLE001 - a shape the comparison did not foresee is a wrong answer
        return Verdict.fail("type", where="output", actual=f"{type(actual).__name__} ({type(exc).__name__})",
                            expected="the documented return type")


class SandboxStartError(RuntimeError):
    """The student process never started: a harness failure, not a score of 0."""


class InProcess:
    """Runs calls directly in a namespace (a student's own kernel, or tests). No isolation."""

    def __init__(self, namespace, helpers=None):
        self.ns = namespace
        self.helpers = helpers

    def call(self, call, timeout=None):
        from .worker import perform_call
        return perform_call(self.ns, call, timeout=None, helpers=self.helpers)


def run_question(executor, question, cases, cells=None, lang="en"):
    """Run and judge one question; returns its test entry (Gradescope schema)."""
    started = time.perf_counter()
    records = []
    for case in cases:
        call = dict(case["call"])
        call["inject"] = list(question.inject)
        reply = executor.call(call, timeout=question.timeout)
        verdict = judge_reply(question, case, reply)
        records.append((case, verdict, reply))
    n = len(records)
    passed = sum(1 for _, v, _ in records if v.ok)
    not_attempted = n > 0 and all(v.key == "not_attempted" for _, v, _ in records)
    static_problem = None
    if question.static and cells is not None and not not_attempted:
        static_problem = question.static(cells)
    if static_problem:
        fraction = 0.0
    elif question.all_or_nothing:
        fraction = 1.0 if passed == n and n else 0.0
    else:
        fraction = passed / n if n else 0.0
    score = round(question.points * fraction, 4)
    lines = []
    if not_attempted:
        lines.append(i18n.t("not_attempted", lang))
    if static_problem:
        lines.append(i18n.t("structure", lang, message=static_problem))
    for case, verdict, reply in records:
        label = case["name"] if case.get("public") else f"{i18n.t('hidden_case', lang)}: {case['name']}"
        mark = "✓" if verdict.ok else "✗"
        text = "" if verdict.ok else ": " + i18n.t(verdict.key, lang, **verdict.params)
        if not not_attempted or verdict.ok:
            lines.append(f"{mark} {label}{text}")
    hint = i18n.pick(question.hint, lang)
    if score < question.points and hint and not not_attempted:
        lines.append(i18n.t("hint", lang, hint=hint))
    status = "passed" if score >= question.points - 1e-9 else "failed"
    return {
        "name": None,  # filled by the caller: "<assignment>.<question>"
        "score": score,
        "max_score": question.points,
        "status": status,
        "output": "\n".join(lines),
        "visibility": "visible",
        "extra_data": {
            "functions": list(question.functions),
            "not_attempted": not_attempted,
            "passed_cases": passed,
            "total_cases": n,
            "seconds": round(time.perf_counter() - started, 4),
            "cases": [dict({"name": c["name"], "public": bool(c.get("public")), "passed": v.ok,
                            "message": "" if v.ok else i18n.t(v.key, "en", **v.params)},
                           **({"extra": v.extra} if v.extra else {})) for c, v, _ in records],
            **({"structure": static_problem} if static_problem else {}),
        },
    }


def _limits_for(spec, timeout=None):
    limits = sandbox.Limits(**spec.limits)
    if timeout:
        limits.wall_seconds = float(timeout)
    return limits


def _new_session(spec, cells, sandbox_mode, timeout, warm):
    """(session, env, env_note): the spec's sandbox for these cells, not started yet."""
    data_files = {name: specmod.resource_path(rel) for name, rel in spec.data_files.items()}
    env, env_note = specmod.sandbox_env(spec)
    xla_cache = None
    if warm and spec.warmup and sandbox_mode in ("auto", True):
        cache = sandbox.compile_cache(data_files, _limits_for(spec), env, [specmod.encode_call(c) for c in spec.warmup])
        xla_cache = cache.path if cache is not None else None
    session = sandbox.Session(cells, data_files=data_files, preload=spec.preload, limits=_limits_for(spec, timeout),
                              sandbox=sandbox_mode, env=env, xla_cache=xla_cache)
    return session, env, env_note


def _early_session(path, assignment, sandbox_mode, timeout, warm):
    """(assignment, _new_session's triple) with the sandbox already starting (python, the
    notebooks' libraries) for the assignment the file names, or None. Reading the notebook
    (nbformat, validation) and starting the sandbox then overlap: about 0.4 s of `check`."""
    name = assignment or peek_assignment(path)
    if name not in specmod.ASSIGNMENTS:
        return None
    try:
        opened = _new_session(specmod.load_spec(name), [], sandbox_mode, timeout, warm)
    except Exception:  # noqa: BLE001 - the ordinary path will report it
        return None
    opened[0].spawn_early()
    return name, opened


def grade_file(path, assignment=None, include_hidden=True, lang="en", timeout=None, questions=None,
               sandbox_mode="auto", student=None, warm=False):
    """Grade one submission file (or directory); always returns a result dict, never raises for bad input.
    warm: one of many submissions of a run, which shares a compilation cache (spec.warmup)."""
    started = time.perf_counter()
    notes = []
    sub = None
    early = _early_session(path, assignment, sandbox_mode, timeout, warm)  # starts while we read
    early_session = early[1][0] if early else None
    try:
        sub = read_submission(path, skip_for=lambda a: template_skip_set(template_path(a)), assignment=assignment)
        assignment = sub.assignment
        if not assignment:
            raise SubmissionError("unknown_assignment")
    except SubmissionError as exc:
        if early_session:
            early_session.close()
        return failed_result(assignment, student or _sid(path), i18n.t(exc.key, lang, **exc.params),
                             started, questions, status=exc.status)
    try:
        spec = specmod.load_spec(assignment)
        refs, prov = references.load(assignment, include_hidden)
    except BaseException:
        if early_session:
            early_session.close()
        raise
    for key, params in sub.notes:
        notes.append(i18n.t(key, lang, **params))
    selected = [q for q in spec.questions if not questions or q.name in questions]
    if early and early[0] == assignment:
        session, env, env_note = early[1]
        session.cells = list(sub.cells)
    else:
        if early_session:
            early_session.close()
        session, env, env_note = _new_session(spec, sub.cells, sandbox_mode, timeout, warm)
    if env_note:
        notes.append(env_note)
    tests = []
    try:
        helpers = references.solution_source(assignment) if include_hidden else None
        if helpers and any(q.inject for q in selected):
            session.send_helpers(helpers)
        if not session.start() and not session.spoke:
            # nothing of the student's ran: the sandbox itself is broken on this machine
            raise SandboxStartError(f"the sandbox could not start Python ({session.faults[-1].message if session.faults else 'no answer'}): "
                                    f"{session.output()[-500:]}")
        for index, err in sorted(session.cell_errors.items()):
            notes.append(i18n.t("cell_error", lang, index=index, type=err.get("type"), message=str(err.get("message"))[:200]))
        for q in selected:
            entry = run_question(session, q, refs.get(q.name, []), cells=sub.cells, lang=lang)
            entry["name"] = f"{assignment}.{q.name}"
            tests.append(entry)
    finally:
        session.close()
    result = build_result(assignment, sub.student if student is None else student, tests, notes, session.output(),
                          started, prov, sandbox.isolation_note(session.sandboxed), sub)
    if env.get("KERAS_BACKEND"):
        result["extra_data"]["keras_backend"] = env["KERAS_BACKEND"]
    return result


def _sid(path):
    from .submission import student_id
    return student_id(path)


def build_result(assignment, student, tests, notes, printed, started, prov, sandbox_note, sub=None):
    score = round(sum(t["score"] for t in tests), 4)
    max_score = sum(t["max_score"] for t in tests)
    text = list(notes)
    if printed.strip():
        shown = printed[:4000]
        if len(printed) > len(shown):  # say that more was printed than the feedback shows
            shown += f"\n[... {len(printed) - len(shown)} more characters of printed output not shown]"
        text.append("--- printed by the submission (first part) ---\n" + shown)
    return {
        "score": score,
        "max_score": max_score,
        "execution_time": round(time.perf_counter() - started, 3),
        "output": "\n".join(text),
        "tests": tests,
        "extra_data": {
            "student": student,
            "assignment": assignment,
            "status": "graded",
            "sandbox": sandbox_note,
            "reference": prov,
            "skipped_template_cells": sub.skipped if sub else [],
            "cells_run": len(sub.cells) if sub else 0,
        },
    }


def failed_result(assignment, student, message, started, questions=None, status="unreadable"):
    """A submission that could not be read: every question 0, with the reason."""
    tests = []
    if assignment:
        try:
            spec = specmod.load_spec(assignment)
            for q in spec.questions:
                if questions and q.name not in questions:
                    continue
                tests.append({"name": f"{assignment}.{q.name}", "score": 0.0, "max_score": q.points, "status": "failed",
                              "output": message, "visibility": "visible",
                              "extra_data": {"functions": list(q.functions), "not_attempted": False,
                                             "passed_cases": 0, "total_cases": 0, "cases": []}})
        except KeyError:
            pass
    result = build_result(assignment, student, tests, [message], "", started, None, sandbox.isolation_note())
    result["extra_data"]["status"] = status
    return result
