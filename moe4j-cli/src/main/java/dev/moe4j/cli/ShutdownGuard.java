package dev.moe4j.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Lets long work stop at a safe point when the JVM shuts down (Ctrl-C, SIGTERM, SIGHUP) and then say what was
 * kept. While installed, a shutdown hook asks the work to stop ({@link #check} throws {@link Stopped} at its next
 * safe point), waits for it (at most {@value #WAIT_SECONDS} s, so a slow step cannot keep the JVM alive) and runs
 * the report. Close it when the work ends.
 */
final class ShutdownGuard implements AutoCloseable {
    static final long WAIT_SECONDS = 10;

    /** Thrown by {@link #check} once the JVM is shutting down; the guard's report says what happened. */
    static final class Stopped extends RuntimeException {
        Stopped() {
            super("stopped because the JVM is shutting down", null, false, false);
        }
    }

    /** What the hook reports, told whether the work reached a safe point within the wait. */
    interface Report {
        void run(boolean stopped);
    }

    private final Thread hook;
    private final CountDownLatch workDone = new CountDownLatch(1);
    private volatile boolean stopping;

    private ShutdownGuard(Report report) {
        hook = new Thread(() -> {
            stopping = true;
            boolean stopped = false;
            try {
                stopped = workDone.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            report.run(stopped);
        }, "moe4j-shutdown-report");
    }

    static ShutdownGuard install(Report report) {
        ShutdownGuard g = new ShutdownGuard(report);
        Runtime.getRuntime().addShutdownHook(g.hook);
        return g;
    }

    /** A safe point of the work. @throws Stopped once the JVM has begun shutting down */
    void check() {
        if (stopping) throw new Stopped();
    }

    /** The work has ended (done, failed or stopped): the report may run, or, without a shutdown, never will. */
    @Override
    public void close() {
        workDone.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it reports
        }
    }
}
