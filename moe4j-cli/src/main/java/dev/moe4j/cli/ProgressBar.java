package dev.moe4j.cli;

import dev.moe4j.train.Trainer;
import dev.moe4j.util.Units;

import java.io.PrintWriter;
import java.util.Locale;

/** One self-overwriting status line on stderr: step, loss, aux loss, tokens/s, ETA. */
final class ProgressBar {
    private final PrintWriter err;
    private final String label;
    private final long start = System.nanoTime();
    private final int firstStep;
    private long lastDraw;

    ProgressBar(PrintWriter err, String label, int firstStep) {
        this.err = err;
        this.label = label;
        this.firstStep = firstStep;
    }

    void update(Trainer.StepInfo s) {
        long now = System.nanoTime();
        if (s.step() != s.steps() && now - lastDraw < 200_000_000L) return;
        lastDraw = now;
        double elapsed = (now - start) / 1e9, perStep = elapsed / Math.max(1, s.step() - firstStep);
        long eta = Math.round(perStep * (s.steps() - s.step()));
        int width = 24, filled = (int) ((long) width * s.step() / s.steps());
        err.printf(Locale.ROOT, "\r%s [%s%s] %d/%d loss %s aux %s z %s %s tok/s ETA %d:%02d%s ", label, "#".repeat(filled),
                ".".repeat(width - filled), s.step(), s.steps(), Units.decimal(s.ce(), 4), Units.decimal(s.balance(), 4),
                Units.decimal(s.z(), 3), Units.count(s.tokensPerSecond()), eta / 60, eta % 60,
                Double.isNaN(s.valLoss()) ? "" : " val " + Units.decimal(s.valLoss(), 4));
        if (s.step() == s.steps()) err.println();
        err.flush();
    }
}
