"""Throughput of the torchvision SimCLR pipeline, the peer that DataflowContrastive.Augment is measured against.

Run with Debian's Python (PyTorch 1.13, torchvision 0.14, Pillow 9.4):

    /usr/bin/python3 bench/augment_peer.py --size 224 --workers 2 FILE_OR_FOLDER...

A DataLoader with N worker processes decodes each file with Pillow and applies RandomResizedCrop (bicubic, as
our default), RandomHorizontalFlip, RandomApply(ColorJitter(0.8, 0.8, 0.8, 0.2), p=0.8), RandomGrayscale(0.2),
RandomApply(GaussianBlur(odd tenth of the side, sigma 0.1-2), p=0.5), ToTensor and Normalize (CLIP's). One
untimed warm-up pass, then PASSES timed passes; prints one JSON object with images per second.
"""

import argparse
import glob
import json
import os
import time

import torch
import torchvision.transforms as T
from PIL import Image

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def simclr(size):
    kernel = max(3, size // 10)
    kernel += 1 - kernel % 2
    return T.Compose([
        T.RandomResizedCrop(size, scale=(0.08, 1.0), interpolation=T.InterpolationMode.BICUBIC),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomApply([T.GaussianBlur(kernel, sigma=(0.1, 2.0))], p=0.5),
        T.ToTensor(),
        T.Normalize(CLIP_MEAN, CLIP_STD),
    ])


class Files(torch.utils.data.Dataset):
    def __init__(self, files, transform):
        self.files, self.transform = files, transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as img:
            return self.transform(img.convert("RGB"))


def expand(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(f for f in glob.glob(os.path.join(p, "**", "*"), recursive=True)
                            if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp")))
        else:
            files.append(p)
    return files


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()

    torch.set_num_threads(1)
    files = expand(args.paths)
    loader = torch.utils.data.DataLoader(Files(files, simclr(args.size)), batch_size=args.batch,
                                         num_workers=args.workers, persistent_workers=args.workers > 0)
    for _ in loader:
        pass
    start = time.perf_counter()
    count = 0
    for _ in range(args.passes):
        for batch in loader:
            count += batch.shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({"peer": "torchvision", "recipe": "simclr", "size": args.size, "workers": args.workers,
                      "images": count, "seconds": round(seconds, 3), "images_per_second": round(count / seconds, 1)}))


if __name__ == "__main__":
    main()
