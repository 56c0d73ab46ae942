#!/usr/bin/env bash
# Sets up, then runs the main job on the sample dataset that ships in samples/coco-cc.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dotnet build src/Host -c Release --no-restore --verbosity quiet -nologo
exec dotnet src/Host/bin/Release/net10.0/dfc.dll run "${1:-pipelines/clip-coco.yaml}"
