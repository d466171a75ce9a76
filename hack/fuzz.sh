#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time (FUZZTIME, default 10s each),
# so that `make test` exercises the engines' invariants beyond their seed corpora. The
# inputs a run finds to fail are written to the package's testdata/fuzz and kept as
# regression cases.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
# Each input that reaches new code is minimized first, for up to a minute by default,
# and a short run would spend most of its time there: 200 tries keep the run fuzzing.
minimize=${FUZZMINIMIZETIME:-200x}
# inputs counts the files of a corpus folder, which may not exist.
inputs() { if [[ -d $1 ]]; then find "$1" -type f | wc -l; else echo 0; fi; }
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  pkg=./$(dirname "${file#./}")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    log=$(mktemp)
    corpus="$pkg/testdata/fuzz/$target"
    for attempt in 1 2 3; do
      before=$(inputs "$corpus")
      if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" > "$log" 2>&1; then
        break
      fi
      # Go 1.26's fuzzing coordinator can fail a target with a bare "context deadline
      # exceeded" as -fuzztime ends, having found nothing (go.dev/issue/75804, fixed in
      # Go 1.27). Only a failure that wrote a failing input is a finding.
      if [[ $attempt -lt 3 && $(inputs "$corpus") -eq $before ]] &&
        grep -q '^    context deadline exceeded$' "$log"; then
        echo "$target ($pkg): the fuzzing coordinator stopped at its deadline without a finding (go.dev/issue/75804); running it again"
        continue
      fi
      cat "$log"
      echo "fuzz target $target of $pkg failed; the failing input is in $corpus" >&2
      exit 1
    done
    # The coordinator's last progress line says how many inputs ran.
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 || true)
    echo "$target ($pkg, $fuzztime): ${execs:-no progress line}; $(tail -n 1 "$log")"
    rm -f "$log"
  done
done
