"""One grading pipeline behind every front end (notebook check, `check`, `grade`, nbgrader,
Gradescope): read the submission, run each question in a child of its own, judge every reply in
this process, score, and build the submission's result (outcome.SubmissionResult, in one place:
build_result).

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
from dataclasses import replace

from . import i18n, references, sandbox
from . import spec as specmod
from .config import GraderConfig
from .compare import Verdict
from .judge import NOT_ATTEMPTED_ERRORS, judge_reply
from .outcome import (HIDDEN_SUFFIX, CaseResult, InProcess, QuestionResult, SubmissionResult, by_question,
                      feedback_lines, helper_questions, question_entries, question_scores, run_question)
from .submission import SubmissionError, peek_assignment, read_submission, template_skip_set, written_answers


# The pipeline's API in one place (judging: judge.py; a question's outcome and its views: outcome.py).
__all__ = ["grade_file", "build_result", "failed_result", "sandbox_setup", "template_path", "SandboxStartError",
           "judge_reply", "NOT_ATTEMPTED_ERRORS", "Verdict", "CaseResult", "QuestionResult", "InProcess",
           "run_question", "question_entries", "feedback_lines", "by_question", "question_scores",
           "helper_questions", "HIDDEN_SUFFIX", "SubmissionResult"]


def template_path(assignment):
    return specmod.resource_path(f"assignments/{assignment}.ipynb")


# ---- judging one reply ---------------------------------------------------------------------------
class SandboxStartError(RuntimeError):
    """The student process never started: a harness failure, not a score of 0."""


def _config(config, sandbox_mode, lang):
    config = config or GraderConfig.from_env()
    if sandbox_mode is False:
        config = replace(config, isolation="process")
    return config, (lang or config.lang)


def sandbox_setup(spec, config, timeout=None, warm=False, also_preload=()):
    """The SandboxSetup of an assignment's sandboxes under this configuration, and a note (or None).
    also_preload: modules of spec.preload_if_imported that the submission imports, preloaded too
    (a warm sandbox of that kind)."""
    limits = config.with_limits(**spec.limits).limits
    if timeout:
        limits = replace(limits, question_seconds=float(timeout))
    env, env_note = specmod.sandbox_env(spec, config.keras_backend)
    sandboxed = sandbox.uses_bwrap(config)
    setup = sandbox.SandboxSetup(
        assignment=spec.name, data_files=tuple(sorted((n, specmod.resource_path(r)) for n, r in spec.data_files.items())),
        preload=tuple(spec.preload) + tuple(also_preload),
        env=tuple(sorted(env.items())), sandboxed=sandboxed,
        student_uid=config.student_uid, limits=limits)
    if spec.warmup and sandboxed and config.warm_pool:
        calls = [specmod.encode_call(c) for c in spec.warmup]
        if warm:  # one of many: this run's cache (the stored one, or warmed up now and stored)
            cache = sandbox.compile_cache(setup, calls, stored=config.reuse_compile_cache)
            path = cache.path if cache is not None else None
        else:     # one submission (a check): the stored cache if an earlier run left one, no warm-up
            path = sandbox.stored_cache_path(setup, calls) if config.reuse_compile_cache else None
        if path:
            setup = replace(setup, xla_cache=path)
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

    def __init__(self, spec, session, refs, cells, lang, include_hidden, inject=True):
        self.spec, self.session, self.refs, self.cells, self.lang = spec, session, refs, cells, lang
        self.include_hidden = include_hidden
        self.owner = helper_questions(spec)
        self.own_ok = {}                      # function -> passed every public case of its own question
        # the solution's functions, loaded only when one is needed; never where this process runs
        # student code itself (a notebook kernel: inject=False), as if solutions/ were not here
        self._reference = None if inject else {}

    @property
    def reference(self):
        """{name: function} of solutions/ ({} where it is not here), loaded on first need: a class whose
        helpers all pass never imports the solution (for 05, that would import Keras here)."""
        if self._reference is None:
            self._reference = references.solution_functions(self.spec.name)
        return self._reference

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
        remote = [h for h in failing if h in self.reference] if failing else []
        helpers = {h: self.reference[h] for h in remote}
        cases = self._cases(q)
        not_injected = [h for h in failing if h not in self.reference] if failing else []
        with self.session.question(q.name) as run:
            qr = run_question(run, q, cases, cells=self.cells, lang=self.lang, helpers=helpers, remote=remote,
                              not_injected=not_injected)
        if not q.inject or not remote:
            self._record_own(qr)
        return qr


def grade_file(path, assignment=None, include_hidden=True, lang=None, timeout=None, questions=None,
               sandbox_mode=None, student=None, warm=False, config=None, hidden_visibility="after_published",
               fingerprint=None, inject=True):
    """Grade one submission file (or directory); always returns a SubmissionResult (built once, by
    build_result), never raises for bad input. student: the id to record (else the file's);
    fingerprint: what a run computed the result from (results.fingerprint), recorded with it.
    inject=False: never load the solution's helpers into this process (the caller runs student
    code itself, e.g. a notebook kernel): a failing helper is then reported as not replaceable.
    warm: one of many submissions of a run, which shares a compilation cache (spec.warmup)."""
    started = time.perf_counter()
    config, lang = _config(config, sandbox_mode, lang)
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
                             started, questions, status=exc.status, config=config, fingerprint=fingerprint)
    except BaseException:
        if early:
            early[1].close()
        raise
    assignment = sub.assignment
    notes = [i18n.t(key, lang, **params) for key, params in sub.notes]
    selected = [q for q in spec.questions if not questions or q.name in questions]
    heavy = specmod.imported_modules(sub.cells, spec.preload_if_imported)
    if early and early[0] == assignment and not heavy:
        _, session, env, env_note = early
        session.cells = sub.cells  # compiled by the session, as in its constructor
    else:
        if early:
            early[1].close()
        setup, env, env_note = sandbox_setup(spec, config, timeout, warm, also_preload=heavy)
        session = sandbox.Session(sub.cells, setup, pool=sandbox.POOL if config.warm_pool else None)
    if env_note:
        notes.append(env_note)
    tests = []
    try:
        grader = _Grader(spec, session, refs, sub.cells, lang, include_hidden, inject=inject)
        for q in selected:
            tests += question_entries(assignment, grader.grade(q), lang, hidden_visibility)
        if not session.spoke:
            raise SandboxStartError(f"the sandbox could not start Python ({'; '.join(session.faults[-2:]) or 'no answer'}): "
                                    f"{session.output()[-500:]}")
        notes += [_cell_note(sub.cells, i, err, lang) for i, err in sorted(session.cell_errors.items())]
    finally:
        session.close()
    return build_result(assignment, sub.student if student is None else student, tests, notes, session.output(),
                        started, prov, sandbox.isolation_note(session.sandboxed, session.dropped, lang), sub, lang,
                        keras_backend=env.get("KERAS_BACKEND") or None, fingerprint=fingerprint)


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


def _sid(path):
    from .submission import student_id
    return student_id(path)


def written_of(assignment):
    """[{"name", "points"}] of the assignment's written answers (its template's), or None."""
    found = written_answers(template_path(assignment)) if assignment in specmod.ASSIGNMENTS else ()
    return [{"name": name, "points": points} for name, points in found] or None


def build_result(assignment, student, tests, notes, printed, started, prov, sandbox_note, sub=None, lang="en",
                 status="graded", keras_backend=None, fingerprint=None):
    """The one place a SubmissionResult is made: the entries' scores summed, the notes and printed
    output (bounded) as its text, and everything else it records passed in."""
    score = round(sum(t["score"] for t in tests), 4)
    max_score = round(sum(t["max_score"] for t in tests), 4)
    text = list(notes)
    if printed.strip():
        shown = printed[:4000]
        if len(printed) > len(shown):  # say that more was printed than the feedback shows
            shown += f"\n[... {len(printed) - len(shown)} more characters of printed output not shown]"
        text.append(i18n.t("printed_header", lang) + "\n" + shown)
    return SubmissionResult(
        student=student, assignment=assignment, status=status, score=score, max_score=max_score,
        execution_time=round(time.perf_counter() - started, 3), output="\n".join(text), tests=tests,
        sandbox=sandbox_note, reference=prov, skipped_template_cells=sub.skipped if sub else [],
        cells_run=len(sub.cells) if sub else 0, lang=lang, keras_backend=keras_backend, fingerprint=fingerprint,
        written=written_of(assignment))


def failed_result(assignment, student, message, started, questions=None, status="unreadable", config=None,
                  fingerprint=None):
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
    return build_result(assignment, student, tests, [message], "", started, None,
                        sandbox.isolation_note(sandbox.uses_bwrap(config or GraderConfig.from_env())), status=status,
                        fingerprint=fingerprint)


def prepare_run(assignment, jobs, config=None, timeout=None, warm=False):
    """Before a class is graded: start `jobs` warm sandboxes (their processes now, in this thread, so
    that the first submissions take them instead of starting their own; their libraries load in the
    background), and import nbformat's validator in the background. Nothing here is needed for
    correctness: a sandbox that did not start is started again when it is needed."""
    import threading

    def imports():
        try:
            from .submission import import_nbformat
            import_nbformat().validator.get_validator(version=4, version_minor=5)
        except Exception:  # noqa: BLE001
            pass

    thread = threading.Thread(target=imports, name="prepare-imports", daemon=True)
    thread.start()
    try:
        cfg = config or GraderConfig.from_env()
        if cfg.warm_pool:
            setup, _, _ = sandbox_setup(specmod.load_spec(assignment), cfg, timeout, warm)
            sandbox.POOL.prestart(setup, max(1, int(jobs or 1)))
    except Exception:  # noqa: BLE001 - the ordinary path starts (and reports) its own sandboxes
        pass
    return thread
