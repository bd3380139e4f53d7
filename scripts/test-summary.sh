#!/usr/bin/env bash
# Sums the <Counters> of every TRX file in one or more folders and prints "N passed, N failed, N skipped".
# Exits 1 when anything failed or nothing ran.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: test-summary.sh RESULTS_DIR [RESULTS_DIR...]" >&2; exit 2; }
passed=0 failed=0 total=0
shopt -s nullglob
trxs=()
for dir in "$@"; do
    trxs+=("$dir"/*.trx)
done
for trx in "${trxs[@]}"; do
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
    passed=$((passed + $(get passed)))
    failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
    total=$((total + $(get total)))
done
# Skipped and inconclusive tests are not always in their own counters (NUnit's Assume/Ignore show
# up only as total > executed), so count everything that neither passed nor failed.
skipped=$((total - passed - failed))
((skipped >= 0)) || skipped=0
# Name what failed (a CI log is often read only from its tail): each failed test's name, from its result.
for trx in "${trxs[@]}"; do
    grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$trx" |
        sed -n 's/.* testName="\([^"]*\)".*/failed: \1/p' || true
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
