package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;

import static dev.moe4j.kernel.LittleEndian.DOUBLE;
import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.LONG;

/**
 * I32, I64, F64 and U8: safetensors files hold them (token ids, reference outputs, MXFP4 blocks and scales),
 * never as weights. They are
 * read as floats element by element, through the reference loops; nothing encodes into them.
 */
final class IntegerAndDoubleKernels extends TypeKernels {
    IntegerAndDoubleKernels(DType type) {
        super(type);
        if (type != DType.I32 && type != DType.I64 && type != DType.F64 && type != DType.U8)
            throw new IllegalArgumentException(type + " is not an integer or double type");
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        return switch (type) {
            case I32 -> seg.get(INT, byteOffset + 4 * i);
            case I64 -> seg.get(LONG, byteOffset + 8 * i);
            case U8 -> seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, byteOffset + i) & 0xFF;
            default -> (float) seg.get(DOUBLE, byteOffset + 8 * i);
        };
    }

    @Override
    public boolean isWeightType() {
        return false;
    }
}
