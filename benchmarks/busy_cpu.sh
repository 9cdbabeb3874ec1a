#!/bin/bash
# Run a command; print its wall time and the whole machine's busy and idle CPU-seconds meanwhile
# (from /proc/stat: every process counts, sandboxes and forks included).
#   bash benchmarks/busy_cpu.sh .venv/bin/autograder grade 05_keras_tanh samples/05_keras_tanh/ --out /tmp/o -j 2
read -r _ u n s i w irq sirq _ < /proc/stat
t0=$(date +%s.%N)
"$@" >/dev/null 2>&1
rc=$?
t1=$(date +%s.%N)
read -r _ u2 n2 s2 i2 w2 irq2 sirq2 _ < /proc/stat
hz=$(getconf CLK_TCK)
python3 -c "print(f'wall {($t1-$t0):.2f} s, busy CPU {(($u2+$n2+$s2+$irq2+$sirq2)-($u+$n+$s+$irq+$sirq))/$hz:.2f} s, idle CPU {(($i2+$w2)-($i+$w))/$hz:.2f} s (exit {$rc})')"
exit $rc
