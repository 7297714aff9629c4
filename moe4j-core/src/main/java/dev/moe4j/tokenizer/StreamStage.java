package dev.moe4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The streaming form of a {@link DecodeStep}. HF's decoder steps map a list of token strings to a list of
 * strings; here that list arrives as pieces: {@code accept(text, true)} starts a new token of the list,
 * {@code accept(text, false)} continues the last one (after a step that joins tokens, such as Fuse, everything
 * is one token). A stage passes on at once whatever no later input can change, holds the rest, and passes
 * everything on at {@link #finish}; the concatenation of what comes out of the last stage is then exactly the
 * one-shot decode of the same tokens.
 */
abstract class StreamStage implements TokenSink {
    TokenSink out;

    /** Whether this step must see each token whole (so it cannot follow a step that joins tokens without help). */
    boolean needsWholeTokens() {
        return false;
    }

    /** Whether this step's output is pieces of one token. */
    boolean joinsTokens() {
        return false;
    }

    /** Holds each token until the next one begins, so that a token-wise step after a joining step sees it whole. */
    static final class Reassemble extends StreamStage {
        private final StringBuilder token = new StringBuilder();
        private boolean open;

        public void accept(String piece, boolean newToken) {
            if (newToken && open) { out.accept(token.toString(), true); token.setLength(0); }
            open |= newToken;
            token.append(piece);
        }

        public void finish() {
            if (open) out.accept(token.toString(), true);
            out.finish();
        }
    }

    /** Replace: leftmost non-overlapping matches within each token; a tail that may begin a match is held. */
    static final class ReplaceStage extends StreamStage {
        private final String from, to;
        private final StringBuilder held = new StringBuilder();
        private boolean startPending;

        ReplaceStage(String from, String to) {
            this.from = from;
            this.to = to;
        }

        public void accept(String piece, boolean newToken) {
            if (newToken) { endToken(); startPending = true; }
            held.append(piece);
            String text = held.toString();
            StringBuilder done = new StringBuilder();
            int i = 0, n = text.length();
            while (i < n) {
                if (text.startsWith(from, i)) { done.append(to); i += from.length(); continue; }
                if (n - i < from.length() && from.startsWith(text.substring(i))) break; // may still become a match
                done.append(text.charAt(i++));
            }
            held.delete(0, i);
            emit(done.toString());
        }

        private void emit(String s) {
            if (s.isEmpty() && !startPending) return;
            out.accept(s, startPending);
            startPending = false;
        }

        private void endToken() {
            if (held.length() > 0 || startPending) emit(held.toString());
            held.setLength(0);
        }

        public void finish() {
            endToken();
            out.finish();
        }
    }

    /**
     * ByteFallback: a run of {@code <0xNN>} tokens is held until a token that is not a byte ends it (or the end),
     * because one invalid byte anywhere in the run turns every byte of it into U+FFFD.
     */
    static final class ByteFallbackStage extends StreamStage {
        private final ByteArrayOutputStream run = new ByteArrayOutputStream();
        private final StringBuilder candidate = new StringBuilder(); // the current token while it may be a byte token
        private boolean inCandidate;

        public void accept(String piece, boolean newToken) {
            if (newToken) {
                closeCandidate();
                candidate.append(piece);
                inCandidate = true;
            } else if (inCandidate) {
                candidate.append(piece);
            } else {
                out.accept(piece, false);
                return;
            }
            if (!mayBeByteToken(candidate)) {
                flushRun();
                out.accept(candidate.toString(), true);
                candidate.setLength(0);
                inCandidate = false;
            }
        }

        private void closeCandidate() {
            if (!inCandidate) return;
            int b = DecodeStep.ByteFallback.byteToken(candidate.toString());
            if (b >= 0) {
                run.write(b);
            } else {
                flushRun();
                out.accept(candidate.toString(), true);
            }
            candidate.setLength(0);
            inCandidate = false;
        }

        private void flushRun() {
            List<String> tokens = new ArrayList<>();
            DecodeStep.ByteFallback.flush(run, tokens);
            for (String t : tokens) out.accept(t, true);
        }

        private static boolean mayBeByteToken(CharSequence t) {
            String form = "<0xNN>";
            if (t.length() > form.length()) return false;
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i), f = form.charAt(i);
                if (f == 'N' ? Character.digit(c, 16) < 0 : c != f) return false;
            }
            return true;
        }

        public void finish() {
            closeCandidate();
            flushRun();
            out.finish();
        }
    }

    /** Fuse: everything becomes one token. */
    static final class FuseStage extends StreamStage {
        private boolean started;

        public void accept(String piece, boolean newToken) {
            out.accept(piece, !started);
            started = true;
        }

        @Override
        boolean joinsTokens() {
            return true;
        }

        public void finish() {
            out.finish();
        }
    }

    /**
     * Strip: up to {@code start} leading and {@code stop} trailing {@code content} characters of each token; the
     * trailing run of such characters is held until the token ends.
     */
    static final class StripStage extends StreamStage {
        private final char content;
        private final int start, stop;
        private int leadingSeen;
        private boolean leadingDone;
        private int trailing;          // content characters held at the end of the token so far
        private boolean startPending;

        StripStage(char content, int start, int stop) {
            this.content = content;
            this.start = start;
            this.stop = stop;
        }

        public void accept(String piece, boolean newToken) {
            if (newToken) { endToken(); startPending = true; leadingSeen = 0; leadingDone = false; }
            int i = 0;
            while (!leadingDone && i < piece.length()) {
                if (leadingSeen < start && piece.charAt(i) == content) { leadingSeen++; i++; }
                else leadingDone = true;
            }
            if (leadingSeen >= start) leadingDone = true;
            StringBuilder sb = new StringBuilder();
            for (; i < piece.length(); i++) {
                char c = piece.charAt(i);
                if (stop > 0 && c == content) { trailing++; continue; }
                sb.append(String.valueOf(content).repeat(trailing)).append(c);
                trailing = 0;
            }
            if (trailing > stop) { sb.append(String.valueOf(content).repeat(trailing - stop)); trailing = stop; }
            emit(sb.toString());
        }

        private void emit(String s) {
            if (s.isEmpty() && !startPending) return;
            out.accept(s, startPending);
            startPending = false;
        }

        private void endToken() {
            trailing = 0; // at most `stop` are held, and the token's end removes them all
            if (startPending) emit("");
        }

        public void finish() {
            endToken();
            out.finish();
        }
    }

    /** Metaspace decoder, character by character; only the token's index matters. */
    static final class MetaspaceStage extends StreamStage {
        private final DecodeStep.MetaspaceDecode step;
        private int tokens;

        MetaspaceStage(DecodeStep.MetaspaceDecode step) {
            this.step = step;
        }

        public void accept(String piece, boolean newToken) {
            if (newToken) tokens++;
            out.accept(step.map(piece, tokens == 1 && step.stripFirst()), newToken);
        }

        public void finish() {
            out.finish();
        }
    }

    /**
     * ByteLevel: each token's bytes join one buffer, decoded as UTF-8 as far as it holds whole characters; an
     * unfinished character at the end waits for its next bytes (or becomes U+FFFD at the end).
     */
    static final class ByteLevelStage extends StreamStage {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private boolean started;

        @Override
        boolean needsWholeTokens() {
            return true;
        }

        @Override
        boolean joinsTokens() {
            return true;
        }

        public void accept(String token, boolean newToken) {
            ByteLevel.decodeToken(token, bytes);
            emit(false);
        }

        private void emit(boolean atEnd) {
            byte[] b = bytes.toByteArray();
            Utf8.Decoded d = Utf8.decode(b, 0, b.length, atEnd);
            bytes.reset();
            bytes.write(b, d.consumed(), b.length - d.consumed());
            if (d.text().isEmpty() && started) return;
            out.accept(d.text(), !started);
            started = true;
        }

        public void finish() {
            emit(true);
            out.finish();
        }
    }
}
