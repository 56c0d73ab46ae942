"""Reference output of one text Transformer block (ResidualAttentionBlock), computed once with PyTorch.

The block is built from PyTorch's own modules: LayerNorm, nn.MultiheadAttention with a causal mask (whose packed
in_proj weight has the layout of our attn_qkv: query, key, value stacked, heads contiguous within each), and a
Linear-GELU-Linear MLP, with pre-norm residuals as in CLIP.
Run with Debian's Python and PyTorch 1.13:
    /usr/bin/python3 tests/reference/train_block_reference.py
Writes Fixtures/Train/attention_block.json: width, heads, every weight under our parameter names, input and output.
"""
import json
import pathlib

import torch
import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parents[1] / "DataflowContrastive.Tests" / "Fixtures" / "Train"


def main():
    torch.manual_seed(7)
    width, heads, length, batch = 8, 2, 5, 2
    ln_1, ln_2 = nn.LayerNorm(width), nn.LayerNorm(width)
    attn = nn.MultiheadAttention(width, heads, batch_first=True)
    mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
    with torch.no_grad():
        # Random affine norms and attention biases, so that every parameter matters to the output.
        for p in [ln_1.weight, ln_1.bias, ln_2.weight, ln_2.bias, attn.in_proj_bias, attn.out_proj.bias]:
            p.copy_(torch.randn_like(p) * 0.5 + (1 if p is ln_1.weight or p is ln_2.weight else 0))

    x = torch.randn(batch, length, width)
    causal = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
    with torch.no_grad():
        h = ln_1(x)
        y = x + attn(h, h, h, attn_mask=causal, need_weights=False)[0]
        y = y + mlp(ln_2(y))

    parameters = {
        "ln_1.weight": ln_1.weight, "ln_1.bias": ln_1.bias,
        "attn_qkv.weight": attn.in_proj_weight, "attn_qkv.bias": attn.in_proj_bias,
        "attn_out.weight": attn.out_proj.weight, "attn_out.bias": attn.out_proj.bias,
        "ln_2.weight": ln_2.weight, "ln_2.bias": ln_2.bias,
        "mlp.c_fc.weight": mlp[0].weight, "mlp.c_fc.bias": mlp[0].bias,
        "mlp.c_proj.weight": mlp[2].weight, "mlp.c_proj.bias": mlp[2].bias,
    }
    fixture = {
        "torch": torch.__version__, "width": width, "heads": heads, "shape": list(x.shape),
        "parameters": {name: p.detach().flatten().tolist() for name, p in parameters.items()},
        "input": x.flatten().tolist(), "output": y.flatten().tolist(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "attention_block.json").write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()
