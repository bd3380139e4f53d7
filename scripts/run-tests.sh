#!/usr/bin/env bash
# Runs every test project against the published executables in out/bin, then prints one line
# "N passed, N failed, N skipped" counted from the TRX results. Exit 0 only when nothing failed,
# at least one test ran, every test project produced results, and formatting is clean.
#   --install   run only the install test (tests/BoxBot.Install.Tests, `make install-test`), into
#               out/test-results/install; without it every other test project runs, into out/test-results.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

install=0
[ "${1:-}" = "--install" ] && install=1
results="$PWD/out/test-results"
[ "$install" = 1 ] && results="$results/install"
rm -rf "$results"
mkdir -p "$results"
export BOXBOT_BIN_DIR="$PWD/out/bin"
# The sandbox suites attack the shipped Native AOT launcher, not a test build of it.
export BOXBOT_SANDBOX_LAUNCHER="$PWD/out/bin/boxbot-sandbox"
status=0

echo "tests: building test projects"
if ! dotnet build boxbot.sln -c Debug -nologo -clp:NoSummary -v:q >"$results/build.log" 2>&1; then
    grep -E ': (error|warning) ' "$results/build.log" | sort -u >&2
    echo "tests: build failed (log: $results/build.log)" >&2
    echo "0 passed, 1 failed" | tee "$results/summary.txt"
    exit 1
fi

if [ "$install" = 0 ]; then
    echo "tests: checking formatting (dotnet format --verify-no-changes)"
    if ! dotnet format boxbot.sln --verify-no-changes --no-restore >"$results/format.log" 2>&1; then
        cat "$results/format.log" >&2
        echo "tests: formatting differs; run 'make format'" >&2
        status=1
    fi
fi

projects=()
for project in tests/*/*.csproj; do
    # The install test boots a container (minutes); `make install-test` runs it on its own.
    case "$install:$project" in
        1:*BoxBot.Install.Tests*) projects+=("$project") ;;
        0:*BoxBot.Install.Tests*) ;;
        0:*) projects+=("$project") ;;
    esac
done
for project in "${projects[@]}"; do
    name="$(basename "$project" .csproj)"
    echo "tests: $name"
    dotnet test "$project" --no-build -c Debug --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
        --results-directory "$results" -nologo || status=1
    if [ ! -f "$results/$name.trx" ]; then
        echo "tests: $name produced no results (crashed?)" >&2
        status=1
    fi
done

scripts/test-summary.sh "$results" | tee "$results/summary.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
exit "$status"
