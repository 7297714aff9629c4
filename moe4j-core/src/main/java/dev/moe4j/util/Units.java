package dev.moe4j.util;

import java.util.Locale;

/**
 * How every command and error message writes sizes, counts and measured values: bytes in binary units spelled out
 * (bytes, KiB, MiB, GiB, TiB; rates per second), counts of parameters or tokens with k, M, B (billion) and three
 * significant digits ("B" alone is never bytes), and values such as losses with fixed decimals that turn
 * scientific where fixed decimals would be long or all zeros.
 */
public final class Units {
    private static final String[] BINARY = {"bytes", "KiB", "MiB", "GiB", "TiB"};

    private Units() {}

    /** A byte count: "512 bytes", "1.50 KiB", "270 MiB", "6.85 GiB". */
    public static String bytes(double bytes) {
        int unit = binaryUnit(bytes);
        if (unit == 0) return String.format(Locale.ROOT, "%.0f bytes", bytes);
        return significant(bytes / Math.pow(1024, unit)) + " " + BINARY[unit];
    }

    /** Progress through a byte count, both in the total's unit: "12.3/270 MiB". */
    public static String bytesOf(double done, double total) {
        int unit = binaryUnit(total);
        double scale = Math.pow(1024, unit);
        return significant(done / scale) + "/" + significant(total / scale) + " " + BINARY[unit];
    }

    /** A rate: "29.8 GiB/s". */
    public static String bytesPerSecond(double bytesPerSecond) {
        return bytes(bytesPerSecond) + "/s";
    }

    /** A count: "950", "1.60 k", "264 k", "6.92 B". */
    public static String count(double n) {
        if (Math.abs(n) < 1e3) return String.format(Locale.ROOT, "%.0f", n);
        if (Math.abs(n) < 1e6) return significant(n / 1e3) + " k";
        if (Math.abs(n) < 1e9) return significant(n / 1e6) + " M";
        return significant(n / 1e9) + " B";
    }

    /**
     * A measured value such as a loss: {@code decimals} places ("0.6545") for magnitudes below a million that
     * do not round to zero, else four significant digits in scientific notation ("1.442e+153", "3.000e-07"), so a
     * diverging run never prints a number hundreds of digits long. 0, NaN and the infinities print as "0.0000", "NaN",
     * "Infinity", "-Infinity".
     *
     * @param decimals places after the point, 0 or more
     */
    public static String decimal(double v, int decimals) {
        if (decimals < 0) throw new IllegalArgumentException("decimals must be 0 or more, got " + decimals);
        if (!Double.isFinite(v)) return Double.toString(v);
        double a = Math.abs(v);
        boolean fixed = v == 0 || (a < 1e6 && a >= 0.5 * Math.pow(10, -decimals));
        return String.format(Locale.ROOT, fixed ? "%." + decimals + "f" : "%.3e", v);
    }

    private static int binaryUnit(double bytes) {
        int unit = 0;
        while (unit < BINARY.length - 1 && Math.abs(bytes) >= Math.pow(1024, unit + 1)) unit++;
        return unit;
    }

    /** Three significant digits (no more than needed for the integer part): 1.60, 12.3, 270. */
    private static String significant(double v) {
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a < 9.995 ? "%.2f" : a < 99.95 ? "%.1f" : "%.0f", v);
    }
}
