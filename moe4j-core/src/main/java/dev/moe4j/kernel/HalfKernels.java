package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.I;
import static dev.moe4j.kernel.Species.L;
import static dev.moe4j.kernel.Species.S;

/** The 16-bit float types: IEEE half precision (F16) and bfloat16 (BF16, the top half of a float). */
final class HalfKernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final boolean bf16;

    HalfKernels(DType type) {
        super(type);
        if (type != DType.F16 && type != DType.BF16) throw new IllegalArgumentException(type + " is not a 16-bit float type");
        this.bf16 = type == DType.BF16;
    }

    /** BF16 bits of {@code f}: the top half of the float, rounded to nearest even; NaN stays NaN. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40); // keep it a (quiet) NaN after truncation
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    static float bf16ToFloat(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        short h = seg.get(SHORT, byteOffset + 2 * i);
        return bf16 ? bf16ToFloat(h) : Float.float16ToFloat(h);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        boolean bf16 = this.bf16;   // a local, so the loop's branch on it is plainly invariant
        int i = 0;
        if (S != null) {
            for (int end = n - n % L; i < end; i += L)
                halfToFloat(bf16, seg, byteOffset + 2L * i).intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) dst[dstOff + i] = get(seg, byteOffset, i);
    }

    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (S == null) return referenceDot(seg, off, x, xOff, n);
        boolean bf16 = this.bf16;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int end = n - n % L; i < end; i += L)
            acc = halfToFloat(bf16, seg, off + 2L * i).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += get(seg, off, i) * x[xOff + i];
        return s;
    }

    /** L half-precision values (BF16 or F16) at {@code off} as floats. Small enough for C2 to inline into the loops. */
    private static FloatVector halfToFloat(boolean bf16, MemorySegment seg, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE)
                .convertShape(VectorOperators.S2I, I, 0);
        if (bf16) return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        // IEEE half: shifting exponent+mantissa into float position and scaling by 2^(127-15) rebiases the
        // exponent and handles subnormals exactly; only Inf/NaN (exponent 31) need their exponent set to 255.
        IntVector mag = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector bits = mag.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = h.and(0x7C00).eq(0x7C00);
        bits = bits.blend(mag.or(0x7F800000), special);
        return bits.or(sign).reinterpretAsFloats();
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        if (bf16) for (int i = 0; i < n; i++) dst.set(SHORT, dstOff + 2L * i, floatToBf16(src[off + i]));
        else for (int i = 0; i < n; i++) dst.set(SHORT, dstOff + 2L * i, Float.floatToFloat16(src[off + i]));
    }

    @Override
    public int ggufFileType() {
        return bf16 ? 32 : 1; // LLAMA_FTYPE_MOSTLY_BF16, LLAMA_FTYPE_MOSTLY_F16
    }
}
