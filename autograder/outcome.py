"""What a question's cases came to, and its views: run a question's cases through an executor (a
sandboxed QuestionRun, or InProcess), keep each case's verdict in a CaseResult, score them once
(QuestionResult.credit), and show them as Gradescope test entries and feedback text; and a
submission's result (SubmissionResult: built once by grading.build_result, frozen; every output
is a view of it)."""
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import i18n
from .compare import Verdict
from .judge import judge_reply

HIDDEN_SUFFIX = " (hidden)"


class InProcess:
    """Runs calls directly in a namespace (a student's own kernel, reference builds). No isolation."""

    def __init__(self, namespace, assignment=None):
        self.ns = namespace
        self.assignment = assignment

    def call(self, call, timeout=None, helpers=None):
        from .child.worker import perform_call, probe_table
        remote = (lambda name, args, kwargs: helpers[name](*args, **kwargs)) if helpers else None
        return perform_call(self.ns, call, timeout=None, table=probe_table(self.assignment), remote=remote)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class QuestionResult:
    """What one question's cases came to, built once (run_question) and not changed afterwards; every
    view (entries, feedback, report) is built from it."""
    question: object
    cases: tuple = ()
    static_problem: str = None
    injected: tuple = ()       # the student's helpers replaced by the reference's
    not_injected: tuple = ()   # failing helpers that could not be replaced (no solutions)
    seconds: float = 0.0

    def __post_init__(self):
        for name in ("cases", "injected", "not_injected"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def not_attempted(self):
        return _none_attempted(self.cases)

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
        anchored = self.anchored
        public = sum(1 for c in self.cases if c.public and c.verdict.ok and (c.probe or anchored))
        if self.question.stand_ins and pp < pn:
            hp = 0  # other gates (tables) check how the answer is built; the honest ones check the answer
        return public / n, hp / n

    @property
    def anchored(self):
        """Whether an anchor of the question passed (or it has none): see credit()."""
        anchors = [c for c in self.cases if not c.public or c.probe]
        return not anchors or any(c.verdict.ok for c in anchors)


def _none_attempted(cases):
    """Whether every case found the function not attempted (a stub): the question's "not attempted"."""
    return bool(cases) and all(c.verdict.key == "not_attempted" for c in cases)


def helper_questions(spec):
    """{function name: the question that grades it}."""
    return {fn: q for q in spec.questions for fn in q.functions}


def run_question(executor, question, cases, cells=None, lang="en", helpers=None, remote=(), not_injected=()):
    """Run and judge one question's cases; returns a QuestionResult. helpers/remote: the reference
    functions this process serves and the names the child replaces by stubs that ask for them (the
    result records them as injected); not_injected: failing helpers that could not be replaced."""
    started = time.perf_counter()
    results = []
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
        results.append(CaseResult(case["name"], bool(case.get("public")), verdict, fn,
                                  bool(case["call"].get("probe") or case.get("stand_in") is not None)))
    static_problem = None
    if question.static and cells is not None and not _none_attempted(results):
        static_problem = question.static(cells)
    return QuestionResult(question, results, static_problem, injected=tuple(remote), not_injected=tuple(not_injected),
                          seconds=time.perf_counter() - started)


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


def question_of(test):
    """The question a `tests` entry belongs to: extra_data.question, else its name (less the
    assignment and a " (hidden)" suffix: public and hidden cases come in entries of their own)."""
    extra = test.get("extra_data") or {}
    name = extra.get("question") or str(test.get("name", "")).removesuffix(HIDDEN_SUFFIX)
    return name.split(".", 1)[-1]


def _tests(result):
    """A result's test entries: a SubmissionResult's, or a stored JSON's (or any dict of that shape)."""
    if isinstance(result, SubmissionResult):
        return result.tests
    return result.get("tests") or []


def by_question(result):
    """A question's public and hidden entries merged into one entry of the same shape (views that
    show a question as a whole: the terminal table, the report, tests)."""
    out = {}
    for t in _tests(result):
        extra = t.get("extra_data", {})
        name = question_of(t)
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
    for t in _tests(result):
        name = question_of(t)
        score, max_score = out.get(name, (0.0, 0.0))
        out[name] = (round(score + float(t.get("score") or 0), 4), round(max_score + float(t.get("max_score") or 0), 4))
    return out


# ---- one submission ----------------------------------------------------------------------------------
# A submission's result is built once (grading.build_result) and never changed: a frozen dataclass
# whose containers refuse writes. Every output is a view of it: as_json() is the stored
# <student>.json (Gradescope's results.json shape), from_json() reads one back; results (feedback,
# CSV), report, nbgrader_bridge, gradescope, cli and batch read its fields. A changed result is a
# new object (dataclasses.replace), never an edit.
def _read_only(self, *args, **kwargs):
    raise TypeError("a result is read-only: make a new one (dataclasses.replace), or thaw() a copy to edit")


class FrozenDict(dict):
    """A dict that refuses every change (json.dumps and == treat it as the dict it is); a copy of it
    (copy, deepcopy, pickle) is plain, mutable data."""
    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo):
        return thaw(self)

    def __reduce__(self):
        return dict, (thaw(self),)


class FrozenList(list):
    """A list that refuses every change (compares equal to the list it holds); copies are plain lists."""
    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = pop = remove = clear = sort = \
        reverse = _read_only

    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        return thaw(self)

    def __reduce__(self):
        return list, (thaw(self),)


def freeze(value):
    """JSON-shaped data (dicts, lists, tuples, scalars) as FrozenDict / FrozenList all the way down."""
    if isinstance(value, Mapping):
        return FrozenDict((k, freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return FrozenList(freeze(v) for v in value)
    return value


def thaw(value):
    """Plain dicts and lists (a mutable copy) of frozen or JSON-shaped data."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


# extra_data's fields, in the order as_json writes them; the optional ones only when set
_EXTRA_FIELDS = ("student", "assignment", "status", "sandbox", "reference", "skipped_template_cells", "cells_run",
                 "lang")
_OPTIONAL_EXTRA = ("keras_backend", "fingerprint", "figure_error", "figure", "written")


def _number(doc, key, default=0.0):
    """A number of a stored result, as stored (absent or null: default); anything else is not a result."""
    value = doc.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"a result's {key} is not a number: {value!r}")
    return value


@dataclass(frozen=True)
class SubmissionResult(Mapping):
    """One submission's result. Built by grading.build_result only (grading.failed_result for a
    submission that was not graded); read back from its JSON by from_json. Also a read-only mapping
    of its JSON view (result["score"], result["extra_data"]["status"]) for code that reads stored
    results and results alike: every container there refuses writes too."""
    student: str | None
    assignment: str | None
    status: str = "graded"                   # or unreadable, refused, wrong_assignment, ...
    score: float = 0.0
    max_score: float = 0.0
    execution_time: float = 0.0
    output: str = ""                         # notes, cell errors and printed output: the text under the entries
    tests: list = field(default_factory=FrozenList)   # Gradescope test entries (question_entries), read-only
    sandbox: str | None = None               # how student code ran (sandbox.isolation_note)
    reference: dict | None = None            # the references' provenance
    skipped_template_cells: list = field(default_factory=FrozenList)
    cells_run: int = 0
    lang: str = "en"
    keras_backend: str | None = None         # the Keras backend the sandbox used, where it set one
    fingerprint: dict | None = None          # what the result was computed from (results.fingerprint), in a run
    figure: str | None = None                # the fit picture's file name beside the result (results.write_result)
    figure_error: str | None = None          # why that picture could not be drawn
    written: list | None = None              # [{"name", "points"}]: the written answers, graded by hand, not here
    more: dict = field(default_factory=FrozenDict)    # extra_data this version does not name (a result read back)

    OUTPUT_FORMAT = "text"
    STDOUT_VISIBILITY = "hidden"
    __hash__ = None

    def __post_init__(self):
        for name in ("tests", "reference", "skipped_template_cells", "fingerprint", "more", "written"):
            object.__setattr__(self, name, freeze(getattr(self, name)))

    # ---- the JSON view -------------------------------------------------------------------------
    def as_json(self):
        """The result as plain JSON data: the stored <student>.json, in Gradescope's results.json shape."""
        extra = {name: thaw(getattr(self, name)) for name in _EXTRA_FIELDS}
        extra.update((name, thaw(getattr(self, name))) for name in _OPTIONAL_EXTRA if getattr(self, name) is not None)
        extra.update(thaw(self.more))
        return {"score": self.score, "max_score": self.max_score, "execution_time": self.execution_time,
                "output": self.output, "output_format": self.OUTPUT_FORMAT,
                "stdout_visibility": self.STDOUT_VISIBILITY, "tests": thaw(self.tests), "extra_data": extra}

    @classmethod
    def from_json(cls, doc):
        """The result a JSON document (as_json's, or a stored file's) holds; a SubmissionResult as it
        is. Raises ValueError for something that is not a result."""
        if isinstance(doc, cls):
            return doc
        if not isinstance(doc, Mapping):
            raise ValueError(f"a result is a JSON object, not {type(doc).__name__}")
        extra, tests = doc.get("extra_data", {}), doc.get("tests", [])
        extra, tests = {} if extra is None else extra, [] if tests is None else tests
        if not isinstance(extra, Mapping) or not isinstance(tests, (list, tuple)) or \
                not all(isinstance(t, Mapping) for t in tests):
            raise ValueError("a result's extra_data is an object and its tests a list of objects")
        known = _EXTRA_FIELDS + _OPTIONAL_EXTRA
        fields = {k: extra[k] for k in known if k in extra and extra[k] is not None}
        fields.setdefault("student", None)
        fields.setdefault("assignment", None)
        return cls(score=_number(doc, "score"), max_score=_number(doc, "max_score"),
                   execution_time=_number(doc, "execution_time"), output=str(doc.get("output") or ""), tests=tests,
                   more={k: v for k, v in extra.items() if k not in known}, **fields)

    @functools.cached_property
    def _view(self):
        return freeze(self.as_json())

    def __getitem__(self, key):
        return self._view[key]

    def __iter__(self):
        return iter(self._view)

    def __len__(self):
        return len(self._view)

    def __reduce__(self):  # pickled (dask, multiprocessing) as its JSON: plain data
        return _from_json, (self.as_json(),)


def _from_json(doc):
    return SubmissionResult.from_json(doc)
