"""Reference pixels for the Augment tests, computed once with Pillow 9.4 and torchvision 0.14.

Run with Debian's Python (/usr/bin/python3) from the repository root:

    /usr/bin/python3 tests/reference/augment_reference.py

It writes tests/DataflowContrastive.Tests/Fixtures/Augment/: one manifest.json describing every case, and beside it
raw little-endian files: *.rgb (uint8, height x width x 3) for decoded pictures and *.f32 (float32, 3 x S x S) for
transform outputs. The C# tests read these and never the other way round.
"""

import json
import os

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image, ImageOps
import PIL

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(REPO), "shared")
OUT = os.path.join(REPO, "tests", "DataflowContrastive.Tests", "Fixtures", "Augment")
BUGS = os.path.join(SHARED, "bugs", "images")
SKIMAGE = os.path.join(SHARED, "data", "skimage-clip")

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
BACKGROUND = (255, 255, 255)

manifest = {
    "generator": f"Pillow {PIL.__version__}, torchvision {torchvision.__version__}, torch {torch.__version__}",
    "mean": CLIP_MEAN,
    "std": CLIP_STD,
    "background": list(BACKGROUND),
    "decode": [],
    "rejected": [],
    "transform": [],
    "ops": {},
}


def save_rgb(name, img):
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    arr.tofile(os.path.join(OUT, name))
    return arr.shape[1], arr.shape[0]


def save_f32(name, tensor):
    tensor.contiguous().numpy().astype("<f4").tofile(os.path.join(OUT, name))


def decode_case(file, how, img):
    name = os.path.basename(file).rsplit(".", 1)[0] + ".rgb"
    width, height = save_rgb(name, img)
    manifest["decode"].append(
        {"source": os.path.relpath(file, SHARED), "pillow": how, "rgb": name, "width": width, "height": height})


def composite(img):
    """Pillow's alpha_composite of the picture over an opaque background of BACKGROUND."""
    rgba = img.convert("RGBA")
    background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
    return Image.alpha_composite(background, rgba).convert("RGB")


def decode_cases():
    def bug(name):
        return os.path.join(BUGS, name)

    cmyk = bug("pillow__pil_sample_cmyk.jpg")
    decode_case(cmyk, 'Image.open(f).convert("RGB")', Image.open(cmyk).convert("RGB"))
    for name in ["pillow__hopper_orientation_6.jpg", "pillow__orientation_rectangle.jpg"]:
        f = bug(name)
        decode_case(f, 'ImageOps.exif_transpose(Image.open(f)).convert("RGB")',
                    ImageOps.exif_transpose(Image.open(f)).convert("RGB"))
    f = bug("pillow__exif-dpi-zerodivision.jpg")
    decode_case(f, 'ImageOps.exif_transpose(Image.open(f)).convert("RGB")',
                ImageOps.exif_transpose(Image.open(f)).convert("RGB"))
    f = bug("pillow__p_trns_single.png")
    decode_case(f, "Image.alpha_composite(white, Image.open(f).convert('RGBA'))", composite(Image.open(f)))
    f = bug("libjpegturbo__monkey16.png")
    decode_case(f, 'Image.open(f).convert("RGB")', Image.open(f).convert("RGB"))
    f = bug("pillow__iss634.gif")
    gif = Image.open(f)
    gif.seek(0)
    decode_case(f, 'Image.open(f) at frame 0, convert("RGB")', gif.convert("RGB"))

    # WebP bytes behind a .png name: the format must come from the bytes. Lossless, so Pillow's pixels are exact.
    webp = os.path.join(OUT, "webp_bytes_named.png")
    Image.open(os.path.join(SKIMAGE, "chelsea.png")).convert("RGB").crop((200, 60, 264, 108)).save(
        webp, format="WEBP", lossless=True)
    img = Image.open(webp)
    assert img.format == "WEBP"
    decode_case(webp, 'Image.open(f).convert("RGB") of a lossless WebP written by Pillow', img.convert("RGB"))
    manifest["decode"][-1]["source"] = None
    manifest["decode"][-1]["fixture"] = "webp_bytes_named.png"

    # Grayscale progressive JPEG and 4:2:0 progressive colour JPEG, both written by Pillow.
    crop = Image.open(os.path.join(SKIMAGE, "chelsea.png")).convert("RGB").crop((150, 40, 246, 112))
    for name, img in [("gray_progressive.jpg", crop.convert("L")), ("color_progressive.jpg", crop)]:
        path = os.path.join(OUT, name)
        img.save(path, format="JPEG", quality=85, progressive=True)
        decode_case(path, f'Image.open(f).convert("RGB") of a progressive JPEG written by Pillow',
                    Image.open(path).convert("RGB"))
        manifest["decode"][-1]["source"] = None
        manifest["decode"][-1]["fixture"] = name

    for name in ["pillow__truncated_jpeg.jpg", "pillow__truncated_image.png", "pillow__reallybig.bmp"]:
        f = bug(name)
        try:
            Image.open(f).load()
            outcome = "loaded"
        except Exception as e:  # noqa: BLE001 - the message is what we record
            outcome = f"{type(e).__name__}: {e}"
        manifest["rejected"].append({"source": os.path.relpath(f, SHARED), "pillow": outcome})


def normalise(img):
    return F.normalize(F.to_tensor(img), CLIP_MEAN, CLIP_STD)


def transform_cases():
    size = 96
    # rocket_small: a crop small enough that only its region of the JPEG is decoded.
    path = os.path.join(SKIMAGE, "rocket.jpg")
    top, left, height, width = 100, 200, 150, 180
    out = F.resized_crop(Image.open(path).convert("RGB"), top, left, height, width, [size, size],
                         T.InterpolationMode.BICUBIC)
    save_f32("train_rocket_small.f32", normalise(out))
    manifest["transform"].append({
        "kind": "train", "source": os.path.relpath(path, SHARED), "size": size, "flip": False, "top": top,
        "left": left, "height": height, "width": width, "interpolation": "bicubic", "f32": "train_rocket_small.f32"})

    for file, box in [("rocket.jpg", (20, 60, 400, 520)), ("coffee.png", (10, 150, 350, 300))]:
        path = os.path.join(SKIMAGE, file)
        img = Image.open(path).convert("RGB")
        top, left, height, width = box
        for flip in [False, True]:
            out = F.resized_crop(img, top, left, height, width, [size, size], T.InterpolationMode.BICUBIC)
            if flip:
                out = F.hflip(out)
            name = f"train_{os.path.splitext(file)[0]}{'_flip' if flip else ''}.f32"
            save_f32(name, normalise(out))
            manifest["transform"].append({
                "kind": "train", "source": os.path.relpath(path, SHARED), "size": size, "flip": flip,
                "top": top, "left": left, "height": height, "width": width, "interpolation": "bicubic",
                "f32": name})
        evaluate = T.Compose([
            T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size),
            T.ToTensor(), T.Normalize(CLIP_MEAN, CLIP_STD)])
        name = f"eval_{os.path.splitext(file)[0]}.f32"
        save_f32(name, evaluate(img))
        manifest["transform"].append({
            "kind": "eval", "source": os.path.relpath(path, SHARED), "size": size, "interpolation": "bicubic",
            "f32": name})


def op_cases():
    """torchvision's functional ops on a PIL image, for fixed parameters, from one 64x64 base picture."""
    base = Image.open(os.path.join(SKIMAGE, "astronaut.png")).convert("RGB").resize((64, 64), Image.BICUBIC)
    save_rgb("ops_base.rgb", base)
    ops = {"base": "ops_base.rgb", "size": 64, "cases": []}

    def case(name, op, params, out):
        file = f"op_{name}.rgb"
        save_rgb(file, out)
        ops["cases"].append({"name": name, "op": op, "params": params, "rgb": file})

    for f in [0.35, 1.7]:
        case(f"brightness_{f}", "brightness", [f], F.adjust_brightness(base, f))
    for f in [0.5, 1.6]:
        case(f"contrast_{f}", "contrast", [f], F.adjust_contrast(base, f))
    for f in [0.3, 1.8]:
        case(f"saturation_{f}", "saturation", [f], F.adjust_saturation(base, f))
    for f in [-0.5, -0.15, 0.2, 0.5]:
        case(f"hue_{f}", "hue", [f], F.adjust_hue(base, f))
    case("grayscale", "grayscale", [], F.rgb_to_grayscale(base, num_output_channels=3))
    case("solarize_128", "solarize", [128], F.solarize(base, 128))
    for k, sigma in [(7, 0.6), (9, 2.0), (23, 1.3)]:
        case(f"blur_{k}_{sigma}", "blur", [k, sigma], F.gaussian_blur(base, [k, k], [sigma, sigma]))

    # ColorJitter with its random draws fixed: the order is torch.randperm's, the factors its uniforms.
    order, factors = [2, 0, 3, 1], [1.3, 0.7, 1.5, -0.1]
    out = base
    for fn_id in order:
        fn = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue][fn_id]
        out = fn(out, factors[fn_id])
    case("jitter_2031", "jitter", order + factors, out)
    manifest["ops"] = ops


def main():
    os.makedirs(OUT, exist_ok=True)
    decode_cases()
    transform_cases()
    op_cases()
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main()
