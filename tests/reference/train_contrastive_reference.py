"""Reference values for ContrastiveLoss.NtXent, .SupCon and .Clip with false-negative handling.

Written from the papers, one anchor at a time in float64, independently of the C# code:
  NT-Xent: Chen et al. 2020 (SimCLR), eq. 1, averaged over all 2N anchors.
  SupCon:  Khosla et al. 2020, eq. 2 (L_out: the mean over positives outside the log), averaged over the anchors
           that have at least one positive; 0 when none has.
  CLIP with duplicates: "positive" spreads each row's target uniformly over itself and its duplicates;
           "masked" removes the duplicates from the softmax denominator.
Run with Debian's Python and PyTorch 1.13:
    /usr/bin/python3 tests/reference/train_contrastive_reference.py
Writes Fixtures/Train/nt_xent.json, supcon.json and clip_false_negatives.json: float32 inputs, the loss, and the
gradient of the loss with respect to the first feature matrix.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[1] / "DataflowContrastive.Tests" / "Fixtures" / "Train"


def log_ratio(sim_row, numerator, denominator_indices):
    # log( exp(s_num) / sum_{k in denominator} exp(s_k) ), through logsumexp.
    return sim_row[numerator] - torch.logsumexp(sim_row[denominator_indices], dim=0)


def nt_xent(views, temperature):
    two_n = views.shape[0]
    n = two_n // 2
    sim = views @ views.t() / temperature
    total = 0
    for i in range(two_n):
        twin = (i + n) % two_n
        others = [k for k in range(two_n) if k != i]
        total = total - log_ratio(sim[i], twin, others)
    return total / two_n


def supcon(features, labels, temperature):
    m = features.shape[0]
    sim = features @ features.t() / temperature
    total = features.sum() * 0
    anchors = 0
    for i in range(m):
        positives = [p for p in range(m) if p != i and labels[p] == labels[i]]
        if not positives:
            continue
        others = [a for a in range(m) if a != i]
        total = total - sum(log_ratio(sim[i], p, others) for p in positives) / len(positives)
        anchors += 1
    return total / anchors if anchors else total


def clip_with_duplicates(image_features, text_features, logit_scale, duplicates, mode):
    n = image_features.shape[0]
    logits_per_image = logit_scale.exp().clamp(max=100) * image_features @ text_features.t()
    logits_per_text = logits_per_image.t()
    same = duplicates | torch.eye(n, dtype=torch.bool)

    def side(logits, same_rows):
        total = 0
        for i in range(n):
            if mode == "positive":
                members = [j for j in range(n) if same_rows[i, j]]
                targets = torch.zeros(n, dtype=logits.dtype)
                targets[members] = 1 / len(members)
                total = total + F.cross_entropy(logits[i : i + 1], targets[None, :])
            else:
                kept = [j for j in range(n) if j == i or not same_rows[i, j]]
                total = total - log_ratio(logits[i], i, kept)
        return total / n

    return (side(logits_per_image, same) + side(logits_per_text, same.t())) / 2


def normalized(*shape):
    return F.normalize(torch.randn(*shape), dim=-1)


def with_gradient(first, loss_of_first):
    x = first.float().double().clone().requires_grad_(True)
    loss = loss_of_first(x)
    loss.backward()
    return loss.item(), x.grad.tolist()


def nt_xent_case(name, views, temperature):
    views = views.float()
    loss, grad = with_gradient(views, lambda v: nt_xent(v, temperature))
    return {"name": name, "views": views.tolist(), "temperature": temperature, "loss": loss, "grad_views": grad}


def supcon_case(name, features, labels, temperature):
    features = features.float()
    loss, grad = with_gradient(features, lambda f: supcon(f, labels, temperature))
    return {"name": name, "features": features.tolist(), "labels": labels, "temperature": temperature,
            "loss": loss, "grad_features": grad}


def clip_case(name, images, texts, logit_scale, duplicates, mode):
    images, texts = images.float(), texts.float()
    t = torch.tensor(float(torch.tensor(logit_scale, dtype=torch.float32)), dtype=torch.float64)
    mask = torch.tensor(duplicates, dtype=torch.bool)
    loss, grad = with_gradient(images, lambda i: clip_with_duplicates(i, texts.double(), t, mask, mode))
    return {"name": name, "image_features": images.tolist(), "text_features": texts.tolist(),
            "logit_scale": float(torch.tensor(logit_scale, dtype=torch.float32)), "duplicates": duplicates,
            "mode": mode, "loss": loss, "grad_image_features": grad}


def main():
    torch.manual_seed(2020)
    same = normalized(1, 6).repeat(6, 1)
    nt_xent_cases = [
        nt_xent_case("random views", normalized(6, 5), 0.5),
        nt_xent_case("identical embeddings", same, 0.1),
        nt_xent_case("all-zero embeddings", torch.zeros(4, 3), 0.5),
        nt_xent_case("very large logits", normalized(4, 5), 0.001),
    ]
    labels = [0, 0, 1, 1, 1, 2, 3, 3]
    supcon_cases = [
        supcon_case("random features with one anchor lacking positives", normalized(8, 5), labels, 0.1),
        supcon_case("identical embeddings", normalized(1, 4).repeat(5, 1), [0, 0, 1, 1, 2], 0.1),
        supcon_case("all-zero embeddings", torch.zeros(5, 4), [0, 0, 1, 1, 2], 0.07),
        supcon_case("no anchor has a positive", normalized(4, 4), [0, 1, 2, 3], 0.1),
        supcon_case("very large logits", normalized(6, 4), [0, 1, 0, 1, 2, 2], 0.001),
    ]
    dup = [[False] * 5 for _ in range(5)]
    for a, b in [(0, 2), (1, 3), (1, 4), (3, 4)]:
        dup[a][b] = dup[b][a] = True
    none = [[False] * 4 for _ in range(4)]
    all_same = [[i != j for j in range(4)] for i in range(4)]
    init = math.log(1 / 0.07)
    images5, texts5 = normalized(5, 6), normalized(5, 6)
    clip_cases = []
    for mode in ["positive", "masked"]:
        clip_cases += [
            clip_case(f"{mode}: duplicates in the batch", images5, texts5, init, dup, mode),
            clip_case(f"{mode}: no duplicates equals plain CLIP", images5[:4], texts5[:4], init, none, mode),
            clip_case(f"{mode}: identical embeddings, all duplicates", same[:4], same[:4], init, all_same, mode),
            clip_case(f"{mode}: all-zero embeddings", torch.zeros(5, 6), torch.zeros(5, 6), init, dup, mode),
            clip_case(f"{mode}: very large logits", torch.randn(5, 6) * 300, torch.randn(5, 6) * 300, init, dup, mode),
            clip_case(f"{mode}: logit scale above the clamp", images5, texts5, 7.5, dup, mode),
        ]
    # The lowest loss.temperature a pipeline file accepts; drawn last, so the cases above keep their inputs.
    nt_xent_cases.append(nt_xent_case("temperature at its clamp", normalized(6, 5), 0.01))
    supcon_cases.append(supcon_case("temperature at its clamp", normalized(8, 5), labels, 0.01))
    OUT.mkdir(parents=True, exist_ok=True)
    for file, cases in [("nt_xent.json", nt_xent_cases), ("supcon.json", supcon_cases),
                        ("clip_false_negatives.json", clip_cases)]:
        (OUT / file).write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1) + "\n")
        for c in cases:
            print(file, c["name"], c["loss"])


if __name__ == "__main__":
    main()
