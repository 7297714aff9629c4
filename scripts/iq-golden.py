#!/usr/bin/env python3
"""Writes the expected dequantisations that IQuantsGoldenTest compares moe4j's i-quant kernels with, computed
by llama.cpp's own numpy reference (gguf-py/gguf/quants.py) on seeded random blocks. Run it with a llama.cpp
checkout; only its output (data) is committed:

    scripts/iq-golden.py /path/to/llama.cpp moe4j-core/src/test/resources/dev/moe4j/kernel/iq-golden

One file per type, TYPE.bin, little-endian:
    int32 R, int32 C                      random blocks, grid-coverage blocks
    (R + C) blocks of the type's bytes    R random blocks first
    R * 256 float32                        numpy's values of the random blocks, bit for bit
    32 bytes                               SHA-256 of numpy's values (float32 LE) of the C coverage blocks
Random blocks are random bytes with the f16 scale d set to edge values (0, -0, smallest and largest subnormal,
largest finite, its negative, infinity, 1) and then to random finite ones. Coverage blocks are random bytes
whose grid indices run through every grid entry once, so every entry of the grid is checked.
"""
import hashlib
import struct
import sys

import numpy as np

if len(sys.argv) != 3:
    sys.exit("usage: iq-golden.py LLAMA_CPP_DIR OUT_DIR")
sys.path.insert(0, sys.argv[1].rstrip("/") + "/gguf-py")
from gguf import quants  # noqa: E402
from gguf.constants import GGMLQuantizationType as Q  # noqa: E402

EDGE_D = [0x0000, 0x8000, 0x0001, 0x03FF, 0x7BFF, 0xFBFF, 0x7C00, 0x3C00]
RANDOM_BLOCKS = 4  # after the edge ones
# type: (block bytes, grid entries, entries per group of 8 values)
TYPES = {
    "IQ2_XXS": (Q.IQ2_XXS, 66, 256, 1), "IQ2_XS": (Q.IQ2_XS, 74, 512, 1), "IQ2_S": (Q.IQ2_S, 82, 1024, 1),
    "IQ3_XXS": (Q.IQ3_XXS, 98, 256, 2), "IQ3_S": (Q.IQ3_S, 110, 512, 2),
    "IQ1_S": (Q.IQ1_S, 50, 2048, 1), "IQ1_M": (Q.IQ1_M, 56, 2048, 1),
}


def set_d(name, blk, bits):
    if name == "IQ1_M":  # d is the top nibbles of the four 16-bit scale words at 48..55
        for i in range(4):
            word = struct.unpack_from("<H", blk, 48 + 2 * i)[0] & 0x0FFF | (bits >> 4 * i & 0xF) << 12
            struct.pack_into("<H", blk, 48 + 2 * i, word)
    else:
        struct.pack_into("<H", blk, 0, bits)


def set_index(name, blk, g, e):
    """Makes the grid index of group g (of 8 values; for IQ3 of the 4-value half g) e."""
    lo, hi = e & 0xFF, e >> 8
    if name == "IQ2_XXS":
        blk[2 + 8 * (g // 4) + g % 4] = lo
    elif name == "IQ2_XS":
        w = struct.unpack_from("<H", blk, 2 + 2 * g)[0]
        struct.pack_into("<H", blk, 2 + 2 * g, w & ~511 | e)
    elif name == "IQ2_S":
        blk[2 + g] = lo
        blk[66 + g // 4] = blk[66 + g // 4] & ~(3 << 2 * (g % 4)) | hi << 2 * (g % 4)
    elif name == "IQ3_XXS":
        blk[2 + g] = lo
    elif name == "IQ3_S":
        blk[2 + g] = lo
        blk[66 + g // 8] = blk[66 + g // 8] & ~(1 << g % 8) | hi << g % 8
    elif name == "IQ1_S":
        blk[2 + g] = lo
        w = struct.unpack_from("<H", blk, 34 + 2 * (g // 4))[0]
        struct.pack_into("<H", blk, 34 + 2 * (g // 4), w & ~(7 << 3 * (g % 4)) | hi << 3 * (g % 4))
    elif name == "IQ1_M":
        blk[g] = lo
        sh = 4 * (g % 2)
        blk[32 + g // 2] = blk[32 + g // 2] & ~(7 << sh) | hi << sh


def finite_random_d(rng):
    while True:
        bits = int(rng.integers(0, 1 << 16))
        if bits & 0x7C00 != 0x7C00:
            return bits


def main():
    out = sys.argv[2]
    rng = np.random.default_rng(20261129)
    for name, (qtype, nbytes, entries, per_group) in TYPES.items():
        blocks = []
        for d in EDGE_D + [None] * RANDOM_BLOCKS:
            blk = bytearray(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes())
            set_d(name, blk, finite_random_d(rng) if d is None else d)
            blocks.append(blk)
        slots = 32 * per_group  # indices per block
        coverage = []
        for first in range(0, entries, slots):
            blk = bytearray(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes())
            set_d(name, blk, 0x3C00)  # d = 1: the grid values themselves, times scales
            for g in range(slots):
                set_index(name, blk, g, (first + g) % entries)
            coverage.append(blk)
        random_values = quants.dequantize(np.frombuffer(b"".join(blocks), dtype=np.uint8), qtype).astype("<f4")
        coverage_values = quants.dequantize(np.frombuffer(b"".join(coverage), dtype=np.uint8), qtype).astype("<f4")
        with open("%s/%s.bin" % (out, name), "wb") as f:
            f.write(struct.pack("<ii", len(blocks), len(coverage)))
            f.write(b"".join(blocks) + b"".join(coverage))
            f.write(random_values.tobytes())
            f.write(hashlib.sha256(coverage_values.tobytes()).digest())
        print(name, len(blocks), "random blocks,", len(coverage), "coverage blocks")


main()
