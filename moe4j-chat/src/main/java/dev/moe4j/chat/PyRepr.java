package dev.moe4j.chat;

import java.math.BigDecimal;

/** How Python prints values that Jinjava would print the Java way: floats, True/False/None. */
final class PyRepr {
    private PyRepr() {}

    /**
     * Python's {@code repr(float)}: the shortest digits that round-trip (as Java's), {@code 1.0} not {@code 1},
     * exponent form below 1e-4 and from 1e16 ({@code 1e-05}, {@code 1e+16}), {@code inf}/{@code nan} as
     * json.dumps writes them ({@code Infinity}, {@code NaN}).
     */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();   // shortest round-trip digits
        double abs = Math.abs(d);
        if (abs >= 1e16 || abs < 1e-4) {
            String digits = exact.unscaledValue().abs().toString();
            int exponent = digits.length() - 1 - exact.scale();
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = exact.toPlainString();
        return plain.contains(".") ? plain : plain + ".0";
    }
}
