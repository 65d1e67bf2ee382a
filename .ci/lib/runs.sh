# Sourced by .ci/ab and .ci/vs-go: the figures of runs that print what `compare --once` prints, one
# run per line: the run's wall nanoseconds and its CPU seconds (benches/go prints the same).

# rate FILE N: messages (round trips) per second of each run in FILE, runs of N messages.
rate() { awk -v n="$2" '{ print n / ($1 / 1e9) }' "$1"; }
# cpu FILE N: CPU µs per message of each run in FILE.
cpu() { awk -v n="$2" '{ print $2 / n * 1e6 }' "$1"; }
# Median (slowest-fastest) of the rates on stdin, as compare prints them: 2.41M, 812k.
spread() {
    sort -g | awk 'function r(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : sprintf("%.0fk", x / 1e3) }
        { v[NR] = $1 } END { printf "%s (%s-%s)", r(v[int((NR + 1) / 2)]), r(v[1]), r(v[NR]) }'
}
# The median of the numbers on stdin.
median() {
    sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
# ratio A B: A / B, two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
