"""One grading pipeline behind every front end (notebook check, `check`, `grade`, nbgrader,
Gradescope): read the submission, run each question in a child of its own, judge every reply in
this process, score, and build the Gradescope-style result.

Trust, in this module's terms:
- a child runs student code and only ever reports plain data; every verdict is decided here;
- each question gets a fresh child (sandbox.Session), so one question's hang, crash, exit or
  patch costs that question only, and after a function's first time-out its other cases of the
  question are not called;
- an injected helper is served from this process (the reference function never enters the child):
  a helper is injected exactly where the student's own helper fails the public cases of its own
  question, which `check` and `grade` decide the same way;
- hidden cases are reported by the kind of failure only, in entries of their own, and a public
  case earns credit only when at least one hidden case of its question passes (hard-coding the
  public answers earns nothing); see docs/tolerances.md.
"""
import re
import time
from dataclasses import dataclass, field

import numpy as np

from . import i18n, references, sandbox
from . import spec as specmod
from .child import wire
from .compare import Verdict
from .config import GraderConfig
from .submission import SubmissionError, peek_assignment, read_submission, template_skip_set

NOT_ATTEMPTED_ERRORS = {"NotImplementedError"}
HIDDEN_SUFFIX = " (hidden)"


def template_path(assignment):
    return specmod.resource_path(f"assignments/{assignment}.ipynb")


# ---- judging one reply ---------------------------------------------------------------------------
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
class InProcess:
    """Runs calls directly in a namespace (a student's own kernel, reference builds). No isolation."""

    def __init__(self, namespace, assignment=None):
        self.ns = namespace
        self.assignment = assignment

    def call(self, call, timeout=None, helpers=None):
        from .child.worker import perform_call, probe_table
        remote = (lambda name, args, kwargs: helpers[name](*args, **kwargs)) if helpers else None
        return perform_call(self.ns, call, timeout=None, table=probe_table(self.assignment), remote=remote)


@dataclass
class CaseResult:
    name: str
    public: bool
    verdict: Verdict
    fn: str = ""              # the function (or probe) the case called
    probe: bool = False       # driven by the harness (a probe or stand-ins), so no stored answer can pass it

    def message(self, lang):
        if self.verdict.ok:
            return ""
        if self.public:
            return i18n.t(self.verdict.key, lang, **self.verdict.params)
        return i18n.t(f"hidden_{self.verdict.kind}", lang)


@dataclass
class QuestionResult:
    """What one question's cases came to; every view (entries, feedback, report) is built from it."""
    question: object
    cases: list = field(default_factory=list)
    static_problem: str = None
    injected: list = field(default_factory=list)       # the student's helpers replaced by the reference's
    not_injected: list = field(default_factory=list)   # failing helpers that could not be replaced (no solutions)
    seconds: float = 0.0

    @property
    def not_attempted(self):
        return bool(self.cases) and all(c.verdict.key == "not_attempted" for c in self.cases)

    def counts(self, public):
        mine = [c for c in self.cases if c.public == public]
        return sum(1 for c in mine if c.verdict.ok), len(mine)

    def credit(self):
        """(public credit, hidden credit) as fractions of the question's points. A public case that
        only returns a value earns credit only when an anchor passes: a hidden case, or a probe (a
        case the harness drives, which no stored answer can pass); so answering the shipped public
        cases from a table earns nothing, while honest partial work keeps its partial credit."""
        (pp, pn), (hp, hn) = self.counts(True), self.counts(False)
        n = pn + hn
        if not n or self.static_problem:
            return 0.0, 0.0
        if self.question.all_or_nothing:
            full = pp == pn and hp == hn
            return (pn / n if full else 0.0), (hn / n if full else 0.0)
        if self.question.stand_ins and any(c.verdict.key == "structure" for c in self.cases):
            return 0.0, 0.0  # built the wrong way (around the grader's stand-ins) in any case: no credit
        anchors = [c for c in self.cases if not c.public or c.probe]
        anchored = not anchors or any(c.verdict.ok for c in anchors)
        public = sum(1 for c in self.cases if c.public and c.verdict.ok and (c.probe or anchored))
        if self.question.stand_ins and pp < pn:
            hp = 0  # other gates (tables) check how the answer is built; the honest ones check the answer
        return public / n, hp / n

    @property
    def anchored(self):
        anchors = [c for c in self.cases if not c.public or c.probe]
        return not anchors or any(c.verdict.ok for c in anchors)


def helper_questions(spec):
    """{function name: the question that grades it}."""
    return {fn: q for q in spec.questions for fn in q.functions}


def run_question(executor, question, cases, cells=None, lang="en", helpers=None, remote=()):
    """Run and judge one question's cases; returns a QuestionResult. helpers/remote: the reference
    functions this process serves and the names the child replaces by stubs that ask for them."""
    started = time.perf_counter()
    result = QuestionResult(question)
    gave_up = set()
    for case in cases:
        fn = case["call"].get("fn") or case["call"].get("probe") or ""
        if fn in gave_up or "*" in gave_up:
            verdict = Verdict.fail("skipped_after_timeout", name=fn)
        else:
            these, log = dict(helpers or {}), []
            if case.get("stand_in") is not None and question.stand_ins:
                stand_ins, log = question.stand_ins(case["stand_in"])
                these.update(stand_ins)
            call = dict(case["call"], remote=sorted(set(remote) | set(these)))
            reply = executor.call(call, timeout=question.timeout, helpers=these)
            verdict = judge_reply(question, dict(case, log=log) if log is not None else case, reply)
            if verdict.key == "call_timeout":
                gave_up.add(fn)
            elif verdict.key == "question_timeout":
                gave_up.add("*")
        result.cases.append(CaseResult(case["name"], bool(case.get("public")), verdict, fn,
                                       bool(case["call"].get("probe") or case.get("stand_in") is not None)))
    if question.static and cells is not None and not result.not_attempted:
        result.static_problem = question.static(cells)
    result.seconds = time.perf_counter() - started
    return result


_HINTED = {"value", "type", "shape", "dtype", "structure", "changed_input", "warning"}


def feedback_lines(qr, lang, public):
    """The feedback text of one question's public (or hidden) cases."""
    lines = []
    if qr.not_attempted:
        lines.append(i18n.t("not_attempted", lang))
    if qr.static_problem:
        lines.append(i18n.t("structure", lang, message=i18n.pick(qr.static_problem, lang)))
    if public and qr.injected:
        lines.append(i18n.t("injected", lang, names=", ".join(f"`{n}`" for n in qr.injected)))
    if public and qr.not_injected:
        lines.append(i18n.t("injection_unavailable", lang, names=", ".join(f"`{n}`" for n in qr.not_injected)))
    for c in qr.cases:
        if c.public != public or (qr.not_attempted and not c.verdict.ok):
            continue
        label = c.name if public else f"{i18n.t('hidden_case', lang)}: {c.name}"
        lines.append(f"{'✓' if c.verdict.ok else '✗'} {label}" + ("" if c.verdict.ok else f": {c.message(lang)}"))
    explained = any(not c.verdict.ok and c.verdict.kind in _HINTED for c in qr.cases if c.public == public)
    hint = i18n.pick(qr.question.hint, lang)
    if hint and explained and not qr.not_attempted:
        lines.append(i18n.t("hint", lang, hint=hint))
    return lines


def question_entries(assignment, qr, lang, hidden_visibility="after_published"):
    """The Gradescope test entries of one question: its public cases, and its hidden cases in an entry
    of their own (not shown before the grades are published)."""
    q = qr.question
    public_credit, hidden_credit = qr.credit()
    (pp, pn), (hp, hn) = qr.counts(True), qr.counts(False)
    n = pn + hn
    out = []
    for public, credit, (passed, total) in ((True, public_credit, (pp, pn)), (False, hidden_credit, (hp, hn))):
        if not total and not (public and not hn):
            continue
        max_score = round(q.points * (total / n if n else 1.0), 4)
        score = round(q.points * credit, 4)
        lines = feedback_lines(qr, lang, public)
        if public and not qr.anchored and pp and not q.all_or_nothing:
            lines.append(i18n.t("public_needs_hidden", lang))
        out.append({
            "name": f"{assignment}.{q.name}" + ("" if public else HIDDEN_SUFFIX),
            "score": score,
            "max_score": max_score,
            "status": "passed" if score >= max_score - 1e-9 else "failed",
            "output": "\n".join(lines),
            "output_format": "text",
            "visibility": "visible" if public else hidden_visibility,
            "extra_data": {
                "question": q.name, "public": public, "functions": list(q.functions),
                "points": q.points, "not_attempted": qr.not_attempted, "passed_cases": passed, "total_cases": total,
                "seconds": round(qr.seconds, 4), "injected": list(qr.injected),
                "cases": [dict({"name": c.name, "public": c.public, "passed": c.verdict.ok, "message": c.message(lang)},
                               **({"kind": c.verdict.kind} if not c.verdict.ok else {}),
                               **({"extra": c.verdict.extra} if c.verdict.extra and c.public else {}))
                          for c in qr.cases if c.public == public],
                **({"structure": i18n.pick(qr.static_problem, lang)} if qr.static_problem else {}),
            },
        })
    return out


def by_question(result):
    """A question's public and hidden entries merged into one entry of the same shape (views that
    show a question as a whole: the terminal table, the report, tests)."""
    out = {}
    for t in result.get("tests", []):
        extra = t.get("extra_data", {})
        name = extra.get("question") or t["name"].split(".", 1)[-1].removesuffix(HIDDEN_SUFFIX)
        merged = out.setdefault(name, {"name": t["name"].removesuffix(HIDDEN_SUFFIX), "score": 0.0, "max_score": 0.0,
                                       "output": "", "extra_data": {**extra, "cases": [], "passed_cases": 0,
                                                                    "total_cases": 0}})
        merged["score"] = round(merged["score"] + t["score"], 4)
        merged["max_score"] = round(merged["max_score"] + t["max_score"], 4)
        merged["output"] = "\n".join(p for p in (merged["output"], t.get("output", "")) if p)
        m = merged["extra_data"]
        m["cases"] = m["cases"] + list(extra.get("cases", []))
        m["passed_cases"] += extra.get("passed_cases", 0)
        m["total_cases"] += extra.get("total_cases", 0)
        merged["status"] = "passed" if merged["score"] >= merged["max_score"] - 1e-9 else "failed"
    return out


def question_scores(result):
    """{question: (score, max_score)} summed over a question's public and hidden entries."""
    out = {}
    for t in result.get("tests", []):
        name = t.get("extra_data", {}).get("question") or t["name"].split(".", 1)[-1].removesuffix(HIDDEN_SUFFIX)
        score, max_score = out.get(name, (0.0, 0.0))
        out[name] = (round(score + t["score"], 4), round(max_score + t["max_score"], 4))
    return out


# ---- one submission ----------------------------------------------------------------------------------
class SandboxStartError(RuntimeError):
    """The student process never started: a harness failure, not a score of 0."""


def _config(config, sandbox_mode, lang, timeout):
    config = config or GraderConfig.from_env()
    if sandbox_mode is False:
        config = GraderConfig(**{**config.__dict__, "isolation": "process"})
    return config, (lang or config.lang)


def sandbox_setup(spec, config, timeout=None, warm=False):
    """The SandboxSetup of an assignment's sandboxes under this configuration, and a note (or None)."""
    limits = config.with_limits(**spec.limits).limits
    if timeout:
        limits = GraderConfig(limits=limits).with_limits(question_seconds=float(timeout)).limits
    env, env_note = specmod.sandbox_env(spec, config.keras_backend)
    sandboxed = sandbox.uses_bwrap(config)
    setup = sandbox.SandboxSetup(
        assignment=spec.name, data_files=tuple(sorted((n, specmod.resource_path(r)) for n, r in spec.data_files.items())),
        preload=tuple(spec.preload), env=tuple(sorted(env.items())), sandboxed=sandboxed,
        student_uid=config.student_uid, limits=limits)
    if warm and spec.warmup and sandboxed and config.warm_pool:
        cache = sandbox.compile_cache(setup, [specmod.encode_call(c) for c in spec.warmup])
        if cache is not None:
            setup = sandbox.SandboxSetup(**{**setup.__dict__, "xla_cache": cache.path})
    return setup, env, env_note


def _cell_note(cells, index, err, lang):
    source = next((c["source"] for c in cells if c["index"] == index), "")
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")[:50]
    text = f"{err.get('traceback', '')}\n{err.get('message', '')}"
    lines = re.findall(rf'File "<cell {index}>", line (\d+)', text) or re.findall(r"^line (\d+):", str(err.get("message", "")))
    line = lines[-1] if lines else "?"
    return i18n.t("cell_error_at", lang, cell=first, line=line, type=str(err.get("type"))[:60],
                  message=str(err.get("message"))[:200])


class _Grader:
    """The questions of one submission, in order, each in its own child; helpers decided once."""

    def __init__(self, spec, session, refs, cells, lang, include_hidden):
        self.spec, self.session, self.refs, self.cells, self.lang = spec, session, refs, cells, lang
        self.include_hidden = include_hidden
        self.owner = helper_questions(spec)
        self.own_ok = {}                      # function -> passed every public case of its own question
        self.reference = references.solution_functions(spec.name)   # {} where solutions/ is not here

    def _cases(self, q, public_only=False):
        return [c for c in self.refs.get(q.name, []) if c.get("public") or not public_only]

    def _record_own(self, qr):
        """Whether each of the question's functions passed its public cases (all of the question's
        public cases where none calls it by name, e.g. a probe)."""
        public = [c for c in qr.cases if c.public]
        for fn in qr.question.functions:
            mine = [c for c in public if c.fn == fn] or public
            self.own_ok[fn] = bool(mine) and all(c.verdict.ok for c in mine)

    def _helper_ok(self, fn):
        if fn not in self.own_ok:
            q = self.owner.get(fn)
            if q is None:
                return True
            with self.session.question(q.name) as run:
                self._record_own(run_question(run, q, self._cases(q, public_only=True), lang=self.lang))
        return self.own_ok.get(fn, True)

    def grade(self, q):
        failing = [h for h in q.inject if not self._helper_ok(h)]
        remote = [h for h in failing if h in self.reference]
        helpers = {h: self.reference[h] for h in remote}
        cases = self._cases(q)
        with self.session.question(q.name) as run:
            qr = run_question(run, q, cases, cells=self.cells, lang=self.lang, helpers=helpers, remote=remote)
        qr.injected = remote
        qr.not_injected = [h for h in failing if h not in self.reference]
        if not q.inject or not remote:
            self._record_own(qr)
        return qr


def grade_file(path, assignment=None, include_hidden=True, lang=None, timeout=None, questions=None,
               sandbox_mode=None, student=None, warm=False, config=None, hidden_visibility="after_published"):
    """Grade one submission file (or directory); always returns a result dict, never raises for bad
    input. warm: one of many submissions of a run, which shares a compilation cache (spec.warmup)."""
    started = time.perf_counter()
    config, lang = _config(config, sandbox_mode, lang, timeout)
    early = _early_session(path, assignment, config, timeout, warm)
    try:
        sub = read_submission(path, skip_for=lambda a: template_skip_set(template_path(a)), assignment=assignment)
        if not sub.assignment:
            raise SubmissionError("unknown_assignment")
        spec = specmod.load_spec(sub.assignment)
        refs, prov = references.load(sub.assignment, include_hidden)
    except SubmissionError as exc:
        if early:
            early[1].close()
        return failed_result(assignment, student or _sid(path), i18n.t(exc.key, lang, **exc.params),
                             started, questions, status=exc.status, config=config)
    except BaseException:
        if early:
            early[1].close()
        raise
    assignment = sub.assignment
    notes = [i18n.t(key, lang, **params) for key, params in sub.notes]
    selected = [q for q in spec.questions if not questions or q.name in questions]
    if early and early[0] == assignment:
        _, session, env, env_note = early
        session.cells = list(sub.cells)
    else:
        if early:
            early[1].close()
        setup, env, env_note = sandbox_setup(spec, config, timeout, warm)
        session = sandbox.Session(sub.cells, setup, pool=sandbox.POOL if config.warm_pool else None)
    if env_note:
        notes.append(env_note)
    tests = []
    try:
        grader = _Grader(spec, session, refs, sub.cells, lang, include_hidden)
        for q in selected:
            tests += question_entries(assignment, grader.grade(q), lang, hidden_visibility)
        if not session.spoke:
            raise SandboxStartError(f"the sandbox could not start Python ({'; '.join(session.faults[-2:]) or 'no answer'}): "
                                    f"{session.output()[-500:]}")
        notes += [_cell_note(sub.cells, i, err, lang) for i, err in sorted(session.cell_errors.items())]
    finally:
        session.close()
    result = build_result(assignment, sub.student if student is None else student, tests, notes, session.output(),
                          started, prov, _sandbox_note(session.sandboxed, session.dropped, lang), sub, lang)
    if env.get("KERAS_BACKEND"):
        result["extra_data"]["keras_backend"] = env["KERAS_BACKEND"]
    return result


def _early_session(path, assignment, config, timeout, warm):
    """(assignment, session, env, note) with the sandbox already starting (python, the notebooks'
    libraries) for the assignment the file names, or None: reading the notebook (nbformat,
    validation) and starting the sandbox then overlap."""
    name = assignment or peek_assignment(path)
    if name not in specmod.ASSIGNMENTS:
        return None
    try:
        setup, env, note = sandbox_setup(specmod.load_spec(name), config, timeout, warm)
        session = sandbox.Session([], setup, pool=sandbox.POOL if config.warm_pool else None)
    except Exception:  # noqa: BLE001 - the ordinary path will report it
        return None
    session.prepare()
    return name, session, env, note


def _sandbox_note(sandboxed, dropped, lang):
    """The isolation that applied, in the run's language (English in full: the exact walls)."""
    note = sandbox.isolation_note(sandboxed, dropped)
    if lang != "ko":
        return note
    if sandboxed:
        return i18n.t("sandbox_on", "ko")
    return i18n.t("sandbox_off", "ko", reason=note.split("(", 1)[-1].split(")", 1)[0])


def _sid(path):
    from .submission import student_id
    return student_id(path)


def build_result(assignment, student, tests, notes, printed, started, prov, sandbox_note, sub=None, lang="en"):
    score = round(sum(t["score"] for t in tests), 4)
    max_score = round(sum(t["max_score"] for t in tests), 4)
    text = list(notes)
    if printed.strip():
        shown = printed[:4000]
        if len(printed) > len(shown):  # say that more was printed than the feedback shows
            shown += f"\n[... {len(printed) - len(shown)} more characters of printed output not shown]"
        text.append(i18n.t("printed_header", lang) + "\n" + shown)
    return {
        "score": score,
        "max_score": max_score,
        "execution_time": round(time.perf_counter() - started, 3),
        "output": "\n".join(text),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "student": student,
            "assignment": assignment,
            "status": "graded",
            "sandbox": sandbox_note,
            "reference": prov,
            "skipped_template_cells": sub.skipped if sub else [],
            "cells_run": len(sub.cells) if sub else 0,
            "lang": lang,
        },
    }


def failed_result(assignment, student, message, started, questions=None, status="unreadable", config=None):
    """A submission that could not be read or was refused: every question 0, with the reason."""
    tests = []
    if assignment in specmod.ASSIGNMENTS:
        for q in specmod.load_spec(assignment).questions:
            if questions and q.name not in questions:
                continue
            tests.append({"name": f"{assignment}.{q.name}", "score": 0.0, "max_score": q.points, "status": "failed",
                          "output": message, "output_format": "text", "visibility": "visible",
                          "extra_data": {"question": q.name, "public": True, "functions": list(q.functions),
                                         "points": q.points, "not_attempted": False, "passed_cases": 0,
                                         "total_cases": 0, "cases": []}})
    result = build_result(assignment, student, tests, [message], "", started, None,
                          sandbox.isolation_note(sandbox.uses_bwrap(config or GraderConfig.from_env())))
    result["extra_data"]["status"] = status
    return result
