package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Streaming decode for generation: each id's token text runs through the streaming form of the tokenizer's
 * decoder chain ({@link StreamStage}), which holds back only what a later id could still change (a byte-fallback
 * run, an unfinished UTF-8 character, a possible partial match). So the pieces returned, flush included, are
 * exactly the one-shot {@code decode(ids, skipSpecial)}, and memory stays bounded by what is held.
 */
final class StreamingDecoder implements TokenDecoder {
    private final BpeTokenizer tokenizer;
    private final boolean skipSpecial;
    private final StringBuilder ready = new StringBuilder();
    private TokenSink head;

    StreamingDecoder(BpeTokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
        this.head = pipeline();
    }

    @Override
    public String next(int id) {
        String token = tokenizer.tokenText(id); // fails on a bad id before anything changes
        if (!(skipSpecial && tokenizer.isSpecial(id))) head.accept(token, true);
        return take();
    }

    @Override
    public String flush() {
        head.finish();
        head = pipeline();
        return take();
    }

    private String take() {
        String s = ready.toString();
        ready.setLength(0);
        return s;
    }

    /** The decoder's stages, a whole-token reassembler in front of any token-wise stage after a joining one. */
    private TokenSink pipeline() {
        List<DecodeStep> steps = tokenizer.decoderSteps();
        TokenSink sink = joinWith(steps.isEmpty() ? " " : "");
        List<StreamStage> stages = new ArrayList<>();
        boolean joined = false;
        for (DecodeStep step : steps) {
            StreamStage stage = step.stage();
            if (joined && stage.needsWholeTokens()) stages.add(new StreamStage.Reassemble());
            stages.add(stage);
            joined |= stage.joinsTokens();
        }
        TokenSink next = sink;
        for (int i = stages.size() - 1; i >= 0; i--) {
            stages.get(i).out = next;
            next = stages.get(i);
        }
        return next;
    }

    /** The chain's output tokens joined with {@code separator} (a space without a decoder, as HF does). */
    private TokenSink joinWith(String separator) {
        return new TokenSink() {
            private boolean first = true;

            public void accept(String piece, boolean newToken) {
                if (newToken && !first) ready.append(separator);
                first = false;
                ready.append(piece);
            }

            public void finish() {}
        };
    }
}
