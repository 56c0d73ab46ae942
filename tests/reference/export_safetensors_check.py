"""Loads the weights dfc writes as safetensors into an equivalent PyTorch module and checks its embeddings.

The module below mirrors src/Train/Model/*.cs (ClipModel, ImageEncoder, TextEncoder, ResidualAttentionBlock) with
the same parameter names, so load_state_dict(strict=True) also checks that every name and shape matches. The
safetensors file is parsed by hand (Debian 12 has no python3-safetensors): an 8-byte little-endian header length, a
JSON header, then raw little-endian float32 data.

Inputs come from PyTorchCheckInputsTests (images after our evaluation transform, caption tokens, and the embeddings
our model gives for them):

    DFC_EXPORT_CHECK_DIR=/tmp/dfc-check dotnet test --filter FullyQualifiedName~PyTorchCheckInputs
    /usr/bin/python3 tests/reference/export_safetensors_check.py /tmp/dfc-check

Set DFC_EXPORT_CHECK_CHECKPOINT=CHECKPOINT_DIR as well to check a trained checkpoint instead of a tiny random model.
Exit status 0 when every embedding agrees within TOLERANCE.
"""
import json
import math
import struct
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# Largest difference allowed between an embedding component from PyTorch and from dfc (both float32 on a CPU, unit
# length rows); kernels differ in summation order, which costs a few float32 ulps per layer.
TOLERANCE = 1e-5


def load_safetensors(path):
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = OrderedDict()
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", (name, entry["dtype"])
        start, end = entry["data_offsets"]
        array = np.frombuffer(body[start:end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def groups_for(width):
    # At least 4 channels per group, at most 32 groups, as many as divide the width (ImageEncoder.GroupsFor).
    for groups in range(min(32, width // 4), 1, -1):
        if width % groups == 0:
            return groups
    return 1


class ImageEncoder(nn.Module):
    def __init__(self, widths, embed_dim):
        super().__init__()
        layers = OrderedDict()
        channels = 3
        for i, width in enumerate(widths):
            layers[f"conv{i}"] = nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False)
            layers[f"norm{i}"] = nn.GroupNorm(groups_for(width), width)
            layers[f"relu{i}"] = nn.ReLU()
            channels = width
        self.stages = nn.Sequential(layers)
        self.proj = nn.Linear(channels, embed_dim)

    def forward(self, images):
        return self.proj(self.stages(images).mean(dim=(2, 3)))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.attn_qkv = nn.Linear(width, 3 * width)
        self.attn_out = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict(
            c_fc=nn.Linear(width, 4 * width), gelu=nn.GELU(), c_proj=nn.Linear(4 * width, width)))

    def attend(self, x):
        n, length, width = x.shape
        q, k, v = self.attn_qkv(x).view(n, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        # PyTorch 1.13 has no scaled_dot_product_attention: softmax(q k^T / sqrt(d) + causal mask) v, written out.
        scores = q @ k.transpose(-2, -1) / math.sqrt(width // self.heads)
        future = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
        attended = scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v
        return self.attn_out(attended.transpose(1, 2).reshape(n, length, width))

    def forward(self, x):
        x = x + self.attend(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocabulary, context, width, layers, heads, embed_dim):
        super().__init__()
        self.token_embedding = nn.Embedding(vocabulary, width)
        self.positional_embedding = nn.Parameter(torch.empty(context, width))
        self.transformer = nn.ModuleList([ResidualAttentionBlock(width, heads) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.empty(width, embed_dim))

    def forward(self, tokens):
        x = self.token_embedding(tokens) + self.positional_embedding
        for block in self.transformer:
            x = block(x)
        x = self.ln_final(x)
        # The end-of-text marker is the largest id, so argmax finds its position.
        pooled = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]
        return pooled @ self.text_projection


class ClipModel(nn.Module):
    def __init__(self, config, vocabulary):
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(0.0))
        self.visual = ImageEncoder(config["image_widths"], config["embed_dim"])
        self.text = TextEncoder(vocabulary, config["context_length"], config["text_width"], config["text_layers"],
                                config["text_heads"], config["embed_dim"])

    def encode_image(self, images):
        return F.normalize(self.visual(images), dim=-1)

    def encode_text(self, tokens):
        return F.normalize(self.text(tokens), dim=-1)


def main(directory):
    directory = Path(directory)
    config = json.loads((directory / "model.json").read_text())
    weights = load_safetensors(directory / "model.safetensors")
    model = ClipModel(config, vocabulary=weights["text.token_embedding.weight"].shape[0])
    model.load_state_dict(weights, strict=True)
    model.eval()

    images = torch.from_numpy(np.load(directory / "images.npy"))
    tokens = torch.from_numpy(np.load(directory / "tokens.npy"))
    with torch.no_grad():
        image_emb = model.encode_image(images).numpy()
        text_emb = model.encode_text(tokens).numpy()

    failures = []
    for name, ours in (("image", image_emb), ("text", text_emb)):
        theirs = np.load(directory / f"{name}_emb.npy")
        difference = float(np.abs(ours - theirs).max())
        print(f"{name} embeddings {theirs.shape}: max |pytorch - dfc| = {difference:.3g} (tolerance {TOLERANCE})")
        if theirs.shape != ours.shape or not difference <= TOLERANCE:
            failures.append(name)
    print(f"{len(weights)} tensors loaded with strict names; torch {torch.__version__}")
    print("OK" if not failures else f"FAILED: {', '.join(failures)}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
