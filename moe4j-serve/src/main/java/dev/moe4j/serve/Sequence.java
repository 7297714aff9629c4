package dev.moe4j.serve;

import dev.moe4j.generate.SamplerSettings;

import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request's generation as the HTTP side sees it: what to generate, and the events the engine sends
 * back. {@link #cancel()} (the client went away) makes the engine drop it at its next step.
 */
public final class Sequence {
    /** What the engine reports: text as it is generated, then exactly one Done or Failed. */
    public sealed interface Event permits Text, Done, Failed {}
    public record Text(String text) implements Event {}
    public record Done(String finishReason, int promptTokens, int completionTokens) implements Event {}
    public record Failed(String message) implements Event {}

    final int[] prompt;
    final int maxTokens;
    final SamplerSettings sampling;
    final Set<Integer> stopTokens;
    final List<String> stopStrings;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;
    int[] script;   // test-only: tokens that replace the sampled ones (ReplyScript); null in use

    public Sequence(int[] prompt, int maxTokens, SamplerSettings sampling, Set<Integer> stopTokens, List<String> stopStrings) {
        this.prompt = prompt;
        this.maxTokens = maxTokens;
        this.sampling = sampling;
        this.stopTokens = stopTokens;
        this.stopStrings = stopStrings;
    }

    public void cancel() { cancelled = true; }

    /** Tests: generate exactly these tokens (the model still runs every step), then stop. */
    void script(int[] tokens) { this.script = tokens; }
    public boolean cancelled() { return cancelled; }

    /** The next event, waiting at most {@code millis}; null on time-out. */
    public Event next(long millis) throws InterruptedException {
        return events.poll(millis, TimeUnit.MILLISECONDS);
    }

    void emit(Event e) { events.add(e); }
}
