"""Reads an export directory with numpy and checks what a downstream job relies on.

For every shard the manifest lists: each file's SHA-256; for the clip-retrieval layout, that img_emb_N.npy and
text_emb_N.npy are float16 (rows, dimension) with rows equal to the manifest's count and every row of unit length
(within FLOAT16_NORM_TOLERANCE); and that the rows add up to the expected number of good input rows. The Parquet
files (metadata_N.parquet, embeddings-N.parquet) are checked by export_check.mjs with DuckDB, since Debian's Python
has no Parquet reader.

    /usr/bin/python3 tests/reference/export_check.py EXPORT_DIR/embeddings EXPECTED_ROWS
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

# float16 keeps 11 significant bits: each component is within 2^-11 of its float32 value relative to it, so a unit
# row's norm moves by at most about 1e-3.
FLOAT16_NORM_TOLERANCE = 2e-3


def check(directory, expected_rows):
    directory = Path(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    failures = []
    total = 0
    for shard in manifest["shards"]:
        for entry in shard["files"]:
            digest = hashlib.sha256((directory / entry["path"]).read_bytes()).hexdigest()
            if digest != entry["sha256"]:
                failures.append(f"{entry['path']}: sha256 differs from the manifest")
        if manifest["layout"] == "clip-retrieval":
            for kind in ("img", "text"):
                path = directory / f"{kind}_emb" / f"{kind}_emb_{shard['number']}.npy"
                if not path.exists():
                    continue
                array = np.load(path)
                norms = np.linalg.norm(array.astype(np.float64), axis=1)
                if array.dtype != np.float16:
                    failures.append(f"{path.name}: dtype {array.dtype}")
                if array.shape != (shard["rows"], manifest["dimension"]):
                    failures.append(f"{path.name}: shape {array.shape}, manifest says {shard['rows']} rows")
                if np.abs(norms - 1).max() > FLOAT16_NORM_TOLERANCE:
                    failures.append(f"{path.name}: a norm is off by {np.abs(norms - 1).max():.3g}")
                print(f"{path.name}: {array.dtype} {array.shape}, max |norm - 1| = {np.abs(norms - 1).max():.2g}")
        total += shard["rows"]
    if not manifest["complete"]:
        failures.append("the manifest does not say the export is complete")
    if total != expected_rows or manifest["rows"] != expected_rows:
        failures.append(f"{total} rows listed, {expected_rows} expected")
    print(f"{len(manifest['shards'])} shards, {total} rows, layout {manifest['layout']}, "
          f"step {manifest['model']['step']}")
    print("OK: numpy reads the export as expected" if not failures else "\n".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(check(sys.argv[1], int(sys.argv[2])))
