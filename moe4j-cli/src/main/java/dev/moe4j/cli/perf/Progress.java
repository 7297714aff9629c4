package dev.moe4j.cli.perf;

import java.io.PrintWriter;

/** A one-line progress bar on stderr, redrawn when the percentage changes. */
public final class Progress {
    private final PrintWriter err;
    private final String label;
    private final long total;
    private long done;
    private int shown = -1;

    public Progress(PrintWriter err, String label, long total) {
        this.err = err;
        this.label = label;
        this.total = Math.max(1, total);
    }

    public void advance(long n) {
        done += n;
        int pct = (int) (100 * done / total);
        if (pct == shown) return;
        shown = pct;
        int bar = pct * 30 / 100;
        err.printf("\r%s [%s%s] %3d%% %.2f/%.2f GiB", label, "#".repeat(bar), " ".repeat(30 - bar), pct,
                done / 1073741824.0, total / 1073741824.0);
        err.flush();
    }

    public void finish() {
        if (shown >= 0) err.println();
        err.flush();
    }
}
