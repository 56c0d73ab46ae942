#!/usr/bin/env bash
# The learning figures: trains pipelines/supcon-cifar10.yaml and pipelines/simclr-cifar10.yaml with dfc, then the
# same recipes with PyTorch (bench/learn_peer.py, Debian's python3), each for the same number of minutes on the same
# CIFAR-10 sample and the same number of threads, and prints the k-NN top-1 accuracy of each (memory: the 1,000
# training images; queries: the 500 held-out images; k 20, votes weighted by exp(cos/0.07)). Chance is 10 %.
#
# usage: bench/learn.sh [MINUTES] [CIFAR_TEST_DIR]     (default 5 minutes, ../shared/data/cifar10-test)
#        LEARN_MODES=simclr bench/learn.sh 5             (one mode again; the table shows every mode with results)
#
# Both sides get a schedule far longer than the time allows (train.steps / --steps 100000), so the time budget ends
# every run, not the schedule. Results go to runs/learn/ (learn.json holds all figures).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-5}"
cifar="${2:-../shared/data/cifar10-test}"
steps=100000
threads=$(nproc)
out=runs/learn
mkdir -p "$out"

if [ ! -d samples/cifar10 ] || [ ! -d samples/cifar10-heldout ]; then
    bash scripts/cifar-sample.sh "$cifar"
fi
dotnet build src/Host -c Release --verbosity quiet -nologo

for mode in ${LEARN_MODES:-supcon simclr}; do
    # The committed pipeline, with the time budget and a long schedule; it stays in pipelines/ so that its relative
    # paths hold, under a hidden name.
    pipeline="pipelines/.learn-$mode.yaml"
    sed -e "s|^output: .*|output: ../$out/$mode|" -e "s|^  steps: .*|  steps: $steps\n  max_minutes: $minutes|" \
        -e "/^eval:/,/^$/ s|^  every: .*|  every: 0|" "pipelines/$mode-cifar10.yaml" > "$pipeline"
    rm -rf "$out/$mode"
    echo "learn.sh: dfc $mode for $minutes min" >&2
    dotnet src/Host/bin/Release/net10.0/dfc.dll run "$pipeline" > "$out/$mode.log" 2>&1
    rm -f "$pipeline"

    echo "learn.sh: PyTorch $mode for $minutes min" >&2
    /usr/bin/python3 bench/learn_peer.py --mode "$mode" --minutes "$minutes" --threads "$threads" --steps "$steps" \
        "$cifar" > "$out/$mode-peer.json"
done

/usr/bin/python3 - "$out" "$minutes" "$threads" <<'PY'
import json, pathlib, sys
out, minutes, threads = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
rows = []
for mode in ("supcon", "simclr"):
    if not (out / mode / "summary.json").exists() or not (out / f"{mode}-peer.json").exists():
        continue
    ours = json.loads((out / mode / "summary.json").read_text())
    peer = json.loads((out / f"{mode}-peer.json").read_text())
    knn = ours["evaluation"]["knn_top1"]
    rows.append({"mode": mode, "ours": {"steps": ours["steps"], "samples_trained": ours["samples_trained"],
                                        "knn_top1": knn},
                 "pytorch": {"steps": peer["steps"], "samples": round(peer["samples_per_second"]
                                                                       * peer["train_seconds"]),
                             "knn_top1": peer["knn"]["top1"]}})
(out / "learn.json").write_text(json.dumps({"minutes": float(minutes), "threads": int(threads), "runs": rows},
                                           indent=2))
print(f"CIFAR-10 sample, 32x32, {minutes} min each, {threads} threads; k-NN top-1 (chance 10 %)")
print(f"{'mode':8} {'dfc steps':>10} {'dfc kNN':>8} {'torch steps':>12} {'torch kNN':>10}")
for r in rows:
    print(f"{r['mode']:8} {r['ours']['steps']:>10} {r['ours']['knn_top1']:>8.3f} {r['pytorch']['steps']:>12} "
          f"{r['pytorch']['knn_top1']:>10.3f}")
PY
