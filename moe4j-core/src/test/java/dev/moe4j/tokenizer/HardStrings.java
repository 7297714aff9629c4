package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Text that tokenizers get wrong: many scripts, emoji with modifiers and ZWJ sequences, combining marks and
 * normalisation-sensitive forms, whitespace of every kind and length, digit runs, code, special-token text
 * (whole, partial, nested), control and non-characters. {@link #corpus} adds seeded random mixtures of them.
 */
final class HardStrings {
    private HardStrings() {}

    static final List<String> FIXED = List.of(
            "", " ", "  ", "   a", "a   ", "\t", "\t\t x", "\n", "\n\n\n", "\r\n", "\r\n\r\n  \r\n", " \n ", "a\n\nb",
            "\u00a0", "x\u00a0\u00a0y", "\u3000全角", "\u2028line\u2029para", "zero\u200bwidth", "nel\u0085x", "\u000b\u000c",
            "Hello world", "hello World HELLO", "The quick brown fox jumps over the lazy dog.",
            "I'm", "DON'T", "it'S", "we'll", "THEY'LL", "you've", "'s'", "ſ's", "O'Neil's", "l'été",
            "café", "cafe\u0301", "Å", "\u212b", "ﬁ ligature", "Ａｂｃ fullwidth", "a\u0308\u0323", "Z\u0351\u0307\u0344a\u033d\u0353l\u0301g\u0343o",
            "naïve coöperate résumé", "Straße STRASSE", "İstanbul ıi", "ǅ ǈ ǋ titlecase",
            "Ελληνικά γράμματα", "Русский текст, ёж", "Українська ґ", "العربية مرحبا", "עברית שלום", "हिन्दी नमस्ते", "ภาษาไทย สวัสดี",
            "中文字符测试", "日本語のテキスト、カタカナ", "한국어 텍스트", "\u1100\u1161\u11a8 jamo", "தமிழ் வணக்கம்", "ქართული", "አማርኛ", "Հայերեն",
            "tiếng Việt", "ᠮᠣᠩᠭᠣᠯ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "𓀀𓁐 hieroglyphs",
            "🙂", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵🇫🇷", "1️⃣#️⃣", "❤️", "🧑🏿‍🦱 ok", "emoji🙂🙂🙂end", "👩‍💻👩‍💻",
            "0", "7", "42", "123", "1234", "12345678901234567890", "3.14159", "1,000,000", "-12e+10", "１２３", "٣٤٥", "²³", "Ⅻ", "0x1F600",
            "def add(a, b):\n    return a + b  # sum\n", "for (int i = 0; i < n; i++) {\n\tx[i] = i;\n}",
            "{\"key\": [1, 2.5, null, true], \"s\": \"\\u00e9\"}", "<div class=\"a\">&amp;&lt;</div>", "SELECT * FROM t WHERE x<>'y';",
            "^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)$", "a->b => c :: d ... e !== f", "    indented\n        more", "#include <stdio.h>",
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "<|im_end|>", "<|im_", "<<|im_end|>>", " <|endoftext|> ",
            "<s>", "</s>", "<s>hello</s>", "<unk>", "<|begin_of_text|>x", "<|eot_id|>", "<｜begin▁of▁sentence｜>hi", "<think>\nhm\n</think>",
            "<|start|>assistant<|channel|>final<|message|>ok<|end|>", "▁", "▁▁x", "Ġ", "ĠĠ", "<0x0A>", "<0xFF>", "[INST] q [/INST]",
            "\u0000", "a\u0001b\u001fc", "\u007f\u0080\u009f", "\ufffd", "\ufeffBOM", "\ufffe\uffff", "\udbff\udfff", "\ue000 private",
            "\udb40\udc01tag", "\u200d", "\u200c\u200d", "\u0301 leading mark", "x".repeat(300), " ".repeat(50) + "x",
            "9".repeat(100), "ab".repeat(80), "\n".repeat(20) + "end", "!!!???...,,,", "¡¿«»“”‘’—–…", "$€£¥₹₿", "∑∫√∞≠≈",
            "https://example.com/path?q=1&r=two#frag", "user@example.org", "C:\\Users\\name\\file.txt", "a\\nb", "tab\there",
            "sayhello hello hellos _hello hello_ (hello) hello1 1hello", "a  <|im_end|>  b", "<|im_start|>  user\n",
            "x\u00a0<|im_end|>\u00a0y", "x\u2003<|im_end|>\u001c", "[X]  [X]x [X]", "cafe\u0301 café CAFÉ");

    /** Pieces for random mixtures: the fixed strings' building blocks plus single characters of many kinds. */
    private static final String[] PIECES = {
            " ", "  ", "\n", "\t", "\r\n", "\u00a0", "\u3000", "a", "Z", "the", "The", " world", "'s", "'LL", "é", "e\u0301",
            "ß", "ﬁ", "東", "京", "語", "ア", "한", "ا", "ש", "न", "ि", "ก", "ำ", "ж", "Ω", "🙂", "👍🏽", "‍", "👨‍👩‍👧", "🇯🇵",
            "\ufe0f", "0", "1", "42", "1234", "3.5", "１", "٣", "(", ")", "{", "}", ";", "->", "//", "#", "\"", "'", "`",
            "<", ">", "|", "<|im_end|>", "<|im_start|>", "<s>", "</s>", "<|endoftext|>", "▁", "Ġ", "\u0000", "\u001b",
            "\ufffd", "\u200b", "\ue000", "𝕞", "\u0308", "...", "!", "?", "-", "_", "=", "+", "*", "/", "\\", "$", "%",
    };

    /** The fixed strings followed by {@code random} seeded mixtures of 1–12 pieces and random code points. */
    static List<String> corpus(long seed, int random) {
        List<String> out = new ArrayList<>(FIXED);
        Random r = new Random(seed);
        for (int i = 0; i < random; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + r.nextInt(12);
            for (int k = 0; k < n; k++) {
                if (r.nextInt(5) == 0) sb.appendCodePoint(randomCodePoint(r));
                else sb.append(PIECES[r.nextInt(PIECES.length)]);
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** A scalar value (never a lone surrogate: those have no UTF-8 form), weighted towards the BMP's scripts. */
    private static int randomCodePoint(Random r) {
        while (true) {
            int cp = switch (r.nextInt(4)) {
                case 0 -> 0x20 + r.nextInt(0x60);
                case 1 -> 0x80 + r.nextInt(0x2f80);
                case 2 -> 0x3000 + r.nextInt(0xcfff);
                default -> 0x10000 + r.nextInt(0x100000);
            };
            if (cp < 0xd800 || cp > 0xdfff) return cp;
        }
    }
}
