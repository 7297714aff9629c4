package dev.moe4j.tokenizer;

/**
 * UTF-8 decoding with Rust's {@code String::from_utf8_lossy} semantics, which Hugging Face's decoders use: each
 * maximal prefix of a well-formed sequence that breaks off (Unicode 15, §3.9 "U+FFFD substitution of maximal
 * subparts", the table of well-formed byte sequences) becomes one U+FFFD, and decoding resumes at the byte
 * that broke it. Java's own decoder is not relied on for this.
 */
final class Utf8 {
    private Utf8() {}

    /** Result of {@link #decode}: the text, and how many input bytes it covers (the rest is an unfinished character). */
    record Decoded(String text, int consumed) {}

    /** Lossy decode of all bytes: an unfinished character at the end is one U+FFFD. */
    static String lossy(byte[] b, int from, int to) {
        return decode(b, from, to, true).text();
    }

    /** Whether the bytes are well-formed UTF-8 with no unfinished character at the end. */
    static boolean valid(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int n = sequenceLength(b, i, to);
            if (n <= 0) return false;
            i += n;
        }
        return true;
    }

    /**
     * Decodes {@code b[from, to)}. With {@code atEnd} false, a well-formed but unfinished character at the end is
     * left undecoded ({@code consumed < to - from}): more bytes may complete it.
     */
    static Decoded decode(byte[] b, int from, int to, boolean atEnd) {
        StringBuilder sb = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            int n = sequenceLength(b, i, to);
            if (n > 0) {
                appendScalar(sb, b, i, n);
                i += n;
                continue;
            }
            int valid = -n; // bytes of a well-formed prefix before it broke off or the input ended
            if (!atEnd && valid > 0 && i + valid == to) break;
            sb.append('\uFFFD');
            i += Math.max(valid, 1);
        }
        return new Decoded(sb.toString(), i - from);
    }

    /**
     * Length of the well-formed sequence at {@code i}, or minus the length of its longest well-formed prefix
     * when it breaks off or the input ends inside it (0 for a byte that cannot start a sequence).
     */
    private static int sequenceLength(byte[] b, int i, int to) {
        int c = b[i] & 0xff;
        if (c < 0x80) return 1;
        int need, lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) need = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0) lo = 0xa0;
            else if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0) lo = 0x90;
            else if (c == 0xf4) hi = 0x8f;
        } else {
            return 0;
        }
        for (int k = 1; k <= need; k++) {
            if (i + k >= to) return -k;
            int d = b[i + k] & 0xff;
            if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xbf)) return -k;
        }
        return need + 1;
    }

    private static void appendScalar(StringBuilder sb, byte[] b, int i, int n) {
        int c = b[i] & 0xff;
        int cp = switch (n) {
            case 1 -> c;
            case 2 -> (c & 0x1f) << 6 | (b[i + 1] & 0x3f);
            case 3 -> (c & 0x0f) << 12 | (b[i + 1] & 0x3f) << 6 | (b[i + 2] & 0x3f);
            default -> (c & 0x07) << 18 | (b[i + 1] & 0x3f) << 12 | (b[i + 2] & 0x3f) << 6 | (b[i + 3] & 0x3f);
        };
        sb.appendCodePoint(cp);
    }
}
