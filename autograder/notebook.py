"""What the notebooks import: `check(...)` for a check cell and `data_path(...)` for a data file.

`check("03_backprop.backward")` runs one question's public cases against the functions defined in
the student's own kernel and shows a table in the notebook's language (Korean unless
AUTOGRADER_LANG says otherwise), with the hint visible and scores written as in every result
(results' number format). Uses the same comparisons as the TA's grader; never needs the solutions.

A failing check does not stop Restart & Run All: the table shows the failure and the cell ends
normally. Under nbgrader's own `autograde` or `validate` (nbgrader sets NBGRADER_EXECUTION in the
kernel's environment for both, see nbgrader's FAQ) the check cell raises CheckFailed, which is how
stock nbgrader scores a grade cell. AUTOGRADER_CHECK_RAISE=1 makes it raise anywhere, =0 never.

`data_path("dataset2.csv")` finds a data file without copying it: beside the notebook (the kernel's
working directory), in a `data/` folder there or in any folder above it (the repository and the
student bundle both keep `data/` next to `assignments/`), or in the installed package's copy of the
bundle (`autograder/_bundle/data/`).
"""
import html
import inspect
import os
import shutil
import tempfile

from . import grading
from . import i18n, references
from .config import GraderConfig
from .outcome import thaw
from . import spec as specmod

NBGRADER_RUNS = ("autograde", "validate")


class CheckFailed(AssertionError):
    pass


def _caller_namespace():
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back
        return caller.f_globals
    finally:
        del frame


def _lang(lang=None):
    lang = lang or (GraderConfig.from_env().lang if os.environ.get("AUTOGRADER_LANG") else "ko")
    return "en" if lang.lower().startswith("en") else "ko"


def _num(x):
    """A score as results write it (11.7857 -> 11.79, 10.0 -> 10)."""
    try:
        from .results import _num as fmt
        return fmt(x)
    except ImportError:  # pragma: no cover - the same rule, if results is ever moved
        x = float(x)
        return str(int(x)) if x.is_integer() else f"{x:.2f}"


def should_raise():
    """True when a failing check cell must raise: under nbgrader's autograde / validate."""
    forced = os.environ.get("AUTOGRADER_CHECK_RAISE", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return os.environ.get("NBGRADER_EXECUTION", "") in NBGRADER_RUNS


# ---- Keras questions: a warm sandbox for the kernel's lifetime ---------------------------------------
# The kernel's Keras runs on whatever backend the student's setup imported (TensorFlow by default),
# where one training of 05 costs seconds and is compiled again by every check. A Keras question is
# checked instead the way `autograder check` and `grade` run it: in a sandbox with the spec's
# backend (JAX), replaying the cells this kernel ran (its input history, less the check cells and
# unchanged demo cells, as grading leaves them out). The sandbox and the compiled training step stay
# warm in this kernel (the pool and the compilation cache of its process), and every check gets a
# fresh child of it, so the checks after the first reuse what the first prepared.
_WARM = {"prepared": set(), "checks": 0}


def _kernel_history(namespace):
    """The sources of the cells this kernel ran, in order, less the one running now; None outside IPython."""
    history = namespace.get("In") if isinstance(namespace.get("In"), list) else None
    if history is None:
        try:
            from IPython import get_ipython
            shell = get_ipython()
            history = list(shell.history_manager.input_hist_raw) if shell is not None else None
        except Exception:  # noqa: BLE001
            history = None
    if not history:
        return None
    return [src for src in history[1:-1] if isinstance(src, str) and src.strip()]


def _warm_sandbox_usable(spec, question):
    """Only for a Keras question, on Linux, with the spec's preferred backend installed (else the
    kernel's own run is as fast), and unless AUTOGRADER_CHECK_SANDBOX=0."""
    if not question.needs_keras or os.environ.get("AUTOGRADER_CHECK_SANDBOX", "").strip() == "0":
        return False
    if not os.path.exists("/proc/self/status") or not hasattr(os, "pidfd_open"):
        return False
    _env, note = specmod.sandbox_env(spec, GraderConfig.from_env().keras_backend)
    return note is None


def prepare_warm_sandbox(assignment):
    """Start this kernel's warm sandbox for an assignment with Keras questions, in the background (the
    first check cell of the notebook calls it, so that the Keras checks find it ready)."""
    if assignment in _WARM["prepared"]:
        return
    _WARM["prepared"].add(assignment)
    try:
        spec = specmod.load_spec(assignment)
        if any(_warm_sandbox_usable(spec, q) for q in spec.questions):
            grading.prepare_run(assignment, 1, warm=True)
    except Exception:  # noqa: BLE001 - the check itself starts what it needs
        pass


def _sandboxed_check(assignment, qname, history, lang):
    """The question's public entry, graded in the kernel's warm sandbox from the replayed history;
    None when the sandbox could not be used (the caller then checks in this kernel)."""
    folder = tempfile.mkdtemp(prefix="autograder-check-")
    try:
        path = os.path.join(folder, f"{assignment}.py")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("".join(f"# %%\n{src}\n" for src in history))
        # this kernel runs the student's code: no hidden case and no reference helper may come here
        result = grading.grade_file(path, assignment=assignment, include_hidden=False, lang=lang,
                                    questions=[qname], warm=True, student="notebook", inject=False)
    except Exception:  # noqa: BLE001 - e.g. no sandbox here: check in the kernel
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if result.status != "graded" or not result.tests:
        return None
    _WARM["checks"] += 1
    entry = thaw(next((t for t in result.tests if t["extra_data"].get("question") == qname
                       and t["extra_data"].get("public", True)), result.tests[0]))
    return dict(entry, extra_data=dict(entry["extra_data"], warm_sandbox=True))


def warm_state():
    """What this kernel's warm sandboxes did: {"checks": n, "idle_zygotes": [pids]} (for tests)."""
    from . import sandbox
    pids = [z.proc.pid for group in sandbox.POOL.idle.values() for z in group if z.proc is not None]
    return {"checks": _WARM["checks"], "idle_zygotes": pids}


def run_check(qualified, namespace, lang=None):
    lang = _lang(lang)
    assignment, _, qname = qualified.partition(".")
    spec = specmod.load_spec(assignment)
    question = spec.question(qname)
    prepare_warm_sandbox(assignment)
    if _warm_sandbox_usable(spec, question):
        history = _kernel_history(namespace)
        entry = _sandboxed_check(assignment, qname, history, lang) if history else None
        if entry is not None:
            return dict(entry, name=qualified)
    refs, _ = references.load(assignment, include_hidden=False)
    cells = []
    for name in question.functions:
        fn = namespace.get(name)
        try:
            cells.append({"index": len(cells), "source": inspect.getsource(fn)})
        except (TypeError, OSError):
            pass
    old = os.getcwd()
    # the cases name the spec's data files as the sandbox holds them (in the working directory):
    # run them in a scratch directory with links to the files found as data_path finds them
    scratch = tempfile.mkdtemp(prefix="autograder-check-")
    try:
        for name, rel in spec.data_files.items():
            try:
                src = os.path.abspath(os.path.join(old, data_path(os.path.basename(rel), start=old)))
            except FileNotFoundError:
                src = specmod.resource_path(rel)
            if os.path.exists(src):
                os.symlink(src, os.path.join(scratch, name))
        os.chdir(scratch)
        result = grading.run_question(grading.InProcess(namespace, assignment), question, refs.get(qname, []),
                                      cells=cells or None, lang=lang)
    finally:
        os.chdir(old)
        shutil.rmtree(scratch, ignore_errors=True)
    if isinstance(result, dict):           # a test entry already
        entry = result
    else:                                  # a QuestionResult: its public entry (the check has no hidden case)
        entries = grading.question_entries(assignment, result, lang)
        entry = next((e for e in entries if e.get("extra_data", {}).get("public", True)), entries[0])
    return dict(entry, name=qualified)  # a new entry named as the check cell names it (the entry is not edited)


class _Report:
    """The check's table: one row per public case, then the notes (not attempted, structure rule,
    hint) in plain sight."""

    def __init__(self, entry, lang):
        self.entry, self.lang = entry, lang
        self.rows, self.notes = self._split()

    def _split(self):
        cases = self.entry.get("extra_data", {}).get("cases", [])
        lines = (self.entry.get("output") or "").splitlines()
        case_lines = [l for l in lines if l[:1] in ("✓", "✗")]
        notes = [l for l in lines if l[:1] not in ("✓", "✗") and l.strip()]
        rows = []
        for i, case in enumerate(cases):
            message = case.get("message", "")
            if len(case_lines) == len(cases):   # the line in the chosen language, written by the grader
                line = case_lines[i]
                label = case["name"] if case.get("public", True) else \
                    f"{i18n.t('hidden_case', self.lang)}: {case['name']}"
                prefix = f"{line[:1]} {label}"
                message = line[len(prefix):].lstrip(": ").strip() if line.startswith(prefix) else line[2:]
            rows.append((case["name"], bool(case.get("passed")), "" if case.get("passed") else message))
        return rows, notes

    def _head(self):
        e = self.entry
        return i18n.t("score_line", self.lang, name=e["name"], score=_num(e["score"]), max_score=_num(e["max_score"]))

    def _summary(self):
        e = self.entry
        if e["status"] == "passed":
            return i18n.t("check_all_passed", self.lang)
        return i18n.t("check_some_failed", self.lang)

    def _repr_html_(self):
        e, term = self.entry, (lambda k: i18n.term(k, self.lang))
        ok = e["status"] == "passed"
        color = "#1a7f37" if ok else "#cf222e"
        head = (f"<b>{html.escape(e['name'])}</b>: <span style='color:{color};font-weight:bold'>"
                f"{_num(e['score'])} / {_num(e['max_score'])}</span> — {html.escape(self._summary())}")
        rows = "".join(
            f"<tr><td style='color:{'#1a7f37' if passed else '#cf222e'}'>{'✓' if passed else '✗'}</td>"
            f"<td style='text-align:left'>{html.escape(name)}</td><td style='text-align:left'>{html.escape(msg)}</td></tr>"
            for name, passed, msg in self.rows)
        table = (f"<table><tr><th></th><th style='text-align:left'>{term('public_case')}</th>"
                 f"<th style='text-align:left'>{term('message')}</th></tr>{rows}</table>") if self.rows else ""
        notes = "".join(f"<p style='margin:.3em 0'>{html.escape(n)}</p>" for n in self.notes)
        return f"<div lang='{self.lang}'><p>{head}</p>{table}{notes}</div>"

    def __repr__(self):
        out = [f"{self._head()} — {self._summary()}"]
        for name, passed, msg in self.rows:
            out.append(f"  {'✓' if passed else '✗'} {name}" + (f": {msg}" if msg else ""))
        out += [f"  {n}" for n in self.notes]
        return "\n".join(out)


def check(qualified, namespace=None, lang=None):
    """check("03_backprop.backward"): public cases of one question, in this kernel."""
    namespace = namespace if namespace is not None else _caller_namespace()
    lang = _lang(lang)
    entry = run_check(qualified, namespace, lang)
    report = _Report(entry, lang)
    try:
        from IPython.display import display
        display(report)
    except ImportError:  # pragma: no cover
        print(repr(report))
    if entry["status"] != "passed" and should_raise():
        raise CheckFailed(i18n.t("check_failed", lang, name=qualified, score=_num(entry["score"]),
                                 max_score=_num(entry["max_score"])))
    return None


def data_path(name, start=None):
    """The path of data file `name` (e.g. "dataset2.csv"), found without copying it; see the module
    docstring for where it looks. Raises FileNotFoundError saying where it looked."""
    here = os.path.abspath(start or os.getcwd())
    for assignment in specmod.ASSIGNMENTS:  # the notebook's first use of the harness: warm its sandbox now
        try:
            if name in specmod.load_spec(assignment).data_files:
                prepare_warm_sandbox(assignment)
        except Exception:  # noqa: BLE001
            pass
    tried = []
    candidates = [os.path.join(here, name)]
    folder = here
    while True:
        candidates.append(os.path.join(folder, "data", name))
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    candidates.append(os.path.join(specmod.BUNDLE_DIR, "data", name))
    candidates.append(os.path.join(specmod.repo_root(), "data", name))
    for path in candidates:
        tried.append(path)
        if os.path.isfile(path):
            rel = os.path.relpath(path, here)
            return rel if not rel.startswith(os.pardir * 4) else path
    raise FileNotFoundError(f"{name}: 데이터 파일을 찾지 못했습니다 / data file not found (looked in: "
                            + ", ".join(tried[:4]) + ", ...)")
