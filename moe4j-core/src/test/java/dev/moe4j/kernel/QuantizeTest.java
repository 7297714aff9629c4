package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class QuantizeTest {

    @Test
    void q8_0RoundTripWithinHalfAStep() {
        Random r = new Random(4);
        float[] x = DequantTest.randoms(r, 32 * 40);
        byte[] q = new byte[34 * 40];
        Quantize.encode(DType.Q8_0, x, 0, x.length, MemorySegment.ofArray(q), 0);
        float[] y = new float[x.length];
        Dequant.dequantize(DType.Q8_0, MemorySegment.ofArray(q), 0, y, 0, x.length);
        for (int b = 0; b < 40; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
            // half a step plus the f16 rounding of the scale (relative 2^-11, times q up to 127)
            double tol = amax / 127 * 0.5 + amax * 1e-3;
            for (int j = 0; j < 32; j++) assertEquals(x[32 * b + j], y[32 * b + j], tol);
        }
    }

    @Test
    void q4_0RoundTripWithinHalfAStep() {
        Random r = new Random(5);
        float[] x = DequantTest.randoms(r, 32 * 40);
        byte[] q = new byte[18 * 40];
        Quantize.encode(DType.Q4_0, x, 0, x.length, MemorySegment.ofArray(q), 0);
        float[] y = new float[x.length];
        Dequant.dequantize(DType.Q4_0, MemorySegment.ofArray(q), 0, y, 0, x.length);
        for (int b = 0; b < 40; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
            // half a step, except that values opposite the extreme can clip at q = 15: one full step there
            double tol = amax / 8 + amax * 1e-3;
            for (int j = 0; j < 32; j++) assertEquals(x[32 * b + j], y[32 * b + j], tol);
        }
    }

    @Test
    void q4_0LayoutAndRounding() {
        // max magnitude -8 gives d = 1, so q = x + 8 exactly; element j low nibble, j+16 high nibble.
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = (j % 16) - 8;
        x[5] = -8;
        x[20] = 7.4f; // rounds to 7 → q 15
        x[21] = 2.5f; // 2.5 + 8.5 = 11 → q 11 (GGML truncates after +8.5, so halves go up)
        byte[] q = new byte[18];
        Quantize.encode(DType.Q4_0, x, 0, 32, MemorySegment.ofArray(q), 0);
        assertEquals(1f, Float.float16ToFloat((short) ((q[0] & 0xFF) | q[1] << 8)));
        assertEquals(0, q[2 + 0] & 0xF);          // x[0] = -8
        assertEquals(15, (q[2 + 4] & 0xFF) >>> 4); // x[20]
        assertEquals(11, (q[2 + 5] & 0xFF) >>> 4); // x[21]
        assertEquals(0, q[2 + 5] & 0xF);          // x[5] = -8
    }

    @Test
    void q8_0RoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127;   // d = 1
        x[1] = -2.5f; // roundf → -3 (Math.round would give -2)
        x[2] = 2.5f;
        byte[] q = new byte[34];
        Quantize.encode(DType.Q8_0, x, 0, 32, MemorySegment.ofArray(q), 0);
        assertEquals(127, q[2]);
        assertEquals(-3, q[3]);
        assertEquals(3, q[4]);
    }

    @Test
    void zeroBlockQuantizesToZero() {
        byte[] q = new byte[18];
        Quantize.encode(DType.Q4_0, new float[32], 0, 32, MemorySegment.ofArray(q), 0);
        float[] y = new float[32];
        Dequant.dequantize(DType.Q4_0, MemorySegment.ofArray(q), 0, y, 0, 32);
        for (float v : y) assertEquals(0f, v, 0f); // -0.0 like GGML (d = -0/8)
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, Quantize.floatToBf16(1f));
        assertEquals((short) 0x3F80, Quantize.floatToBf16(Float.intBitsToFloat(0x3F808000))); // tie → even (down)
        assertEquals((short) 0x3F82, Quantize.floatToBf16(Float.intBitsToFloat(0x3F818000))); // tie → even (up)
        assertEquals((short) 0x3F81, Quantize.floatToBf16(Float.intBitsToFloat(0x3F808001)));
        assertTrue(Float.isNaN(Quantize.bf16ToFloat(Quantize.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, Quantize.bf16ToFloat(Quantize.floatToBf16(Float.POSITIVE_INFINITY)));
    }
}
