#!/usr/bin/env bash
# Makes the arithmetic-coded JPEG fixtures with libjpeg-turbo's own tools (Debian: libjpeg-turbo-progs):
# one synthetic 80x60 picture, coded with Huffman and with arithmetic coding, and djpeg's decode as the reference.
set -euo pipefail
out="$(dirname "$0")/../DataflowContrastive.Tests/Fixtures/Augment"
tmp=$(mktemp -d)
/usr/bin/python3 - "$tmp/synth.ppm" <<'PY'
import sys
w, h = 80, 60
pixels = bytes(v for y in range(h) for x in range(w) for v in ((x * 3) % 256, (y * 4) % 256, ((x + y) * 2) % 256))
open(sys.argv[1], "wb").write(b"P6 %d %d 255\n" % (w, h) + pixels)
PY
cjpeg -quality 90 "$tmp/synth.ppm" > "$out/small_huffman.jpg"
cjpeg -quality 90 -arithmetic "$tmp/synth.ppm" > "$out/small_arithmetic.jpg"
djpeg -ppm "$out/small_huffman.jpg" > "$out/small_djpeg.ppm"
rm -rf "$tmp"
