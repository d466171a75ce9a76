#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time (FUZZTIME, default 10s each),
# so that `make test` exercises the engines' invariants beyond their seed corpora. The
# inputs a run finds to fail are written to the package's testdata/fuzz and kept as
# regression cases.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  pkg=./$(dirname "${file#./}")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    log=$(mktemp)
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" > "$log" 2>&1; then
      cat "$log"
      echo "fuzz target $target of $pkg failed; the failing input is in $pkg/testdata/fuzz/$target" >&2
      exit 1
    fi
    echo "$target ($pkg, $fuzztime): $(tail -n 1 "$log")"
    rm -f "$log"
  done
done
