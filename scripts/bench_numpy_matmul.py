"""numpy matmul GFLOP/s on the expert GEMM shapes of ExpertGemmBench (float32 and float64)."""
import time
import numpy as np

for rows, inp, out in [(256, 64, 64), (512, 256, 512)]:
    flops = 2 * rows * inp * out
    for dt in (np.float32, np.float64):
        x = np.random.rand(rows, inp).astype(dt)
        w = np.random.rand(out, inp).astype(dt)
        dy = np.random.rand(rows, out).astype(dt)
        for name, f in [("forward x@w.T", lambda: x @ w.T), ("backwardInput dy@w", lambda: dy @ w), ("backwardWeight dy.T@x", lambda: dy.T @ x)]:
            f()
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 0.5:
                f(); n += 1
            us = (time.perf_counter() - t0) / n * 1e6
            print(f"numpy {np.dtype(dt).name:8s} {rows}x{inp}x{out} {name:22s} {us:9.1f} us/op {flops / us / 1e3:7.2f} GFLOP/s")
