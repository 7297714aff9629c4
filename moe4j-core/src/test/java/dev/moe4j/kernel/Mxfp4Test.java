package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * MXFP4: the vector kernels against the scalar reader on random blocks, the reader and the quantiser bit for bit
 * against llama.cpp's numpy reference (values computed by {@code scripts/mxfp4-expected.py}), and the repacking
 * of Hugging Face's gpt-oss blocks against transformers' formula.
 */
class Mxfp4Test {
    private static final TypeKernels K = TypeKernels.of(DType.MXFP4);

    /** Random blocks: scales 100..155 (values of everyday magnitude), random codes. */
    static MemorySegment randomBlocks(Random r, int blocks, int pad) {
        byte[] b = new byte[pad + 17 * blocks];
        r.nextBytes(b);
        for (int k = 0; k < blocks; k++) b[pad + 17 * k] = (byte) (100 + r.nextInt(56));
        return MemorySegment.ofArray(b);
    }

    @Test
    void vectorKernelsMatchTheScalarReader() {
        Random r = new Random(39);
        for (int n : new int[] {32, 64, 96, 2880}) {
            MemorySegment seg = randomBlocks(r, n / 32, 5);
            float[] want = new float[n + 3], got = new float[n + 3];
            K.referenceDequantize(seg, 5, want, 3, n);
            K.dequantize(seg, 5, got, 3, n);
            assertArrayEquals(want, got, "dequantize n=" + n);
            float[] x = DequantTest.randoms(r, n + 7);
            double bound = 0;
            for (int i = 0; i < n; i++) bound += Math.abs(want[3 + i] * x[7 + i]);
            assertEquals(K.referenceDot(seg, 5, x, 7, n), K.dot(seg, 5, x, 7, n), 1e-5 * bound + 1e-30, "dot n=" + n);
        }
    }

    @Test
    void decodesAndQuantisesBitForBitAsLlamaCppsReference() throws IOException {
        List<String> lines;
        try (InputStream in = getClass().getResourceAsStream("mxfp4-quants-py.txt")) {
            assertNotNull(in, "mxfp4-quants-py.txt is a test resource");
            lines = new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines().toList();
        }
        int decoded = 0, quantised = 0;
        for (String line : lines) {
            String[] f = line.split(" ");
            if (f[0].equals("D")) {
                MemorySegment block = MemorySegment.ofArray(HexFormat.of().parseHex(f[1]));
                float[] got = new float[32];
                K.dequantize(block, 0, got, 0, 32);
                for (int i = 0; i < 32; i++) {
                    int want = Integer.parseUnsignedInt(f[2 + i], 16);
                    assertEquals(want, Float.floatToRawIntBits(got[i]), line.substring(0, 40) + "… value " + i);
                    assertEquals(want, Float.floatToRawIntBits(K.get(block, 0, i)), "get " + i);
                }
                decoded++;
            } else {
                float[] x = new float[32];
                for (int i = 0; i < 32; i++) x[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(f[1 + i], 16));
                byte[] got = new byte[17];
                K.encode(x, 0, 32, MemorySegment.ofArray(got), 0);
                assertEquals(f[33], HexFormat.of().formatHex(got), "quantised block of " + line.substring(0, 40) + "…");
                quantised++;
            }
        }
        assertEquals(64, decoded);
        assertEquals(7, quantised);
    }

    /** Why converting Hugging Face's MXFP4 experts through floats loses nothing: the codes and scales come back. */
    @Test
    void requantisingDecodedBlocksGivesTheSameBytes() {
        Random r = new Random(40);
        int blocks = 200;
        MemorySegment seg = randomBlocks(r, blocks, 0);
        float[] x = new float[32 * blocks];
        K.dequantize(seg, 0, x, 0, x.length);
        byte[] again = new byte[17 * blocks];
        K.encode(x, 0, x.length, MemorySegment.ofArray(again), 0);
        for (int k = 0; k < blocks; k++) {
            boolean allZero = true;
            for (int i = 0; i < 32; i++) allZero &= x[32 * k + i] == 0;
            for (int j = allZero ? 1 : 0; j < 17; j++) {
                byte a = seg.get(ValueLayout.JAVA_BYTE, 17L * k + j), b = again[17 * k + j];
                // +0 and −0 (codes 0 and 8) decode alike; the quantiser writes +0.
                if (j > 0 && a != b) {
                    for (int nib = 0; nib < 8; nib += 4) {
                        int ca = (a >> nib) & 0xF, cb = (b >> nib) & 0xF;
                        assertTrue(ca == cb || (ca == 8 && cb == 0), "block " + k + " byte " + j);
                    }
                } else {
                    assertEquals(a, b, "block " + k + " byte " + j);
                }
            }
        }
    }

    /** transformers' convert_moe_packed_tensors: value 2j is FP4_VALUES[low nibble of byte j], 2j+1 the high one, × 2^(scale − 127). */
    @Test
    void huggingFaceBlocksRepackToTheSameValues() {
        float[] fp4 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f};
        Random r = new Random(41);
        int cols = 96, blocks = cols / 32;
        byte[] hf = new byte[16 * blocks], scales = new byte[blocks];
        r.nextBytes(hf);
        for (int k = 0; k < blocks; k++) scales[k] = (byte) (115 + r.nextInt(20));
        MemorySegment dst = MemorySegment.ofArray(new byte[17 * blocks + 2]);
        Mxfp4Kernels.repackHfRow(MemorySegment.ofArray(hf), 0, MemorySegment.ofArray(scales), 0, cols, dst, 2);
        float[] got = new float[cols];
        K.dequantize(dst, 2, got, 0, cols);
        for (int i = 0; i < cols; i++) {
            int b = hf[i / 2] & 0xFF;
            int code = i % 2 == 0 ? b & 0xF : b >>> 4;
            float want = (float) (fp4[code] * Math.pow(2, (scales[i / 32] & 0xFF) - 127));
            assertEquals(want, got[i], 0f, "value " + i);
        }
    }
}
