package dev.moe4j.cli.perf;

import dev.moe4j.util.Units;

import java.io.PrintWriter;

/** A one-line progress bar on stderr, redrawn (after a carriage return) when the percentage changes. */
public final class Progress {
    private final PrintWriter err;
    private final String label;
    private final long total;
    private final Runnable eachStep;
    private long done;
    private int shown = -1;

    /**
     * @param total    the bytes that {@link #advance} will add up to
     * @param eachStep runs at every {@link #advance}, before drawing: may throw to stop the work (e.g. at shutdown)
     */
    public Progress(PrintWriter err, String label, long total, Runnable eachStep) {
        this.err = err;
        this.label = label;
        this.total = Math.max(1, total);
        this.eachStep = eachStep;
    }

    /** Adds {@code n} bytes done; redraws when the whole percentage changes. */
    public void advance(long n) {
        eachStep.run();
        done += n;
        int pct = (int) (100 * done / total);
        if (pct == shown) return;
        shown = pct;
        int bar = pct * 30 / 100;
        // Trailing spaces: a redraw may be shorter than the last ("9.99/270 MiB", then "10.0/270 MiB" is not).
        err.printf("\r%s [%s%s] %3d%% %s  ", label, "#".repeat(bar), " ".repeat(30 - bar), pct, Units.bytesOf(done, total));
        err.flush();
    }

    public void finish() {
        if (shown >= 0) err.println();
        err.flush();
    }
}
