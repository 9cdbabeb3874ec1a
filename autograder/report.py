"""DIR/report.html: the class at a glance, one self-contained page written by every grading run.

A view of the class's results (SubmissionResults, or the JSONs batch writes as <student>.json,
read with SubmissionResult.from_json), nothing more: the
class's score distribution; per question a histogram of scores, each case's pass rate and the
most common failure messages with how many students hit each; the grading time per student; the
students whose grading hit a limit or a harness fault. Figures are drawn with matplotlib into
inline SVG (text kept as SVG text, which matplotlib escapes, so that the browser's fonts draw
Hangul); everything a student controls (ids, printed output, exception text) is escaped. No
script, no style sheet, no font and no image is fetched: the page opens without network.
"""
import collections
import datetime
import html
import io
import logging
import re
import statistics
import warnings

from . import i18n, results
from .outcome import SubmissionResult

REPORT_NAME = "report.html"
TOP_MESSAGES = 8


def _t(key, lang, **params):
    return i18n.t(key, lang, **params)


# ---- reading the results -------------------------------------------------------------------
# a case's failure kind (extra_data.cases[].kind, compare.KINDS) that means a limit was hit
LIMIT_KINDS = ("time", "crash")
LIMIT_KEYS = ("timeout", "call_timeout", "question_timeout", "crash", "limit")


def _prefix(key):
    """The fixed beginning of an English message template (what every message of that key starts with)."""
    return i18n.MESSAGES.get(key, ("", ""))[1].split("{", 1)[0]


def _limit_kind(case):
    """The limit a failed case hit ("time", "crash"), from its kind, or else from its English message."""
    kind = case.get("kind")
    if kind is not None:
        return kind if kind in LIMIT_KINDS else None
    message = str(case.get("message", ""))
    for key in LIMIT_KEYS:
        prefix = _prefix(key)
        if len(prefix) > 3 and message.startswith(prefix):
            return "time" if "timeout" in key else "crash"
    return None


_NUMBER = re.compile(r"[-+]?\d[\d.,eE+-]*")


def _message_key(message, kind=None):
    """Messages that differ only in their numbers are one kind of failure (and "not attempted" is
    one, whether the case was public or hidden)."""
    if kind == "not_attempted":
        return "not_attempted"
    return _NUMBER.sub("#", message)


class QuestionView:
    def __init__(self, name):
        self.name = name
        self.max_score = 0.0
        self.scores = []
        self.cases = collections.OrderedDict()      # name -> [passed, total, public]
        self.messages = {}                           # key -> [example, set(students)]

    def add_message(self, message, student, kind=None):
        key = _message_key(message, kind)
        entry = self.messages.setdefault(key, [message, set()])
        entry[1].add(student)

    def top_messages(self, n=TOP_MESSAGES):
        ranked = sorted(self.messages.values(), key=lambda e: (-len(e[1]), e[0]))
        return [(example, len(students)) for example, students in ranked[:n]]


def summarise(all_results, question_names, lang="en"):
    """(questions: {name: QuestionView}, troubles: [(student, status, what)]) from the results."""
    questions = collections.OrderedDict((q, QuestionView(q)) for q in question_names)
    troubles, limits = [], {}
    for r in sorted(map(SubmissionResult.from_json, all_results), key=lambda r: str(r.student)):
        student = str(r.student)
        status = str(r.status or "")
        if status != "graded":
            troubles.append((student, status, r.output or ""))
        per_q = results.question_scores(r)
        for q, (score, max_score) in per_q.items():
            view = questions.setdefault(q, QuestionView(q))
            view.max_score = max(view.max_score, max_score)
            view.scores.append(score)
        for test in r.tests:
            q = results.question_of(test)
            view = questions.setdefault(q, QuestionView(q))
            cases = (test.get("extra_data") or {}).get("cases") or []
            for case in cases:
                name = str(case.get("name", ""))
                entry = view.cases.setdefault(name, [0, 0, bool(case.get("public"))])
                entry[1] += 1
                if case.get("passed"):
                    entry[0] += 1
                    continue
                message = str(case.get("message", ""))
                view.add_message(message, student, case.get("kind"))
                kind = _limit_kind(case)
                if kind:
                    limits.setdefault((student, kind), []).append(f"{q} · {name}: {message}")
        for (who, kind), lines in sorted(limits.items()):
            shown = lines[:3] + ([f"... {len(lines) - 3} more"] if len(lines) > 3 else [])
            troubles.append((who, kind, "\n".join(shown)))
        limits.clear()
    return questions, troubles


# ---- drawing -------------------------------------------------------------------------------
def _figure(width=6.4, height=2.6, left_inches=0.7):
    """A figure with fixed margins (a layout engine draws every figure twice: half the report's time)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=min(0.6, left_inches / width), right=1 - 0.15 / width, bottom=0.5 / height,
                        top=1 - 0.12 / height)
    return fig


_RC = {"svg.fonttype": "none", "text.parse_math": False, "svg.hashsalt": "report",
       "font.family": ["DejaVu Sans", "Noto Sans CJK KR", "NanumGothic", "sans-serif"]}


def _svg(fig):
    """The figure as an inline <svg> element (no XML prologue, no date, text as text); render()
    draws every figure inside one matplotlib.rc_context(_RC)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _import_matplotlib():
    """matplotlib's figure and SVG backend (0.5 s of imports)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401


class ReportWriter:
    """Writes report.html at the end of a run, from a process of its own where it can: forked when
    it is made (before the run starts its threads), it imports matplotlib while the class is graded
    and draws the page from the results' JSON (plain data) when asked, so that neither the imports
    nor the drawing (about 0.8 s of CPU for a class of 8) take turns with the grading threads for
    this process's interpreter lock. Elsewhere (another system, or threads already running, where a
    fork could copy a held lock) it imports matplotlib in a thread and draws here. Either way
    write() returns the page's path or raises what went wrong; the page is the same."""

    def __init__(self, forked=None):
        import os
        import sys
        import threading
        self._proc = self._conn = None
        if forked is None:
            forked = hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1
        if forked:
            try:
                import multiprocessing
                ctx = multiprocessing.get_context("fork")
                self._conn, theirs = ctx.Pipe()
                self._proc = ctx.Process(target=_report_child, args=(theirs, self._conn), name="report-writer",
                                         daemon=True)
                self._proc.start()
                theirs.close()
                return
            except (OSError, ValueError, ImportError):
                self._proc = self._conn = None
        threading.Thread(target=self._head_start, name="report-imports", daemon=True).start()

    @property
    def forked(self):
        return self._proc is not None

    @staticmethod
    def _head_start():
        try:
            _import_matplotlib()
        except Exception:  # noqa: BLE001 - a head start only: the report imports them again when it draws
            pass

    def write(self, out_dir, assignment, all_results, question_names, lang="en", harness_failures=(), run_note=None):
        """Write out_dir/report.html (whole, atomically); returns its path."""
        if self._proc is None:
            return write_report(out_dir, assignment, all_results, question_names, lang, harness_failures, run_note)
        import json
        job = {"out_dir": out_dir, "assignment": assignment, "question_names": list(question_names), "lang": lang,
               "results": [SubmissionResult.from_json(r).as_json() for r in all_results],
               "harness_failures": [[str(s), str(reason)] for s, reason in harness_failures], "run_note": run_note}
        try:
            self._conn.send_bytes(json.dumps(job).encode("utf-8"))
            answer = json.loads(self._conn.recv_bytes().decode("utf-8"))
        except (OSError, EOFError, ValueError) as exc:
            raise RuntimeError(f"the report writer ended ({self._proc.exitcode}): {exc}") from None
        finally:
            self.close()
        if answer.get("error"):
            raise RuntimeError(answer["error"])
        return answer["path"]

    def close(self):
        """Let the writer process go (it ends when its pipe closes); nothing to do for a thread."""
        if self._proc is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None


def _report_child(conn, parents_end):
    """The forked report writer: matplotlib first, then one job (a page), then gone."""
    import json
    from .sandbox.isolation import die_with_parent
    parents_end.close()
    die_with_parent()
    try:
        _import_matplotlib()
    except Exception:  # noqa: BLE001 - drawing reports it
        pass
    try:
        job = json.loads(conn.recv_bytes().decode("utf-8"))
    except (EOFError, OSError, ValueError):
        return  # the run ended without a report (interrupted)
    try:
        path = write_report(job["out_dir"], job["assignment"], job["results"], job["question_names"], job["lang"],
                            [tuple(f) for f in job["harness_failures"]], job["run_note"])
        answer = {"path": path}
    except Exception as exc:  # noqa: BLE001 - said by the run, which goes on
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    conn.send_bytes(json.dumps(answer).encode("utf-8"))
    conn.close()


def _quiet_fonts():
    """Hangul glyphs are missing from matplotlib's own font: the browser draws them; say nothing."""
    import contextlib
    import matplotlib
    stack = contextlib.ExitStack()
    stack.enter_context(matplotlib.rc_context(_RC))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    stack.callback(logger.setLevel, level)
    return stack


def _hist(values, max_value, xlabel, ylabel, color="tab:blue", size=(6.4, 2.6)):
    import numpy as np
    fig = _figure(*size)
    ax = fig.add_subplot()
    top = float(max_value) if max_value else (max(values) if values else 1.0) or 1.0
    bins = np.linspace(0.0, top, min(21, max(2, int(top) + 1)) if top >= 1 else 11)
    counts, _, _ = ax.hist(np.clip(np.asarray(values, dtype=float), 0.0, top), bins=bins, color=color, edgecolor="white")
    ax.set_xlim(0.0, top)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    # few ticks, placed here (tick layout is most of a small figure's drawing time): 0, half, the top
    # score on a question's small histogram; 0, half and the tallest bar's count of students
    if size[0] < 5:
        ax.set_xticks(sorted({0.0, round(top / 2, 2), top}))
    tallest = int(max(counts.max() if len(values) else 1, 1))
    ax.set_yticks(sorted({0, tallest} | ({tallest // 2} if tallest >= 4 else set())))
    return _svg(fig)


def _case_bars(cases, lang):
    """Each case's pass rate as a row of a table with a coloured bar (HTML and CSS, no figure: ten
    of these were most of the report's drawing time)."""
    hidden = _t("hidden_case", lang)
    rows = []
    for name, (passed, total, public) in cases.items():
        rate = 100.0 * passed / total if total else 0.0
        colour = "#2ca02c" if rate >= 99.999 else ("#ff7f0e" if rate >= 50 else "#d62728")
        label = (name if public else f"{name} ({hidden})")[:48]
        rows.append(f"<tr><td>{_e(label)}</td><td class='bar'><span style='width:{rate:.1f}%;background:{colour}'>"
                    f"</span></td><td class='n'>{rate:.0f}%</td></tr>")
    head = f"<tr><th>{_e(_t('report_case', lang))}</th><th colspan='2'>{_e(_t('report_pass_rate', lang))}</th></tr>"
    return "<table class='rates'>" + head + "".join(rows) + "</table>"


def _time_chart(all_results, lang):
    times = sorted(((str(r.student), float(r.execution_time or 0.0)) for r in all_results), key=lambda st: -st[1])
    if len(times) > 40:  # a histogram for a large class; the slowest are in the table below
        return _hist([t for _, t in times], max(t for _, t in times) or 1.0, _t("report_seconds", lang),
                     _t("report_students", lang), color="tab:purple")
    fig = _figure(6.4, 0.7 + 0.24 * max(1, len(times)), left_inches=0.07 * max([len(s[:32]) for s, _ in times] + [8]))
    ax = fig.add_subplot()
    y = list(range(len(times)))
    ax.barh(y, [t for _, t in times], color="tab:purple")
    ax.set_yticks(y, [s[:32] for s, _ in times], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(_t("report_seconds", lang))
    return _svg(fig)


# ---- the page ------------------------------------------------------------------------------
_STYLE = """
body{font-family:'Noto Sans KR','Malgun Gothic','Apple SD Gothic Neo',sans-serif;max-width:62em;margin:1.5em auto;
padding:0 1em;color:#1f2328}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.8em}
h3{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.2em .6em;text-align:left;
vertical-align:top}th{background:#f6f8fa}td.n{text-align:right}
.summary td{border:none;padding:.1em 1em .1em 0}.figure svg{max-width:100%;height:auto}
pre{white-space:pre-wrap;margin:0;font-size:.85em}.muted{color:#656d76}
.row{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
td.bar{width:14em;padding:.2em .3em}td.bar span{display:block;height:.9em;min-width:1px}
.rates td{font-size:.85em;border:none;padding:.05em .5em}
"""


def _e(text):
    return html.escape(str(text), quote=True)


def _num(x):
    return results._num(x)


def render(assignment, all_results, question_names, lang="en", harness_failures=(), run_note=None):
    """The page's HTML text. harness_failures: [(student, reason)] of students with no result."""
    all_results = [SubmissionResult.from_json(r) for r in all_results]
    with _quiet_fonts():
        return _render(assignment, all_results, question_names, lang, harness_failures, run_note)


def _render(assignment, all_results, question_names, lang, harness_failures, run_note):
    questions, troubles = summarise(all_results, question_names, lang)
    troubles += [(str(s), "harness", str(reason)) for s, reason in harness_failures]
    totals = [float(r.score or 0) for r in all_results]
    max_total = max([float(r.max_score or 0) for r in all_results] + [sum(v.max_score for v in questions.values())])
    statuses = collections.Counter(str(r.status or "") for r in all_results)
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    title = _t("report_title", lang, assignment=assignment)
    out = [f"<!DOCTYPE html>\n<html lang='{'ko' if lang == 'ko' else 'en'}'><head><meta charset='utf-8'>",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>",
           f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{_e(title)}</h1>",
           f"<p class='muted'>{_e(_t('report_generated', lang, when=when))}</p>"]
    if run_note:
        out.append(f"<p>{_e(run_note)}</p>")
    rows = [(_t("report_students", lang), str(len(all_results)))]
    if totals:
        rows += [(_t("report_mean", lang), f"{_num(round(statistics.fmean(totals), 2))} / {_num(max_total)}"),
                 (_t("report_median", lang), f"{_num(round(statistics.median(totals), 2))} / {_num(max_total)}")]
    rows.append((_t("report_statuses", lang), ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))))
    with_written = next((r for r in all_results if r.written), None)
    if with_written is not None:  # not graded here: formgrader's (or Gradescope's manual) part of the 100
        rows.append((_t("report_written", lang), results.written_lines(with_written, lang)[0]))
    out.append("<table class='summary'>" + "".join(f"<tr><td>{_e(a)}</td><td><b>{_e(b)}</b></td></tr>" for a, b in rows)
               + "</table>")

    out.append(f"<h2>{_e(_t('report_distribution', lang))}</h2>")
    if totals:
        out.append("<div class='figure'>" + _hist(totals, max_total, _t("report_score", lang),
                                                  _t("report_students", lang)) + "</div>")
    else:
        out.append(f"<p>{_e(_t('report_no_results', lang))}</p>")

    out.append(f"<h2>{_e(_t('report_questions', lang))}</h2>")
    for name, view in questions.items():
        mean = f"{_num(round(statistics.fmean(view.scores), 2))} / {_num(view.max_score)}" if view.scores else "-"
        out.append(f"<h3 id='q-{_e(name)}'>{_e(name)} <span class='muted'>({_e(_t('report_mean', lang))} {_e(mean)})</span></h3>")
        out.append("<div class='row'>")
        if view.scores:
            out.append("<div class='figure'>" + _hist(view.scores, view.max_score, _t("report_score", lang),
                                                      _t("report_students", lang), color="tab:cyan",
                                                      size=(3.8, 2.3)) + "</div>")
        if view.cases:
            out.append("<div>" + _case_bars(view.cases, lang) + "</div>")
        out.append("</div>")
        top = view.top_messages()
        if top:
            out.append(f"<table><tr><th>{_e(_t('report_failure', lang))}</th><th>{_e(_t('report_students', lang))}</th></tr>")
            out += [f"<tr><td><pre>{_e(msg[:400])}</pre></td><td class='n'>{n}</td></tr>" for msg, n in top]
            out.append("</table>")
        elif view.scores:
            out.append(f"<p class='muted'>{_e(_t('report_no_failures', lang))}</p>")

    out.append(f"<h2>{_e(_t('report_time', lang))}</h2>")
    if all_results:
        out.append("<div class='figure'>" + _time_chart(all_results, lang) + "</div>")
        slow = sorted(all_results, key=lambda r: -float(r.execution_time or 0))[:5]
        out.append("<table>" + "".join(f"<tr><td>{_e(r.student)}</td>"
                                       f"<td class='n'>{float(r.execution_time or 0):.2f} s</td></tr>" for r in slow)
                   + "</table>")

    out.append(f"<h2>{_e(_t('report_troubles', lang))}</h2>")
    if troubles:
        out.append(f"<table><tr><th>{_e(_t('report_student', lang))}</th><th>{_e(_t('report_status', lang))}</th>"
                   f"<th>{_e(_t('report_detail', lang))}</th></tr>")
        out += [f"<tr><td>{_e(s)}</td><td>{_e(k)}</td><td><pre>{_e(str(w)[:600])}</pre></td></tr>" for s, k, w in troubles]
        out.append("</table>")
    else:
        out.append(f"<p>{_e(_t('report_no_troubles', lang))}</p>")
    out.append("</body></html>\n")
    return "\n".join(out)


def write_report(out_dir, assignment, all_results, question_names, lang="en", harness_failures=(), run_note=None):
    """Write DIR/report.html (whole, atomically). Returns its path."""
    import os
    path = os.path.join(out_dir, REPORT_NAME)
    results.atomic_write(path, render(assignment, all_results, question_names, lang, harness_failures, run_note))
    return path
