package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a normalized text segment into words for BPE, also mapping them to the vocabulary's alphabet
 * (▁ for spaces, or GPT-2 byte characters). {@code atStart}: the piece begins at offset 0 of the input.
 */
interface PreTokenizer {
    void split(String piece, boolean atStart, List<String> out);

    PreTokenizer IDENTITY = (piece, atStart, out) -> out.add(piece);

    /** GPT-2's pattern: {@code \s} must be Unicode White_Space like the Rust/Oniguruma engines HF uses. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    String QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** DeepSeek-V3's three splits, in order (its tokenizer.json; llama.cpp's pre-tokenizer "deepseek-v3"). */
    List<String> DEEPSEEK_V3_PATTERNS = List.of("\\p{N}{1,3}", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
                    + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+");
    /** o200k (gpt-4o, gpt-oss; llama.cpp's "gpt-4o"). */
    String O200K_PATTERN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    /** Metaspace: spaces become the replacement char, which is prepended per {@code prependScheme}. */
    record Metaspace(char replacement, String prependScheme, boolean splitWords) implements PreTokenizer {
        public void split(String piece, boolean atStart, List<String> out) {
            String s = piece.replace(' ', replacement);
            boolean prepend = switch (prependScheme) {
                case "always" -> true;
                case "first" -> atStart;
                default -> false;
            };
            if (prepend && !s.isEmpty() && s.charAt(0) != replacement) s = replacement + s;
            if (!splitWords) { out.add(s); return; }
            int start = 0; // the replacement starts each word (MergedWithNext)
            for (int i = 1; i < s.length(); i++) {
                if (s.charAt(i) == replacement) { out.add(s.substring(start, i)); start = i; }
            }
            if (start < s.length()) out.add(s.substring(start));
        }
    }

    /** Regex split keeping both matches and the gaps between them (HF's "Isolated"), or dropping matches. */
    record RegexSplit(Pattern pattern, boolean removeMatches) implements PreTokenizer {
        public void split(String piece, boolean atStart, List<String> out) {
            Matcher m = pattern.matcher(piece);
            int last = 0;
            while (m.find()) {
                if (m.start() == m.end()) continue;
                if (m.start() > last) out.add(piece.substring(last, m.start()));
                if (!removeMatches) out.add(m.group());
                last = m.end();
            }
            if (last < piece.length()) out.add(piece.substring(last));
        }
    }

    /** ByteLevel: optional prefix space and GPT-2 split, then every word is mapped to byte characters. */
    record ByteLevelPre(boolean addPrefixSpace, Pattern regex) implements PreTokenizer {
        public void split(String piece, boolean atStart, List<String> out) {
            String s = addPrefixSpace && !piece.startsWith(" ") ? " " + piece : piece;
            List<String> words = new ArrayList<>();
            if (regex == null) words.add(s);
            else new RegexSplit(regex, false).split(s, atStart, words);
            for (String w : words) out.add(ByteLevel.encode(w));
        }
    }

    /** Applies each pre-tokenizer to every piece the previous one produced. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        public void split(String piece, boolean atStart, List<String> out) {
            List<String> cur = List.of(piece);
            for (PreTokenizer step : steps) {
                List<String> nxt = new ArrayList<>();
                for (int i = 0; i < cur.size(); i++) step.split(cur.get(i), atStart && i == 0, nxt);
                cur = nxt;
            }
            out.addAll(cur);
        }
    }
}
