package dev.moe4j.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One convention for sizes (binary units, spelled out) and counts (k, M, B = billion), three significant digits. */
class UnitsTest {
    @Test
    void bytesInBinaryUnits() {
        assertEquals("0 bytes", Units.bytes(0));
        assertEquals("1023 bytes", Units.bytes(1023));
        assertEquals("1.00 KiB", Units.bytes(1024));
        assertEquals("1.50 KiB", Units.bytes(1536));
        assertEquals("270 MiB", Units.bytes(270L << 20));
        assertEquals("6.85 GiB", Units.bytes(6.85 * (1L << 30)));
        assertEquals("12.0 TiB", Units.bytes(12.0 * (1L << 40)));
        assertEquals("29.8 GiB/s", Units.bytesPerSecond(32e9));
    }

    @Test
    void progressUsesTheTotalsUnitForBoth() {
        assertEquals("0.00/1.50 KiB", Units.bytesOf(0, 1536));
        assertEquals("12.3/270 MiB", Units.bytesOf(12.3 * (1 << 20), 270L << 20));
        assertEquals("0.50/3.63 GiB", Units.bytesOf(0.5 * (1L << 30), 3.63 * (1L << 30)));
    }

    @Test
    void countsWithThousandsMillionsBillions() {
        assertEquals("950", Units.count(950));
        assertEquals("1.60 k", Units.count(1600));
        assertEquals("264 k", Units.count(263_616));
        assertEquals("23.7 k", Units.count(23_652));
        assertEquals("1.28 M", Units.count(1_280_000));
        assertEquals("6.92 B", Units.count(6.92e9));
        assertEquals("46.7 B", Units.count(46.7e9));
    }

    @Test
    void measuredValuesStayShortAtAnyMagnitude() {
        assertEquals("0.6545", Units.decimal(0.65449, 4));
        assertEquals("0.0000", Units.decimal(0, 4));
        assertEquals("123456.700", Units.decimal(123456.7, 3));
        assertEquals("1.442e+153", Units.decimal(1.4423577567417427e153, 3));
        assertEquals("-2.500e+06", Units.decimal(-2.5e6, 4));
        assertEquals("3.000e-07", Units.decimal(3e-7, 4), "not 0.0000");
        assertEquals("NaN", Units.decimal(Double.NaN, 4));
        assertEquals("Infinity", Units.decimal(Double.POSITIVE_INFINITY, 4));
        assertEquals("1.798e+308", Units.decimal(Double.MAX_VALUE, 4));
        for (double v : new double[] {1.2345e300, -6.789e299, Double.MIN_VALUE, 1e-300, 9.99999e5, 1e6}) {
            String s = Units.decimal(v, 4);
            assertTrue(s.length() <= 12, s);
            assertEquals(v, Double.parseDouble(s), Math.abs(v) * 1e-3 + 1e-4, s);
        }
    }
}
