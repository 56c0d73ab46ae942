"""Reference values for the evaluation metrics and the held-out split, computed once and stored as a fixture.

Run with Debian's Python and PyTorch 1.13:
    /usr/bin/python3 tests/reference/host_eval_reference.py
Writes tests/DataflowContrastive.Tests/Fixtures/Host/host_eval_reference.json holding fixed float32 embeddings and:
- recall@1, @5, @10 in both directions (a query's partner counts as within the top k when fewer than k other rows
  score at least as high as it);
- weighted k-NN top-1 accuracy (Wu et al. 2018: the k most similar memory rows vote with weight exp(s / 0.07); equal
  similarities keep the memory's order; a tie between labels' totals goes to the label that sorts first);
- the mean and minimum over dimensions of the per-dimension standard deviation (torch.std, N - 1) of the
  L2-normalised rows;
- the held-out split: a key's place is the first 8 bytes of SHA-256(UTF-8 key), big-endian, divided by 2**64.
"""
import hashlib
import json
import math
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[1] / "DataflowContrastive.Tests" / "Fixtures" / "Host"


def recall(queries, targets, k):
    sims = queries @ targets.t()
    partner = sims.diag().unsqueeze(1)
    others = (sims >= partner).sum(dim=1) - 1
    return (others < k).double().mean().item()


def knn_top1(memory, memory_labels, queries, query_labels, k):
    sims = queries @ memory.t()
    k = min(k, memory.shape[0])
    correct = 0
    for q in range(queries.shape[0]):
        row = sims[q].tolist()
        order = sorted(range(len(row)), key=lambda m: (-row[m], m))[:k]
        votes = {}
        for m in order:
            votes[memory_labels[m]] = votes.get(memory_labels[m], 0.0) + math.exp(row[m] / 0.07)
        best = max(sorted(votes), key=lambda label: votes[label])  # max keeps the first of equal totals
        correct += best == query_labels[q]
    return correct / queries.shape[0]


def spread(rows):
    std = F.normalize(rows, dim=1).std(dim=0)
    return {"mean": std.mean().item(), "min": std.min().item()}


def place(key):
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64


def main():
    torch.manual_seed(20261203)
    n, d = 30, 8
    images = F.normalize(torch.randn(n, d), dim=1)
    texts = F.normalize(images + 0.8 * torch.randn(n, d), dim=1)

    centres = F.normalize(torch.randn(4, d), dim=1)
    memory_labels = [str(i % 4) for i in range(40)]
    memory = F.normalize(centres[[i % 4 for i in range(40)]] + 0.6 * torch.randn(40, d), dim=1)
    query_classes = [i % 5 for i in range(25)]  # class 4 has no memory row
    query_labels = [str(c) for c in query_classes]
    query_centres = torch.cat([centres, F.normalize(torch.randn(1, d), dim=1)])
    queries = F.normalize(query_centres[query_classes] + 0.6 * torch.randn(25, d), dim=1)

    unnormalised = torch.randn(50, d) * 3 + 1
    keys = [f"coco-cc-{i // 17:05d}.parquet:{i % 17}" for i in range(40)] + ["猫 🐈", "", "000000391895"]

    fixture = {
        "torch": torch.__version__,
        "dimension": d,
        "images": images.flatten().tolist(),
        "texts": texts.flatten().tolist(),
        "recall": {
            f"image_to_text_at_{k}": recall(images, texts, k) for k in (1, 5, 10)
        } | {
            f"text_to_image_at_{k}": recall(texts, images, k) for k in (1, 5, 10)
        },
        "memory": memory.flatten().tolist(),
        "memory_labels": memory_labels,
        "queries": queries.flatten().tolist(),
        "query_labels": query_labels,
        "knn": {str(k): knn_top1(memory, memory_labels, queries, query_labels, k) for k in (1, 5, 20, 100)},
        "unnormalised": unnormalised.flatten().tolist(),
        "spread": spread(unnormalised),
        "keys": keys,
        "places": [place(key) for key in keys],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "host_eval_reference.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
