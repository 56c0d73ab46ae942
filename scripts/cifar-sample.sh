#!/usr/bin/env bash
# Makes the CIFAR-10 samples that pipelines/simclr-cifar10.yaml and pipelines/supcon-cifar10.yaml read:
#   samples/cifar10          the first 100 test images of each class (1,000 images), the training split
#   samples/cifar10-heldout  the next 50 of each class (500 images), for kNN evaluation
# from the class folders of the CIFAR-10 test set (one folder per class, as ../shared/data/cifar10-test holds them).
# Both folders are git-ignored: CIFAR-10 images are not ours to redistribute, so they are made, never committed.
#
# usage: scripts/cifar-sample.sh [CIFAR_TEST_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir="${1:-../shared/data/cifar10-test}"
if [ ! -d "$source_dir" ]; then
    echo "cifar-sample.sh: no folder $source_dir (give the CIFAR-10 test set's class folders as the argument)" >&2
    exit 1
fi

dotnet build src/Host -c Release --verbosity quiet -nologo
pack() {
    local out="$1"; shift
    rm -rf "$out"
    dotnet src/Host/bin/Release/net10.0/dfc.dll pack --class-folders "$source_dir" --out "$out" \
        --rows-per-shard 500 "$@"
}
pack samples/cifar10 --per-class 100
pack samples/cifar10-heldout --skip-per-class 100 --per-class 50
