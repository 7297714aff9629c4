package dev.moe4j.generate;

import dev.moe4j.constrain.TokenConstraint;
import dev.moe4j.model.KvCache;
import dev.moe4j.model.MoeTransformer;
import dev.moe4j.util.Moe4jException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Prefills a prompt, then decodes token by token until a stop token, the token limit or the context end. */
public final class Generator {
    /** Receives each generated token; return false to stop. */
    @FunctionalInterface
    public interface TokenListener {
        boolean onToken(int id);
    }

    public record Result(List<Integer> tokens, String stopReason, int promptTokens, double prefillSeconds, double decodeSeconds) {}

    private final MoeTransformer model;

    public Generator(MoeTransformer model) {
        this.model = model;
    }

    public Result generate(int[] prompt, int maxTokens, SamplerSettings settings, Set<Integer> stopTokens, TokenListener listener) {
        return generate(prompt, maxTokens, settings, stopTokens, listener, null);
    }

    /**
     * As {@link #generate(int[], int, SamplerSettings, Set, TokenListener)}, with every token drawn under
     * {@code constraint} (may be null): it masks the logits before sampling, with the tokens left as its budget, and
     * generation stops ("stop") once it is finished; its end tokens should be the stop tokens.
     */
    public Result generate(int[] prompt, int maxTokens, SamplerSettings settings, Set<Integer> stopTokens, TokenListener listener,
                           TokenConstraint constraint) {
        if (prompt.length == 0) throw new Moe4jException("the prompt is empty: give at least one token");
        int context = model.config().contextLength();
        if (prompt.length >= context) {
            throw new Moe4jException("prompt of " + prompt.length + " tokens does not fit the context of " + context + " tokens");
        }
        int capacity = Math.min(context, prompt.length + maxTokens);
        KvCache cache = model.newCache(capacity);
        Sampler sampler = new Sampler(settings);
        // Prompt then generated tokens, in plain ints so the loop boxes nothing; it generates at most one token
        // past the cache's capacity (the one sampled from the last position).
        int[] history = java.util.Arrays.copyOf(prompt, capacity + 1);
        int length = prompt.length;
        int[] stops = toArray(stopTokens);

        long t0 = System.nanoTime();
        float[] logits = model.forward(prompt, cache, false);
        long t1 = System.nanoTime();
        String reason = "length";
        int[] one = new int[1];
        while (length - prompt.length < maxTokens) {
            if (constraint != null) {
                int left = Math.min(maxTokens - (length - prompt.length), cache.capacity() - cache.length()) - 1;
                if (constraint.mask(logits, 0, logits.length, Math.max(0, left)) == 0) { reason = "stop"; break; }
            }
            int next = sampler.sample(logits, 0, logits.length, history, length);
            history[length++] = next;
            if (contains(stops, next)) { reason = "stop"; break; }
            if (constraint != null) constraint.accept(next);
            if (listener != null && !listener.onToken(next)) { reason = "cancelled"; break; }
            if (constraint != null && constraint.finished()) { reason = "stop"; break; }
            if (length - prompt.length == maxTokens) break;
            if (cache.length() >= cache.capacity()) { reason = "context"; break; }
            one[0] = next;
            logits = model.forward(one, cache, false, logits);
        }
        long t2 = System.nanoTime();
        List<Integer> out = new ArrayList<>(length - prompt.length);
        for (int i = prompt.length; i < length; i++) out.add(history[i]);
        return new Result(out, reason, prompt.length, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    private static int[] toArray(Set<Integer> tokens) {
        int[] a = new int[tokens.size()];
        int n = 0;
        for (Integer t : tokens) if (t != null) a[n++] = t;
        return java.util.Arrays.copyOf(a, n);
    }

    private static boolean contains(int[] tokens, int token) {
        for (int t : tokens) if (t == token) return true;
        return false;
    }
}
