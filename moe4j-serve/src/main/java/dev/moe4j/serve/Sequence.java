package dev.moe4j.serve;

import dev.moe4j.constrain.TokenConstraint;
import dev.moe4j.generate.SamplerSettings;

import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request's generation as the HTTP side sees it: what to generate, and the events the engine sends
 * back. {@link #cancel()} (the client went away) makes the engine drop it at its next step. A request with
 * {@code n} choices has n sequences, each with its {@link #index}, which can share one {@code ready} queue that
 * names the sequence of every event as it is sent.
 */
public final class Sequence {
    /** What the engine reports: text as it is generated, then exactly one Done or Failed. */
    public sealed interface Event permits Text, Done, Failed {}
    /** Generated text, with the log-probabilities of the tokens it completes (empty when not asked for). */
    public record Text(String text, List<TokenLogprob> logprobs) implements Event {
        public Text(String text) { this(text, List.of()); }
    }
    public record Done(String finishReason, int promptTokens, int completionTokens) implements Event {}
    public record Failed(String message) implements Event {}

    /** One generated token's log-probability and the most likely alternatives', most likely first. */
    public record TokenLogprob(int token, double logprob, int[] topIds, double[] topLogprobs) {}

    /** How a sequence is decoded beyond its sampler settings. */
    public record Decoding(TokenConstraint constraint, int topLogprobs, int index, BlockingQueue<Sequence> ready) {
        /** Unconstrained, no log-probabilities, choice 0, no shared queue. */
        public static final Decoding PLAIN = new Decoding(null, -1, 0, null);
    }

    final int[] prompt;
    final int maxTokens;
    final SamplerSettings sampling;
    final Set<Integer> stopTokens;
    final List<String> stopStrings;
    final Decoding decoding;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;
    int[] script;   // test-only: tokens that replace the sampled ones (ReplyScript); null in use
    /** Whether the text keeps special tokens: for replies whose parser reads them (gpt-oss's harmony markers). */
    boolean keepSpecialTokens;

    public Sequence(int[] prompt, int maxTokens, SamplerSettings sampling, Set<Integer> stopTokens, List<String> stopStrings) {
        this(prompt, maxTokens, sampling, stopTokens, stopStrings, Decoding.PLAIN);
    }

    /**
     * @param decoding a constraint (one per sequence: it keeps this sequence's grammar state), how many top
     *                 log-probabilities to report (-1: none), the choice index and the shared queue
     */
    public Sequence(int[] prompt, int maxTokens, SamplerSettings sampling, Set<Integer> stopTokens, List<String> stopStrings,
                    Decoding decoding) {
        this.prompt = prompt;
        this.maxTokens = maxTokens;
        this.sampling = sampling;
        this.stopTokens = stopTokens;
        this.stopStrings = stopStrings;
        this.decoding = decoding;
    }

    public int index() { return decoding.index(); }
    public void cancel() { cancelled = true; }

    /** Tests: generate exactly these tokens (the model still runs every step), then stop. */
    void script(int[] tokens) { this.script = tokens; }
    public boolean cancelled() { return cancelled; }

    /** The next event, waiting at most {@code millis}; null on time-out. */
    public Event next(long millis) throws InterruptedException {
        return events.poll(millis, TimeUnit.MILLISECONDS);
    }

    void emit(Event e) {
        events.add(e);
        if (decoding.ready() != null) decoding.ready().add(this);
    }
}
