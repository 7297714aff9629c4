package dev.moe4j.model.mutation;

import dev.moe4j.model.Model;
import dev.moe4j.util.Moe4jException;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Loads a model and runs a few token ids through it on a worker thread, bounded in time and in the bytes
 * that thread allocates, and says what happened: a {@link Moe4jException}, logits, or anything else.
 */
final class MutantLoader implements AutoCloseable {
    /** Far above what loading a tiny checkpoint allocates (a few MB): more means a count was trusted. */
    static final long ALLOCATION_LIMIT = 256L << 20;

    sealed interface Outcome {}

    record Rejected(Moe4jException error) implements Outcome {}

    record Loaded(float[] logits) implements Outcome {}

    /** An exception other than Moe4jException, an Error, a timeout or too much allocation. */
    record Broken(String why) implements Outcome {}

    private final int[] ids;
    private final long timeoutSeconds;
    private ExecutorService worker = newWorker();

    MutantLoader(int[] ids, long timeoutSeconds) {
        this.ids = ids;
        this.timeoutSeconds = timeoutSeconds;
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mutant-loader");
            t.setDaemon(true);   // a hung load must not keep the test JVM alive
            return t;
        });
    }

    Outcome load(Path model) {
        Future<Outcome> f = worker.submit(() -> run(model));
        try {
            return f.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow();
            worker = newWorker();
            return new Broken("no answer within " + timeoutSeconds + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Broken("interrupted");
        } catch (ExecutionException e) {
            return new Broken(e.getCause().toString());
        }
    }

    private Outcome run(Path model) {
        long before = allocated();
        Outcome outcome;
        try (Model m = Model.load(model)) {
            outcome = new Loaded(m.transformer().forward(ids, m.transformer().newCache(ids.length), true));
        } catch (Moe4jException e) {
            outcome = new Rejected(e);
        } catch (Throwable t) {
            StackTraceElement[] at = t.getStackTrace();
            return new Broken(t + (at.length > 0 ? " at " + at[0] : "") + (at.length > 1 ? " < " + at[1] : ""));
        }
        long bytes = allocated() - before;
        if (bytes > ALLOCATION_LIMIT) return new Broken("allocated " + (bytes >> 20) + " MiB (" + describe(outcome) + ")");
        return outcome;
    }

    static String describe(Outcome o) {
        return switch (o) {
            case Rejected r -> "rejected: " + r.error().getMessage();
            case Loaded l -> "loaded, logits " + Arrays.toString(Arrays.copyOf(l.logits(), 3)) + "…";
            case Broken b -> b.why();
        };
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
