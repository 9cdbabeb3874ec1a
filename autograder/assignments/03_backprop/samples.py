"""Sample submissions of 03_backprop for `make demo` (samples/make_samples.py reads this file).

MISTAKE: (text of the solution, replacement): bob's one plausible mistake, the sigmoid's derivative left out of delta2.
BROKEN: a code cell inserted into alice's work for dan, or None: dan's file is then a truncated
notebook (unreadable JSON).
Instructor-side only (it quotes the solution): never shipped to students.
"""
MISTAKE = ("delta2 = (y - t) * sigmoid_grad_from_output(y)", "delta2 = (y - t)")
BROKEN = "import os\nos._exit(1)  # a cell that kills the process\n"
