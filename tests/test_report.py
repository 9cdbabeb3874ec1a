"""DIR/report.html (autograder.report): one self-contained page per grading run, a view of the
result JSONs. Checked on a made-up class graded by the real harness: every question and case of
the spec is there with the pass rates and failure messages the results hold, the figures are
matplotlib SVG inline, nothing is fetched from anywhere, everything a student controls is escaped,
the page follows the run's language, and headless Chromium draws it (the screenshot is not blank)."""
import collections
import html
import os
import re
import shutil
import subprocess

import pytest

from autograder import batch, i18n, report, results
from autograder import spec as specmod

A = "01_perceptron"
SPEC = specmod.load_spec(A)
QUESTIONS = [q.name for q in SPEC.questions]
ROOT = specmod.repo_root()
HOSTILE = "<img src=x onerror=alert(1)>"
PRINTED = "</pre><script>alert('printed')</script>"
RAISED = "<b>bold</b> & </td>"


def _solution():
    with open(os.path.join(ROOT, "solutions", f"{A}.py"), encoding="utf-8") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class graded by `grade_class`: correct, one mistake, one function raising markup, a hostile id."""
    base = tmp_path_factory.mktemp("report")
    subs, out = base / "subs", base / "out"
    subs.mkdir()
    solution = _solution()
    wrong = solution.replace("return 1 if z > 0 else 0", "return 1 if z >= 0 else 0")
    assert wrong != solution
    raising = solution.replace("def weighted_sum(x, w, b):", f"def weighted_sum(x, w, b):\n    raise ValueError({RAISED!r})")
    assert raising != solution
    (subs / "kim.py").write_text(solution, encoding="utf-8")
    (subs / "lee.py").write_text(wrong, encoding="utf-8")
    (subs / "park.py").write_text(raising, encoding="utf-8")
    (subs / f"{HOSTILE}.py").write_text(f"print({PRINTED!r})\n" + solution, encoding="utf-8")
    all_results, failures = batch.grade_class(A, [str(subs)], str(out), jobs=2, quiet=True)
    assert not failures, failures
    assert {r["extra_data"]["student"] for r in all_results} == {"kim", "lee", "park", HOSTILE}
    return out, all_results


def _case_rates(all_results):
    """{question: {case: (passed, total)}} counted from the JSONs."""
    rates = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    for r in all_results:
        for t in r["tests"]:
            for case in t["extra_data"].get("cases", []):
                entry = rates[results.question_of(t)][case["name"]]
                entry[0] += bool(case["passed"])
                entry[1] += 1
    return rates


def test_report_shows_every_question_case_and_failure(graded):
    out, all_results = graded
    page = (out / report.REPORT_NAME).read_text(encoding="utf-8")
    assert page.count("<svg") >= 2 + len(QUESTIONS)   # distribution, time, and per question
    for q in QUESTIONS:
        assert f"id='q-{q}'" in page
    rates = _case_rates(all_results)
    assert rates, "the results hold cases"
    for q, cases in rates.items():
        for name, (passed, total) in cases.items():
            # each case's bar carries its rate as a label
            assert f"{100.0 * passed / total:.0f}%" in page
    # the failure messages, with how many students hit each
    wrong_cases = [(results.question_of(t), c["message"]) for r in all_results if r["extra_data"]["student"] == "lee"
                   for t in r["tests"] for c in t["extra_data"].get("cases", []) if not c["passed"]]
    assert wrong_cases
    for _, message in wrong_cases:
        assert html.escape(message, quote=True) in page
    raised = [c["message"] for r in all_results if r["extra_data"]["student"] == "park"
              for t in r["tests"] for c in t["extra_data"].get("cases", []) if not c["passed"]]
    shown = [m for m in raised if RAISED in m]
    assert shown and html.escape(shown[0], quote=True) in page


def test_report_is_self_contained_and_escapes_what_students_control(graded):
    out, _ = graded
    page = (out / report.REPORT_NAME).read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert RAISED not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)  # nothing fetched
    assert "<link" not in page and "@import" not in page
    assert not re.search(r"url\((?!#)", page)  # only the SVG's own references (clip paths)
    assert "<?xml" not in page  # SVG inlined, not a document in a document


def test_report_lists_limits_and_harness_faults(graded):
    out, all_results = graded
    timed_out = [dict(r) for r in all_results if r["extra_data"]["student"] == "kim"][0]
    import copy
    timed_out = copy.deepcopy(timed_out)
    timed_out["extra_data"]["student"] = "slow"
    from autograder.compare import KINDS
    case = timed_out["tests"][0]["extra_data"]["cases"][0]
    case.update(passed=False, message=i18n.t("call_timeout", "en", seconds=10), kind=KINDS["call_timeout"])
    old_style = copy.deepcopy(timed_out)  # a result without kinds: told by the message
    old_style["extra_data"]["student"] = "slow_too"
    del old_style["tests"][0]["extra_data"]["cases"][0]["kind"]
    old_style["tests"][0]["extra_data"]["cases"][0]["message"] = i18n.t("crash", "en", message="killed")
    page = report.render(A, [timed_out, old_style], QUESTIONS,
                         harness_failures=[("broken", "SandboxStartError: no answer")])
    section = page.split(html.escape(i18n.t("report_troubles", "en")))[1]
    assert "<td>slow</td><td>time</td>" in section and html.escape(i18n.t("call_timeout", "en", seconds=10)) in section
    assert "<td>slow_too</td><td>crash</td>" in section
    assert "broken" in section and "SandboxStartError" in section


def test_report_follows_the_runs_language(graded):
    _, all_results = graded
    page = report.render(A, all_results, QUESTIONS, lang="ko")
    for key in ("report_distribution", "report_questions", "report_time", "report_troubles"):
        assert html.escape(i18n.t(key, "ko")) in page
    assert html.escape(i18n.t("report_distribution", "en")) not in page
    assert "lang='ko'" in page


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_chromium_draws_the_report(graded, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (scripts/ensure-chromium.sh installs Debian's chromium "
                    "where it may: run `make setup` as root, or `apt-get install chromium`)")
    out, _ = graded
    shot = tmp_path / "report.png"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--disable-dev-shm-usage", f"--screenshot={shot}", "--window-size=1100,1600",
                           (out / report.REPORT_NAME).as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert shot.exists(), (proc.returncode, proc.stderr[-2000:])
    import matplotlib.image
    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    not_white = (pixels < 0.9).any(axis=-1)
    assert not_white.mean() > 0.02, "the screenshot is blank"
    # colour, not only text: the figures' bars were drawn
    colourful = (pixels.max(axis=-1) - pixels.min(axis=-1)) > 0.3
    assert colourful.mean() > 0.002


@pytest.mark.parametrize("forked", [True, False])
def test_report_writer_draws_the_same_page_forked_or_not(graded, tmp_path, forked):
    """batch draws the page with report.ReportWriter: in a process forked before the run's threads
    (matplotlib imported there) or, where it cannot fork, here. Both write render()'s page, and a
    failure comes back as an exception, not as a missing page said nowhere."""
    _, all_results = graded
    writer = report.ReportWriter(forked=forked)
    assert writer.forked is forked
    path = writer.write(str(tmp_path), A, all_results, QUESTIONS, "en", harness_failures=[("ghost", "Boom: x")],
                        run_note="a note")
    assert path == str(tmp_path / report.REPORT_NAME)
    drawn = (tmp_path / report.REPORT_NAME).read_text(encoding="utf-8")
    here = report.render(A, all_results, QUESTIONS, "en", harness_failures=[("ghost", "Boom: x")], run_note="a note")
    strip = lambda page: re.sub(r"<p class='muted'>.*?</p>", "", page)  # noqa: E731 - the minute it was drawn
    assert strip(drawn) == strip(here)
    assert "ghost" in drawn and "a note" in drawn
    broken = report.ReportWriter(forked=forked)
    with pytest.raises(Exception):
        broken.write(str(tmp_path / "no" / "such" / "folder"), A, all_results, QUESTIONS, "en")
