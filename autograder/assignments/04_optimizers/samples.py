"""Sample submissions of 04_optimizers for `make demo` (samples/make_samples.py reads this file).

MISTAKE: (text of the solution, replacement): bob's one plausible mistake, Adam without its bias correction.
BROKEN: a code cell inserted into alice's work for dan, or None: dan's file is then a truncated
notebook (unreadable JSON).
Instructor-side only (it quotes the solution): never shipped to students.
"""
MISTAKE = ("m_hat = m / (1 - b1 ** t)", "m_hat = m")
BROKEN = "while True:\n    pass  # an infinite loop at top level\n"
