"""Sample submissions of 01_perceptron for `make demo` (samples/make_samples.py reads this file).

MISTAKE: (text of the solution, replacement): bob's one plausible mistake, the step's tie rule at z = 0.
BROKEN: a code cell inserted into alice's work for dan, or None: dan's file is then a truncated
notebook (unreadable JSON).
Instructor-side only (it quotes the solution): never shipped to students.
"""
MISTAKE = ("return 1 if z > 0 else 0", "return 1 if z >= 0 else 0")
BROKEN = None
