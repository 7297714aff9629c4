package dev.moe4j.serve;

import dev.moe4j.constrain.TokenConstraint;
import dev.moe4j.generate.Sampler;
import dev.moe4j.generate.TokenLogprobs;
import dev.moe4j.model.BatchDecoder;
import dev.moe4j.moe.PlanListener;
import dev.moe4j.model.KvCache;
import dev.moe4j.model.Model;
import dev.moe4j.model.MoeTransformer;
import dev.moe4j.tokenizer.TokenDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Continuous batching. One thread owns the model: it admits waiting sequences, prefills one chunk of a
 * new prompt, then runs one {@link BatchDecoder} step for every active sequence together, samples each
 * one's next token and hands the text to its {@link Sequence}. Sequences join and leave between steps; a
 * long prompt is prefilled a chunk per step, so it never stalls the sequences already generating.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    /** Thrown by {@link #submit} when every slot and queue place is taken. */
    public static final class OverloadedException extends RuntimeException {
        OverloadedException(String message) { super(message); }
    }

    private final Model model;
    private final MoeTransformer transformer;
    private final BatchDecoder decoder;
    private final Metrics metrics;
    private final int maxConcurrent;
    private final int maxQueue;
    private final long stepPauseMillis;
    private final LinkedBlockingQueue<Sequence> waiting = new LinkedBlockingQueue<>();
    private final AtomicInteger admitted = new AtomicInteger();   // waiting + active
    private final List<Slot> active = new ArrayList<>();
    private final List<Slot> prefilling = new ArrayList<>();     // admitted, prompt not yet fully in the cache
    private final int prefillChunk;
    private final Thread thread;
    private volatile boolean running = true;
    // A decode step's inputs and logits, kept between steps so that steady decoding allocates none of them.
    private final PlanListener countRouted;
    private int[] stepIds = new int[0];
    private KvCache[] stepCaches = new KvCache[0];
    private Slot[] stepSlots = new Slot[0];
    private float[] stepLogits = new float[0];
    private static final int[] NO_HISTORY = {};
    private static final String GENERATION_FAILED = "generation failed; the server log has the details";

    /** A sequence being decoded: its cache, sampler and text state. Touched only by the engine thread. */
    private static final class Slot {
        final Sequence seq;
        final KvCache cache;
        final Sampler sampler;
        final TokenDecoder text;
        final StopMatcher stop;
        final int[] stopTokens;   // seq.stopTokens unboxed, so checking a token allocates nothing
        final TokenConstraint constraint;          // null when unconstrained
        final TokenLogprobs logprobs;              // null when not asked for
        final List<Sequence.TokenLogprob> pendingLogprobs = new ArrayList<>(); // tokens whose text is not sent yet
        final int[] history;                       // prompt and generated tokens, for the repeat penalty only
        int historyLength;
        int generated, last, scripted;

        Slot(Sequence seq, KvCache cache, TokenDecoder text) {
            this.seq = seq;
            this.cache = cache;
            this.sampler = new Sampler(seq.sampling);
            this.text = text;
            this.stop = new StopMatcher(seq.stopStrings);
            this.stopTokens = seq.stopTokens.stream().mapToInt(Integer::intValue).toArray();
            this.constraint = seq.decoding.constraint();
            this.logprobs = seq.decoding.topLogprobs() >= 0 ? new TokenLogprobs(seq.decoding.topLogprobs()) : null;
            this.history = seq.sampling.repeatPenalty() != 1f ? Arrays.copyOf(seq.prompt, seq.prompt.length + seq.maxTokens) : NO_HISTORY;
            this.historyLength = history.length == 0 ? 0 : seq.prompt.length;
        }

        boolean isStopToken(int token) {
            for (int t : stopTokens) if (t == token) return true;
            return false;
        }
    }

    /**
     * @param stepPauseMillis a pause after every step, 0 in use; tests set it to make generation slow enough to
     *                        observe cancellation
     */
    public Engine(Model model, Metrics metrics, int maxConcurrent, int maxQueue, long stepPauseMillis) {
        this(model, metrics, maxConcurrent, maxQueue, stepPauseMillis, ServerOptions.DEFAULT_PREFILL_CHUNK);
    }

    public Engine(Model model, Metrics metrics, int maxConcurrent, int maxQueue, long stepPauseMillis, int prefillChunk) {
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be >= 1, got " + prefillChunk);
        this.prefillChunk = prefillChunk;
        if (maxConcurrent < 1) throw new IllegalArgumentException("max concurrent sequences must be >= 1, got " + maxConcurrent);
        if (maxQueue < 0) throw new IllegalArgumentException("max queue must be >= 0, got " + maxQueue);
        this.model = model;
        this.transformer = model.transformer();
        this.decoder = new BatchDecoder(transformer);
        this.metrics = metrics;
        this.countRouted = metrics::routed;
        this.maxConcurrent = maxConcurrent;
        this.maxQueue = maxQueue;
        this.stepPauseMillis = stepPauseMillis;
        metrics.gauges(this::queueDepth, this::activeCount);
        this.thread = Thread.ofPlatform().name("moe4j-engine").daemon().start(this::loop);
    }

    /**
     * Queues a sequence; its events arrive on the sequence.
     *
     * @throws OverloadedException when every slot and queue place is taken by a live request
     */
    public void submit(Sequence seq) {
        if (!tryAdmit() && (dropCancelledWaiting() == 0 || !tryAdmit())) {
            throw new OverloadedException("the server is busy: all " + maxConcurrent + " slots"
                    + (maxQueue > 0 ? " and " + maxQueue + " queue places" : "") + " are taken; retry later");
        }
        waiting.add(seq);
    }

    private boolean tryAdmit() {
        if (admitted.incrementAndGet() <= maxConcurrent + maxQueue) return true;
        admitted.decrementAndGet();
        return false;
    }

    /**
     * Frees the queue places of requests whose clients left while they waited; otherwise clients that hang up
     * right after sending could fill the queue and get live requests refused. Returns how many were dropped.
     */
    private int dropCancelledWaiting() {
        int[] dropped = {0};
        waiting.removeIf(s -> s.cancelled() && ++dropped[0] > 0);
        for (int i = 0; i < dropped[0]; i++) {
            admitted.decrementAndGet();
            metrics.cancelled();
        }
        return dropped[0];
    }

    public int queueDepth() { return waiting.size(); }
    /** The most sequences that can be admitted at once: slots plus queue places. */
    public int capacity() { return maxConcurrent + maxQueue; }
    public int activeCount() { return Math.max(0, admitted.get() - waiting.size()); }

    private void loop() {
        while (running) {
            try {
                admit();
                if (active.isEmpty() && prefilling.isEmpty()) {
                    Sequence s = waiting.poll(100, TimeUnit.MILLISECONDS);
                    if (s != null) start(s);
                    continue;
                }
                prefillChunk();
                step();
                if (stepPauseMillis > 0) Thread.sleep(stepPauseMillis);
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                // A step failed (a bug or an out-of-memory): fail the sequences in it, keep serving. The client is
                // told no Java exception; the log has it.
                log.error("decode step failed", e);
                for (Slot s : List.copyOf(active)) finish(s, new Sequence.Failed(GENERATION_FAILED));
                for (Slot s : List.copyOf(prefilling)) finish(s, new Sequence.Failed(GENERATION_FAILED));
            }
        }
        for (Slot s : List.copyOf(active)) finish(s, new Sequence.Failed("the server is shutting down"));
        for (Slot s : List.copyOf(prefilling)) finish(s, new Sequence.Failed("the server is shutting down"));
        for (Sequence s; (s = waiting.poll()) != null; ) s.emit(new Sequence.Failed("the server is shutting down"));
    }

    private void admit() {
        while (active.size() + prefilling.size() < maxConcurrent) {
            Sequence s = waiting.poll();
            if (s == null) return;
            start(s);
        }
    }

    /** Gives a new sequence its cache; its prompt is prefilled chunk by chunk between decode steps. */
    private void start(Sequence seq) {
        if (seq.cancelled()) {
            admitted.decrementAndGet();
            metrics.cancelled();
            return;
        }
        try {
            prefilling.add(new Slot(seq, transformer.newCache(seq.prompt.length + seq.maxTokens), model.tokenizer().streamingDecoder(!seq.keepSpecialTokens)));
        } catch (OutOfMemoryError e) { // the heap cannot hold this request's KV cache now
            log.warn("no memory for a KV cache of {} + {} tokens", seq.prompt.length, seq.maxTokens);
            admitted.decrementAndGet();
            seq.emit(new Sequence.Failed("not enough memory for a " + (seq.prompt.length + seq.maxTokens)
                    + "-token KV cache now; retry later or ask for fewer max_tokens"));
        } catch (RuntimeException e) {
            log.error("cannot start a sequence", e);
            admitted.decrementAndGet();
            seq.emit(new Sequence.Failed(GENERATION_FAILED));
        }
    }

    /** Runs the next chunk of the oldest prompt; when the prompt is complete, takes its first token. */
    private void prefillChunk() {
        if (prefilling.isEmpty()) return;
        Slot slot = prefilling.get(0);
        if (slot.seq.cancelled()) {
            prefilling.remove(0);
            admitted.decrementAndGet();
            metrics.cancelled();
            return;
        }
        int from = slot.cache.length(), n = Math.min(prefillChunk, slot.seq.prompt.length - from);
        long t0 = System.nanoTime();
        float[] logits;
        try {
            logits = transformer.forward(Arrays.copyOfRange(slot.seq.prompt, from, from + n), slot.cache, false, null, countRouted);
        } catch (RuntimeException e) {
            log.error("prefill failed", e);
            prefilling.remove(0);
            admitted.decrementAndGet();
            slot.seq.emit(new Sequence.Failed(GENERATION_FAILED));
            return;
        }
        metrics.prompt(n, System.nanoTime() - t0);
        if (slot.cache.length() < slot.seq.prompt.length) return;
        prefilling.remove(0);
        active.add(slot);
        accept(slot, sample(slot, logits, 0, transformer.config().vocabSize()));
    }

    /**
     * The slot's next token from its row of logits: the constraint masks the row in place (with the tokens left
     * after this one as its budget), then the sampler draws and fills the log-probabilities. -1 when the constraint
     * leaves no token at all.
     */
    private int sample(Slot s, float[] logits, int offset, int vocab) {
        if (s.constraint != null) {
            int left = Math.min(s.seq.maxTokens - s.generated, s.cache.capacity() - s.cache.length()) - 1;
            if (s.constraint.mask(logits, offset, vocab, Math.max(0, left)) == 0) return -1;
        }
        return s.sampler.sample(logits, offset, vocab, s.history, s.historyLength, s.logprobs);
    }

    private void step() {
        for (int i = active.size() - 1; i >= 0; i--) {
            if (active.get(i).seq.cancelled()) {
                active.remove(i);
                admitted.decrementAndGet();
                metrics.cancelled();
            }
        }
        if (active.isEmpty()) return;
        int b = active.size(), vocab = transformer.config().vocabSize();
        if (stepIds.length != b) {   // the decoder takes exactly one id and one cache per sequence
            stepIds = new int[b];
            stepCaches = new KvCache[b];
        }
        if (stepSlots.length < b) stepSlots = new Slot[b];
        if (stepLogits.length < b * vocab) stepLogits = new float[b * vocab];
        for (int i = 0; i < b; i++) {
            Slot s = active.get(i);
            stepSlots[i] = s;   // accept() may remove a slot from active
            stepIds[i] = s.last;
            stepCaches[i] = s.cache;
        }
        try {
            long t0 = System.nanoTime();
            float[] logits = decoder.decode(stepIds, stepCaches, countRouted, stepLogits);
            metrics.decodeStep(b, System.nanoTime() - t0);
            for (int i = 0; i < b; i++) accept(stepSlots[i], sample(stepSlots[i], logits, i * vocab, vocab));
        } finally {
            // Finished sequences' caches must not stay reachable from here.
            Arrays.fill(stepSlots, 0, b, null);
            Arrays.fill(stepCaches, 0, b, null);
        }
    }

    /** Records a sampled token: sends its text, or finishes the sequence. */
    private void accept(Slot s, int token) {
        if (s.seq.script != null) {   // a test's scripted reply replaces what was sampled (ReplyScript)
            if (s.scripted == s.seq.script.length) {
                finish(s, "stop");
                return;
            }
            token = s.seq.script[s.scripted++];
        }
        if (token < 0) { // the constraint allowed nothing: the grammar cannot continue with this vocabulary
            finish(s, "stop");
            return;
        }
        s.generated++;
        metrics.generated(1);
        if (s.isStopToken(token)) {
            finish(s, "stop");
            return;
        }
        if (s.constraint != null) s.constraint.accept(token);
        if (s.history.length > 0) s.history[s.historyLength++] = token;
        if (s.logprobs != null) s.pendingLogprobs.add(snapshot(s.logprobs));
        String text = s.stop.add(s.text.next(token));
        if (!text.isEmpty()) emitText(s, text);
        if (s.stop.stopped() || (s.constraint != null && s.constraint.finished())) finish(s, "stop");
        else if (s.generated >= s.seq.maxTokens || s.cache.length() >= s.cache.capacity()) finish(s, "length");
        else s.last = token;
    }

    private static Sequence.TokenLogprob snapshot(TokenLogprobs lp) {
        int[] ids = new int[lp.count()];
        double[] values = new double[lp.count()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = lp.topId(i);
            values[i] = lp.topLogprob(i);
        }
        return new Sequence.TokenLogprob(lp.token(), lp.logprob(), ids, values);
    }

    /** Sends text with the log-probabilities of the tokens generated since the last text. */
    private static void emitText(Slot s, String text) {
        if (s.pendingLogprobs.isEmpty()) {
            s.seq.emit(new Sequence.Text(text));
            return;
        }
        s.seq.emit(new Sequence.Text(text, List.copyOf(s.pendingLogprobs)));
        s.pendingLogprobs.clear();
    }

    private void finish(Slot s, String reason) {
        String rest = s.stop.add(s.text.flush());
        rest += s.stop.flush();
        if (!rest.isEmpty() || !s.pendingLogprobs.isEmpty()) emitText(s, rest);
        finish(s, new Sequence.Done(reason, s.seq.prompt.length, s.generated));
    }

    private void finish(Slot s, Sequence.Event last) {
        active.remove(s);
        prefilling.remove(s);
        admitted.decrementAndGet();
        s.seq.emit(last);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
