package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.FLOAT;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/** IEEE single precision: rows are copied as they are; the dot product is the plain vector loop. */
final class F32Kernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    F32Kernels() {
        super(DType.F32);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        return seg.get(FLOAT, byteOffset + 4 * i);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        MemorySegment.copy(seg, FLOAT, byteOffset, dst, dstOff, n);
    }

    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        // Two accumulators hide FMA latency.
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int i = 0;
        for (int end = n - n % (2 * L); i < end; i += 2 * L) {
            a0 = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromMemorySegment(F, seg, off + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, xOff + i + L), a1);
        }
        for (int end = n - n % L; i < end; i += L)
            a0 = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += seg.get(FLOAT, off + 4L * i) * x[xOff + i];
        return s;
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        MemorySegment.copy(src, off, dst, FLOAT, dstOff, n);
    }

    @Override
    public int ggufFileType() {
        return 0; // LLAMA_FTYPE_ALL_F32
    }
}
