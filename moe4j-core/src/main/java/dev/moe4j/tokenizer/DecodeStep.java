package dev.moe4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One step of HF's decoder chain, which maps the list of token strings to a list of strings (each as Hugging
 * Face's {@code tokenizers} crate, {@code src/decoders/*.rs}, defines it); {@link #stage} is the same step
 * for streaming, used by {@link StreamingDecoder}.
 */
interface DecodeStep {
    List<String> apply(List<String> tokens);

    /** A fresh streaming form of this step (state for one sequence). */
    StreamStage stage();

    /** Plain substring replacement in every token (e.g. ▁ → space). */
    record Replace(String from, String to) implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) out.add(t.replace(from, to));
            return out;
        }

        public StreamStage stage() {
            return new StreamStage.ReplaceStage(from, to);
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

        public StreamStage stage() {
            return new StreamStage.ByteFallbackStage();
        }

        /** A valid run is one string; an invalid one is one U+FFFD token per byte, as HF does. */
        static void flush(ByteArrayOutputStream run, List<String> out) {
            if (run.size() == 0) return;
            byte[] bytes = run.toByteArray();
            run.reset();
            if (Utf8.valid(bytes, 0, bytes.length)) out.add(new String(bytes, StandardCharsets.UTF_8));
            else for (int i = 0; i < bytes.length; i++) out.add("\uFFFD");
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

        public StreamStage stage() {
            return new StreamStage.FuseStage();
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

        public StreamStage stage() {
            return new StreamStage.StripStage(content, start, stop);
        }
    }

    /** GPT-2 byte characters back to bytes, decoded lossily as UTF-8. */
    record ByteLevelDecode() implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String t : tokens) ByteLevel.decodeToken(t, out);
            byte[] bytes = out.toByteArray();
            return List.of(Utf8.lossy(bytes, 0, bytes.length));
        }

        public StreamStage stage() {
            return new StreamStage.ByteLevelStage();
        }
    }

    /**
     * Metaspace decoder: the replacement becomes a space, except in the first token, where (unless the prepend
     * scheme is "never") every replacement character is dropped, as HF's {@code Metaspace::decode_chain} does.
     */
    record MetaspaceDecode(char replacement, boolean stripFirst) implements DecodeStep {
        public List<String> apply(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) out.add(map(tokens.get(i), i == 0 && stripFirst));
            return out;
        }

        String map(String token, boolean first) {
            return first ? token.replace(String.valueOf(replacement), "") : token.replace(replacement, ' ');
        }

        public StreamStage stage() {
            return new StreamStage.MetaspaceStage(this);
        }
    }
}
