"""Reference values for ContrastiveLoss.Clip, computed once with PyTorch and stored as a fixture.

Run with Debian's Python and PyTorch 1.13:
    /usr/bin/python3 tests/reference/train_loss_reference.py
Writes tests/DataflowContrastive.Tests/Fixtures/Train/clip_loss.json: each case holds its float32 inputs, the loss,
and the gradients of the loss with respect to the image features and the logit scale.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[1] / "DataflowContrastive.Tests" / "Fixtures" / "Train"


def clip_loss(image_features, text_features, logit_scale):
    # CLIP (Radford et al. 2021), as open_clip's ClipLoss, with exp(t) clamped to 100.
    scale = logit_scale.exp().clamp(max=100)
    logits_per_image = scale * image_features @ text_features.t()
    logits_per_text = logits_per_image.t()
    labels = torch.arange(image_features.shape[0])
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2


def case(name, image_features, text_features, logit_scale):
    image_features = image_features.float().clone().requires_grad_(True)
    text_features = text_features.float().clone()
    t = torch.tensor(float(logit_scale), dtype=torch.float32, requires_grad=True)
    loss = clip_loss(image_features, text_features, t)
    loss.backward()
    return {
        "name": name,
        "image_features": image_features.detach().tolist(),
        "text_features": text_features.tolist(),
        "logit_scale": t.item(),
        "loss": loss.item(),
        "grad_image_features": image_features.grad.tolist(),
        "grad_logit_scale": t.grad.item(),
    }


def main():
    torch.manual_seed(1234)
    init = math.log(1 / 0.07)
    normalized = lambda n, d: F.normalize(torch.randn(n, d), dim=-1)
    images = normalized(4, 8)
    cases = [
        case("normalised random features at the initial scale", images, normalized(4, 8), init),
        case("texts equal to their images", images, images, init),
        case("unnormalised features with norms near 1e3", torch.randn(5, 6) * 400, torch.randn(5, 6) * 400, init),
        case("logit scale above the clamp", images, normalized(4, 8), 6.0),
        case("logit scale of zero", normalized(3, 5), normalized(3, 5), 0.0),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "clip_loss.json").write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
