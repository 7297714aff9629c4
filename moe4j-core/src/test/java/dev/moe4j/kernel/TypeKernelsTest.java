package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class TypeKernelsTest {
    @Test
    void everyTypeHasItsOwnKernels() {
        Set<TypeKernels> seen = new HashSet<>();
        for (DType t : DType.values()) {
            TypeKernels k = TypeKernels.of(t);
            assertEquals(t, k.type(), "registry entry of " + t);
            assertTrue(seen.add(k), t + " shares an instance with another type");
        }
    }

    @Test
    void encodableTypesRoundTripThroughTheirOwnReader() {
        Random r = new Random(21);
        List<DType> encodable = TypeKernels.encodable();
        assertEquals(Set.of(DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K,
                DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q5_K, DType.MXFP4), Set.copyOf(encodable));
        float[] x = DequantTest.randoms(r, 512);
        for (DType t : encodable) {
            TypeKernels k = TypeKernels.of(t);
            MemorySegment seg = MemorySegment.ofArray(new byte[(int) t.bytesFor(x.length) + 3]);
            k.encode(x, 0, x.length, seg, 3);
            float[] y = new float[x.length];
            k.dequantize(seg, 3, y, 0, y.length);
            for (int i = 0; i < x.length; i++) {
                float amax = 0;   // of the value's 32-block: every type's step is at most 2/15 of it (MXFP4's: 1/4)
                for (int j = i / 32 * 32; j < i / 32 * 32 + 32; j++) amax = Math.max(amax, Math.abs(x[j]));
                assertEquals(x[i], y[i], t == DType.MXFP4 ? amax / 4 : amax / 7, t + " value " + i);
            }
            assertEquals(k.get(seg, 3, 100), y[100], t + " get");
        }
    }

    @Test
    void typesThatCannotBeWrittenSaySo() {
        Set<Integer> fileTypes = new HashSet<>();
        for (DType t : DType.values()) {
            TypeKernels k = TypeKernels.of(t);
            if (k.canEncode()) {
                assertTrue(fileTypes.add(k.ggufFileType()), t + ": file type " + k.ggufFileType() + " taken twice");
                continue;
            }
            var e = assertThrows(IllegalArgumentException.class,
                    () -> k.encode(new float[32], 0, 32, MemorySegment.ofArray(new byte[1024]), 0), t.name());
            assertTrue(e.getMessage().contains(t.name()), e.getMessage());
            assertThrows(IllegalArgumentException.class, k::ggufFileType, t.name());
        }
        // llama.cpp's llama_ftype numbers, which llama.cpp reads back from general.file_type.
        assertEquals(0, TypeKernels.of(DType.F32).ggufFileType());
        assertEquals(1, TypeKernels.of(DType.F16).ggufFileType());
        assertEquals(2, TypeKernels.of(DType.Q4_0).ggufFileType());
        assertEquals(7, TypeKernels.of(DType.Q8_0).ggufFileType());
        assertEquals(14, TypeKernels.of(DType.Q4_K).ggufFileType());
        assertEquals(18, TypeKernels.of(DType.Q6_K).ggufFileType());
        assertEquals(3, TypeKernels.of(DType.Q4_1).ggufFileType());
        assertEquals(8, TypeKernels.of(DType.Q5_0).ggufFileType());
        assertEquals(9, TypeKernels.of(DType.Q5_1).ggufFileType());
        assertEquals(16, TypeKernels.of(DType.Q5_K).ggufFileType());
        assertEquals(32, TypeKernels.of(DType.BF16).ggufFileType());
        assertEquals(38, TypeKernels.of(DType.MXFP4).ggufFileType());
    }

    @Test
    void packedRowsAreReadWholeAndNothingElse() {
        int rows = 32, cols = 64;
        try (Arena arena = Arena.ofConfined()) {
            for (DType t : new DType[]{DType.Q4_0_R16, DType.Q8_0_R16}) {
                DType plain = t == DType.Q4_0_R16 ? DType.Q4_0 : DType.Q8_0;
                MemorySegment src = arena.allocate(plain.bytesFor((long) rows * cols));
                float[] w = DequantTest.randoms(new Random(22), rows * cols);
                Quantize.encode(plain, w, 0, w.length, src, 0);
                MemorySegment packed = arena.allocate(src.byteSize());
                for (int p = 0; p < rows / PackedQ4.PANEL; p++) {
                    if (t == DType.Q4_0_R16) PackedQ4.packPanel(src, packed, cols, p);
                    else PackedQ8.packPanel(src, packed, cols, p);
                }
                float[] want = new float[cols], got = new float[cols];
                TypeKernels.of(plain).row(src, 0, cols, 21, want, 0);
                new Matrix("w", t, packed, 0, rows, cols).row(21, got, 0);
                assertArrayEquals(want, got, t + " row 21");

                TypeKernels k = TypeKernels.of(t);
                for (var call : List.<Runnable>of(
                        () -> k.get(packed, 0, 5),
                        () -> k.dequantize(packed, 0, got, 0, cols),
                        () -> k.dot(packed, 0, want, 0, cols))) {
                    var e = assertThrows(IllegalArgumentException.class, call::run, t.name());
                    assertTrue(e.getMessage().contains("not contiguous"), e.getMessage());
                }
            }
        }
    }

    @Test
    void onlyFloatTypesAreWeightTypes() {   // stored float8 and MXFP4 bytes are weights only once repacked
        for (DType t : DType.values())
            assertEquals(t != DType.I32 && t != DType.I64 && t != DType.F64 && t != DType.U8 && t != DType.F8_E4M3,
                    TypeKernels.of(t).isWeightType(), t.name());
    }
}
