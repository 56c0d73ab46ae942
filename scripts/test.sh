#!/usr/bin/env bash
# Sets up, then builds and runs every test. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dotnet build DataflowContrastive.sln -c Release --no-restore --verbosity quiet -nologo
dotnet test DataflowContrastive.sln -c Release --no-build --verbosity quiet -nologo \
  --logger "console;verbosity=normal" "$@"
