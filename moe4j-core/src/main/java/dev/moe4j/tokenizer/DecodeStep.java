package dev.moe4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** One step of HF's decoder chain, which maps the list of token strings to a list of strings. */
interface DecodeStep {
    List<String> apply(List<String> tokens);

    /** Plain substring replacement in every token (e.g. ▁ → space). */
    record Replace(String from, String to) implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) out.add(t.replace(from, to));
            return out;
        }
    }

    /** Runs of {@code <0xNN>} tokens become their UTF-8 text, or one U+FFFD per byte when invalid. */
    record ByteFallback() implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteArrayOutputStream run = new ByteArrayOutputStream();
            for (String t : tokens) {
                int b = byteToken(t);
                if (b >= 0) { run.write(b); continue; }
                flush(run, out);
                out.add(t);
            }
            flush(run, out);
            return out;
        }

        private static void flush(ByteArrayOutputStream run, List<String> out) {
            if (run.size() == 0) return;
            byte[] bytes = run.toByteArray();
            run.reset();
            var dec = StandardCharsets.UTF_8.newDecoder();
            try {
                out.add(dec.decode(java.nio.ByteBuffer.wrap(bytes)).toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                out.add("\uFFFD".repeat(bytes.length));
            }
        }

        static int byteToken(String t) {
            if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
            try {
                return Integer.parseInt(t.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }

    record Fuse() implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** Removes up to {@code start}/{@code stop} occurrences of {@code content} at each token's ends. */
    record Strip(char content, int start, int stop) implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int a = 0, b = t.length();
                while (a < start && a < b && t.charAt(a) == content) a++;
                for (int k = 0; k < stop && b > a && t.charAt(b - 1) == content; k++) b--;
                out.add(t.substring(a, b));
            }
            return out;
        }
    }

    /** GPT-2 byte characters back to bytes, decoded lossily as UTF-8. */
    record ByteLevelDecode() implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String t : tokens) ByteLevel.decodeToken(t, out);
            return List.of(out.toString(StandardCharsets.UTF_8));
        }
    }

    /** Legacy Metaspace decoder: replacement → space, and the first token loses its leading space. */
    record MetaspaceDecode(char replacement, boolean stripFirst) implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i).replace(replacement, ' ');
                if (i == 0 && stripFirst && t.startsWith(" ")) t = t.substring(1);
                out.add(t);
            }
            return out;
        }
    }
}
