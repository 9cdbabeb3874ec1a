"""`check(...)` for a notebook cell: runs one question's public cases against the functions defined
in the student's own kernel, shows a table, and raises AssertionError when a case fails (which is
how stock `nbgrader autograde` scores its grade cells). Uses the same comparisons as the TA's
grader; never needs the solutions.
"""
import html
import inspect
import os

from . import grading, i18n, references
from . import spec as specmod


class CheckFailed(AssertionError):
    pass


def _caller_namespace():
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back
        return caller.f_globals
    finally:
        del frame


def run_check(qualified, namespace, lang=None):
    lang = lang or os.environ.get("AUTOGRADER_LANG", "ko")
    assignment, _, qname = qualified.partition(".")
    spec = specmod.load_spec(assignment)
    question = spec.question(qname)
    refs, _ = references.load(assignment, include_hidden=False)
    cells = []
    for name in question.functions:
        fn = namespace.get(name)
        try:
            cells.append({"index": len(cells), "source": inspect.getsource(fn)})
        except (TypeError, OSError):
            pass
    old = os.getcwd()
    entry = grading.run_question(grading.InProcess(namespace), question, refs.get(qname, []), cells=cells or None,
                                 lang=lang)
    os.chdir(old)
    entry["name"] = qualified
    return entry


class _Report:
    def __init__(self, entry, lang):
        self.entry, self.lang = entry, lang

    def _rows(self):
        rows = []
        for case in self.entry["extra_data"]["cases"]:
            rows.append((case["name"], case["passed"], case["message"]))
        return rows

    def _repr_html_(self):
        e = self.entry
        color = "#1a7f37" if e["status"] == "passed" else "#cf222e"
        head = (f"<b>{html.escape(e['name'])}</b>: <span style='color:{color}'>{e['score']:g} / {e['max_score']:g}</span>")
        rows = "".join(f"<tr><td>{'✓' if ok else '✗'}</td><td>{html.escape(name)}</td><td>{html.escape(msg)}</td></tr>"
                       for name, ok, msg in self._rows())
        out = html.escape(e["output"]).replace("\n", "<br>")
        return (f"<div>{head}<table><tr><th></th><th>case</th><th>message</th></tr>{rows}</table>"
                f"<details><summary>feedback</summary><div style='font-family:monospace'>{out}</div></details></div>")

    def __repr__(self):
        e = self.entry
        return f"{e['name']}: {e['score']:g} / {e['max_score']:g}\n{e['output']}"


def check(qualified, namespace=None, lang=None):
    """check("03_backprop.backward"): public cases of one question, in this kernel."""
    namespace = namespace if namespace is not None else _caller_namespace()
    lang = lang or os.environ.get("AUTOGRADER_LANG", "ko")
    entry = run_check(qualified, namespace, lang)
    report = _Report(entry, lang)
    try:
        from IPython.display import display
        display(report)
    except ImportError:  # pragma: no cover
        print(repr(report))
    if entry["status"] != "passed":
        raise CheckFailed(f"{qualified}: {entry['score']:g} / {entry['max_score']:g} — {i18n.t('failed', lang)}")
    return None
