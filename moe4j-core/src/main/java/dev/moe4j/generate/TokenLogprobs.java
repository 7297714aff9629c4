package dev.moe4j.generate;

/**
 * The log-probabilities of one sampled token, filled by {@link Sampler#sample(float[], int, int, int[], int, TokenLogprobs)}:
 * natural logarithms of the softmax at temperature 1 of the logits the sampler used (after logit bias, penalties
 * and any constraint mask; before top-k/top-p/min-p), for the chosen token and the {@link #capacity()} most likely
 * ones, most likely first (ties: lower id first). Reused from token to token; not thread-safe.
 */
public final class TokenLogprobs {
    private final int[] topIds;
    private final double[] topLogprobs;
    private int count;
    private int token;
    private double logprob;

    /** @param top how many most likely tokens to report besides the chosen one (OpenAI allows 0..20) */
    public TokenLogprobs(int top) {
        if (top < 0) throw new IllegalArgumentException("top must be >= 0, got " + top);
        topIds = new int[top];
        topLogprobs = new double[top];
    }

    public int capacity() { return topIds.length; }
    public int token() { return token; }
    public double logprob() { return logprob; }
    /** How many top entries are filled: the capacity, or fewer when fewer tokens have a finite logit. */
    public int count() { return count; }
    public int topId(int i) { return topIds[i]; }
    public double topLogprob(int i) { return topLogprobs[i]; }

    void set(int chosen, double chosenLogprob) {
        token = chosen;
        logprob = chosenLogprob;
        count = 0;
    }

    void add(int id, double lp) {
        topIds[count] = id;
        topLogprobs[count++] = lp;
    }
}
