"""The PyTorch peer for the learning figures: the recipe of pipelines/simclr-cifar10.yaml or supcon-cifar10.yaml,
trained with PyTorch for a fixed time on a fixed number of CPU threads, then scored by kNN accuracy.

Run with Debian's Python (PyTorch 1.13, torchvision 0.14, Pillow 9.4), after nothing else:

    /usr/bin/python3 bench/learn_peer.py --mode simclr --minutes 5 --threads 2 [CIFAR_TEST_DIR]

Data: the CIFAR-10 test set's class folders (default ../shared/data/cifar10-test from the repository root). The
training split is the first 100 images of each class in file-name order and the held-out split the next 50: the
same images scripts/cifar-sample.sh packs into samples/cifar10 and samples/cifar10-heldout (Debian's Python has no
Parquet reader, so the files are read directly). All images are decoded once, up front, and kept in memory.

Recipe, as ours:
- Encoder: stride-2 stages of Conv2d(3x3, no bias), GroupNorm (at least 4 channels per group, at most 32 groups, as
  many as divide the width) and ReLU, one per width of --widths, then a global average pool (the backbone, whose
  output h is what is evaluated); head Linear(w, w), ReLU, Linear(w, --embed-dim) (what the loss sees).
- Augmentations (torchvision): RandomResizedCrop (bicubic; scale from 0.08 for simclr, 0.2 for supcon; ratio 3/4-4/3),
  RandomHorizontalFlip, RandomApply(ColorJitter(0.8, 0.8, 0.8, 0.2) for simclr, (0.4, 0.4, 0.4, 0.1) for supcon,
  p=0.8), RandomGrayscale(0.2), no blur (as the CIFAR-10 pipelines), ToTensor, Normalize (CIFAR-10's mean and std).
- Batches: simclr takes --batch images in a seeded shuffled order, two views each (last partial batch dropped);
  supcon forms class-balanced batches of --classes x --per-class from the same kind of shuffled stream, as
  dfc's ClassBalancedBatcher does (samples wait per class until P classes have K; leftovers of an epoch are dropped).
- Loss: NT-Xent (SimCLR) or SupCon L_out (Khosla et al. 2020) on the head's L2-normalised output, --temperature.
- Optimiser: AdamW (betas 0.9/0.98, eps 1e-6), weight decay on tensors of 2 or more dimensions only, linear warm-up
  for --warmup steps then cosine decay to 0 at --steps. Training stops at --steps or after --minutes, whichever
  comes first; the JSON says which.

Evaluation: every image of both splits through the evaluation transform (Resize of the shorter side to --size,
CenterCrop, Normalize: the identity on 32x32 images but for the normalisation), the backbone's h, L2-normalised.
Memory = the training split, queries = the held-out split. Each query takes its --k nearest memory rows by cosine
similarity; each votes for its label with weight exp(similarity / --knn-temperature) (the weighted kNN of Wu et al.
2018, as the SimCLR and MoCo kNN monitors); the class with the largest total wins. Top-1 accuracy is printed, with
the run's figures, as one JSON object.
"""

import argparse
import json
import math
import os
import pathlib
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

CIFAR_MEAN = [0.4914, 0.4822, 0.4465]
CIFAR_STD = [0.2470, 0.2435, 0.2616]
EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


def groups_for(width):
    for groups in range(min(32, width // 4), 1, -1):
        if width % groups == 0:
            return groups
    return 1


class Model(nn.Module):
    def __init__(self, widths, embed_dim):
        super().__init__()
        stages, channels = [], 3
        for width in widths:
            stages += [nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False),
                       nn.GroupNorm(groups_for(width), width), nn.ReLU()]
            channels = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(), nn.Linear(channels, embed_dim))

    def represent(self, x):
        return self.stages(x).mean(dim=(2, 3))

    def project(self, x):
        return F.normalize(self.head(self.represent(x)), dim=-1)


def nt_xent(z, temperature):
    two_n = z.shape[0]
    logits = (z @ z.t() / temperature).masked_fill(torch.eye(two_n, dtype=torch.bool), float("-inf"))
    twins = (torch.arange(two_n) + two_n // 2) % two_n
    return F.cross_entropy(logits, twins)


def supcon(z, labels, temperature):
    m = z.shape[0]
    self_mask = torch.eye(m, dtype=torch.bool)
    positives = labels[:, None].eq(labels[None, :]) & ~self_mask
    log_prob = (z @ z.t() / temperature).masked_fill(self_mask, float("-inf")).log_softmax(dim=1)
    count = positives.sum(1)
    mean_log_prob_pos = log_prob.masked_fill(~positives, 0).sum(1) / count.clamp(min=1)
    has = count > 0
    return -(mean_log_prob_pos[has]).sum() / has.sum().clamp(min=1)


def learning_rate(step, warmup, total, peak):
    if step >= total:
        return 0.0
    if step < warmup:
        return peak * (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) * peak


def load_splits(root, train_per_class, heldout_per_class):
    classes = sorted(d.name for d in pathlib.Path(root).iterdir() if d.is_dir())
    train, heldout = [], []
    for label, name in enumerate(classes):
        files = sorted(f for f in (pathlib.Path(root) / name).iterdir() if f.suffix.lower() in EXTENSIONS)
        for i, file in enumerate(files[:train_per_class + heldout_per_class]):
            image = Image.open(file).convert("RGB")
            (train if i < train_per_class else heldout).append((image, label))
    return train, heldout


def train_transform(mode, size):
    jitter = (0.8, 0.8, 0.8, 0.2) if mode == "simclr" else (0.4, 0.4, 0.4, 0.1)
    return T.Compose([
        T.RandomResizedCrop(size, scale=(0.08 if mode == "simclr" else 0.2, 1.0),
                            interpolation=T.InterpolationMode.BICUBIC),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(*jitter)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.ToTensor(),
        T.Normalize(CIFAR_MEAN, CIFAR_STD),
    ])


def batches(mode, train, args, rng):
    """Endless stream of lists of sample indices, epoch after epoch."""
    while True:
        order = list(range(len(train)))
        rng.shuffle(order)
        if mode == "simclr":
            for start in range(0, len(order) - args.batch + 1, args.batch):
                yield order[start:start + args.batch]
            continue
        waiting, ready = {}, []
        for index in order:
            label = train[index][1]
            queue = waiting.setdefault(label, [])
            queue.append(index)
            if len(queue) == args.per_class:
                ready.append(label)
            if len(ready) == args.classes:
                batch = []
                for c in ready:
                    batch += waiting[c][:args.per_class]
                    waiting[c] = waiting[c][args.per_class:]
                ready = [c for c in ready if len(waiting[c]) >= args.per_class]
                yield batch


def embed(model, images, size):
    transform = T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size),
                           T.ToTensor(), T.Normalize(CIFAR_MEAN, CIFAR_STD)])
    model.eval()
    with torch.no_grad():
        rows = [model.represent(torch.stack([transform(im) for im, _ in images[i:i + 256]]))
                for i in range(0, len(images), 256)]
    return F.normalize(torch.cat(rows), dim=-1)


def knn_top1(memory, memory_labels, queries, query_labels, k, temperature, classes):
    similarity = queries @ memory.t()
    top, indices = similarity.topk(min(k, memory.shape[0]), dim=1)
    votes = torch.zeros(queries.shape[0], classes)
    votes.scatter_add_(1, memory_labels[indices], (top / temperature).exp())
    return (votes.argmax(1) == query_labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(pathlib.Path(__file__).resolve().parents[1].parent
                                                       / "shared" / "data" / "cifar10-test"))
    parser.add_argument("--mode", choices=["simclr", "supcon"], default="simclr")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--train-per-class", type=int, default=100)
    parser.add_argument("--heldout-per-class", type=int, default=50)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--widths", default="32,64,128")
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64, help="simclr: images per batch")
    parser.add_argument("--classes", type=int, default=10, help="supcon: classes per batch (P)")
    parser.add_argument("--per-class", type=int, default=6, help="supcon: images of each class per batch (K)")
    parser.add_argument("--temperature", type=float, default=None, help="default 0.5 (simclr) or 0.1 (supcon)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=300, help="length of the schedule, and the most steps taken")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--knn-temperature", type=float, default=0.07)
    args = parser.parse_args()
    temperature = args.temperature or (0.5 if args.mode == "simclr" else 0.1)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    train, heldout = load_splits(args.data, args.train_per_class, args.heldout_per_class)
    model = Model([int(w) for w in args.widths.split(",")], args.embed_dim)
    decayed = [p for p in model.parameters() if p.dim() >= 2]
    kept = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": args.weight_decay},
                                   {"params": kept, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    augment = train_transform(args.mode, args.size)

    model.train()
    start = time.monotonic()
    deadline = start + args.minutes * 60
    step, samples, losses = 0, 0, []
    stream = batches(args.mode, train, args, rng)
    while step < args.steps and time.monotonic() < deadline:
        indices = next(stream)
        first = [augment(train[i][0]) for i in indices]
        second = [augment(train[i][0]) for i in indices]
        views = torch.stack(first + second)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.warmup, args.steps, args.lr)
        z = model.project(views)
        if args.mode == "simclr":
            loss = nt_xent(z, temperature)
        else:
            labels = torch.tensor([train[i][1] for i in indices])
            loss = supcon(z, torch.cat([labels, labels]), temperature)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        step += 1
        samples += len(indices)
    seconds = time.monotonic() - start

    memory = embed(model, train, args.size)
    queries = embed(model, heldout, args.size)
    memory_labels = torch.tensor([label for _, label in train])
    query_labels = torch.tensor([label for _, label in heldout])
    classes = int(memory_labels.max().item()) + 1
    accuracy = knn_top1(memory, memory_labels, queries, query_labels, args.k, args.knn_temperature, classes)
    print(json.dumps({
        "peer": "pytorch",
        "torch": torch.__version__,
        "mode": args.mode,
        "threads": args.threads,
        "train_images": len(train),
        "heldout_images": len(heldout),
        "steps": step,
        "stopped_by": "steps" if step >= args.steps else "time",
        "train_seconds": round(seconds, 1),
        "samples_per_second": round(samples / seconds, 1) if seconds > 0 else 0,
        "first_loss": round(losses[0], 4) if losses else None,
        "last_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4) if losses else None,
        "temperature": temperature,
        "knn": {"k": args.k, "temperature": args.knn_temperature, "top1": round(accuracy, 4)},
    }))


if __name__ == "__main__":
    main()
