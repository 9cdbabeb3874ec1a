"""Sample submissions of 05_keras_tanh for `make demo` (samples/make_samples.py reads this file).

MISTAKE: (text of the solution, replacement): bob's one plausible mistake, relu in the second hidden layer.
BROKEN: a code cell inserted into alice's work for dan, or None: dan's file is then a truncated
notebook (unreadable JSON).
Instructor-side only (it quotes the solution): never shipped to students.
"""
MISTAKE = ('keras.layers.Dense(4, activation="tanh")', 'keras.layers.Dense(4, activation="relu")')
BROKEN = "import tensorflw  # a typo in an import\n"
