#!/usr/bin/env bash
# Sets up, then builds and runs every test. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dotnet build DataflowContrastive.sln -c Release --no-restore --verbosity quiet -nologo

results=$(mktemp -d)
# The shard-ledger tests need a PostgreSQL server: a throwaway one, stopped and removed however this script ends.
postgres_dir=$(mktemp -d /tmp/dfc-postgres.XXXXXX)
trap 'scripts/postgres.sh stop "$postgres_dir"; rm -rf "$results"' EXIT
trap 'exit 130' INT TERM
DFC_TEST_POSTGRES=$(scripts/postgres.sh start "$postgres_dir")
export DFC_TEST_POSTGRES

# The results file only feeds the counts below and is removed on exit, so the line naming it is left out.
status=0
dotnet test DataflowContrastive.sln -c Release --no-build --nologo \
  --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@" \
  | sed -u '/^[[:space:]]*Results File: /d' || status=$?

# One plain closing line with the counts, read from the test results file.
counters=$(grep -o '<Counters [^>]*' "$results"/tests.trx 2>/dev/null || true)
count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
if [[ -n $counters ]]; then
  echo "tests: $(count passed) passed, $(count failed) failed, $(( $(count total) - $(count executed) )) skipped"
fi
exit "$status"
