#!/usr/bin/env python3
"""Copies the i-quant lookup grids out of llama.cpp's ggml/src/ggml-common.h into the text resource that
moe4j-core's IqGrids reads. The grids are part of the GGML file format (a quantised value is an index into
them), so they are data, not code; this script only reformats them.

    scripts/extract-iq-grids.py /path/to/llama.cpp > moe4j-core/src/main/resources/dev/moe4j/kernel/iq-grids.txt
"""
import re
import sys

TABLES = ["iq2xxs_grid", "iq2xs_grid", "iq2s_grid", "iq3xxs_grid", "iq3s_grid", "iq1s_grid"]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: extract-iq-grids.py LLAMA_CPP_DIR")
    path = sys.argv[1].rstrip("/") + "/ggml/src/ggml-common.h"
    text = open(path).read()
    print("# GGML i-quant lookup grids: data of the GGUF format, copied from llama.cpp's ggml/src/ggml-common.h (MIT licence)")
    print("# by scripts/extract-iq-grids.py. Each table: a line 'name entries bytes-per-entry', then the entries as")
    print("# little-endian hex words, eight a line; byte k of an entry is value k of its group.")
    for name in TABLES:
        m = re.search(r"GGML_TABLE_BEGIN\((uint64_t|uint32_t), %s, (\w+)\)(.*?)GGML_TABLE_END" % name, text, re.S)
        if not m:
            sys.exit("%s: table %s not found" % (path, name))
        width = 8 if m.group(1) == "uint64_t" else 4
        values = re.findall(r"0x[0-9a-fA-F]+", m.group(3))
        print("%s %d %d" % (name, len(values), width))
        for i in range(0, len(values), 8):
            print(" ".join(v.lower() for v in values[i:i + 8]))


main()
