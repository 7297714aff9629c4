#!/usr/bin/env python3
"""Expected MXFP4 values for moe4j's Mxfp4Test, computed with llama.cpp's numpy reference (gguf-py quants.py).

usage: scripts/mxfp4-expected.py LLAMA_CPP_DIR > moe4j-core/src/test/resources/dev/moe4j/kernel/mxfp4-quants-py.txt

Writes seeded random inputs and what quants.py makes of them, one case per line:
  D <34 hex chars: one 17-byte block> <32 float32 bit patterns in hex>   dequantize_blocks
  Q <32 float32 bit patterns in hex> <34 hex chars: the block>           quantize_blocks
Only these numbers are committed; nothing of llama.cpp's code is.
"""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/gguf-py")
from gguf import quants  # noqa: E402
from gguf.constants import GGMLQuantizationType  # noqa: E402

rng = np.random.default_rng(20261129)
out = []
# Random blocks: scales over the whole E8M0 range (edges included), random codes.
scales = np.concatenate([[0, 1, 2, 3, 126, 127, 128, 254, 255], rng.integers(90, 160, 55)]).astype(np.uint8)
blocks = np.concatenate([scales.reshape(-1, 1), rng.integers(0, 256, (len(scales), 16)).astype(np.uint8)], axis=1)
values = quants.dequantize(blocks.reshape(-1), GGMLQuantizationType.MXFP4).reshape(-1, 32).astype(np.float32)
for b, v in zip(blocks, values):
    out.append("D " + b.tobytes().hex() + " " + " ".join(f"{x:08x}" for x in v.view(np.uint32)))
# Random floats of several magnitudes, plus a block with an exact zero and ties between grid points.
floats = [rng.standard_normal(32).astype(np.float32) * np.float32(s) for s in (1e-3, 0.02, 1.0, 3.0, 100.0, 1e6)]
floats.append(np.array([0, 0.25, -0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, -5.0, 6.0, -6.0] + [0.1] * 20, dtype=np.float32))
for f in floats:
    q = quants.quantize(f.reshape(1, 32), GGMLQuantizationType.MXFP4).reshape(-1)
    out.append("Q " + " ".join(f"{x:08x}" for x in f.view(np.uint32)) + " " + q.tobytes().hex())
print("\n".join(out))
