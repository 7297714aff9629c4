package dev.moe4j.train;

import dev.moe4j.util.Moe4jException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * Everything needed to continue a run bit-for-bit: model shape, options, data source and its fingerprint,
 * completed steps, weights, both Adam moments, the loss-free routing biases and the history so far (one row per
 * step). Written to a temporary file, forced to disk, then renamed over {@code checkpoint.bin}, so a crash leaves
 * the previous checkpoint intact; a failed write leaves no temporary file. The framing ({@link CheckpointFile})
 * carries a CRC32C per section, and {@link #read} checks every field, so a damaged or edited checkpoint is
 * refused with one line naming the file and the section or field instead of training on.
 *
 * @param dataFingerprint {@link dev.moe4j.train.data.Dataset#fingerprint()} of the data the run trains on
 */
public record Checkpoint(ModelSpec spec, TrainOptions options, String data, long dataFingerprint, int step, double[] weights,
                         double[] m, double[] v, double[][] selectionBias, List<double[]> history) {
    public static final String FILE = "checkpoint.bin";
    /** Columns of a history row before the per-layer busiest/mean loads ({@link Trainer.StepInfo}). */
    static final int HISTORY_HEAD = 9;
    private static final int META_MAX = 1 << 20;

    /**
     * Writes {@code dir/checkpoint.bin} atomically.
     *
     * @throws Moe4jException naming the file when it cannot be written (the previous checkpoint, if any, is kept)
     */
    public void write(Path dir) {
        Path target = dir.resolve(FILE), tmp = dir.resolve(FILE + ".tmp");
        boolean done = false;
        try {
            Files.createDirectories(dir);
            try (FileChannel fc = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
                 OutputStream o = new BufferedOutputStream(Channels.newOutputStream(fc), 1 << 16)) {
                CheckpointFile.Writer w = new CheckpointFile.Writer(o);
                w.bytes("meta", meta().getBytes(StandardCharsets.UTF_8));
                w.doubles("weights", weights);
                w.doubles("adam-m", m);
                w.doubles("adam-v", v);
                w.doubles("selection-bias", selectionBias);
                w.doubles("history", history.toArray(new double[0][]));
                o.flush();
                fc.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } catch (IOException e) {
            throw new Moe4jException(target + ": cannot write the checkpoint: " + OutputFolder.reason(e), e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed; that error is the one to report
                }
            }
        }
    }

    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    /**
     * Reads and checks {@code dir/checkpoint.bin}: each section's checksum and length, every field's range, the
     * arrays' shapes against the recorded model, finite weights and moments, one history row per completed step.
     *
     * @throws Moe4jException one line naming the file and the section or field at fault
     */
    public static Checkpoint read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) throw new Moe4jException(dir + ": no " + FILE + " to resume from");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(f), 1 << 16)) {
            CheckpointFile.Reader r = new CheckpointFile.Reader(in);
            Meta meta = new Meta(new String(r.bytes("meta", META_MAX), StandardCharsets.UTF_8));
            ModelSpec spec = meta.spec();
            TrainOptions opt = meta.options();
            int step = meta.integer("step");
            if (step < 0 || step > opt.steps()) {
                throw new IllegalArgumentException("invalid step: " + step + " (the run has " + opt.steps() + " steps)");
            }
            String data = meta.text("data");
            long fingerprint = meta.hex("data-fingerprint");
            Params layout = new Params(spec);
            Trainer.requireMemory(spec, opt.batch());
            int layers = spec.layers(), experts = spec.experts(), cols = HISTORY_HEAD + layers;
            double[] w = r.doubles("weights", layout.size());
            requireFinite("weights", w, layout);
            double[] m = r.doubles("adam-m", layout.size());
            requireFinite("adam-m", m, layout);
            double[] v = r.doubles("adam-v", layout.size());
            requireFinite("adam-v", v, layout);
            for (int i = 0; i < v.length; i++) {
                if (v[i] < 0) throw new IllegalArgumentException("section 'adam-v' holds a negative second moment " + v[i] + at(i, layout));
            }
            double[] flatBias = r.doubles("selection-bias", layers * experts);
            requireFinite("selection-bias", flatBias, null);
            if ((long) step * cols > Integer.MAX_VALUE) throw new IllegalArgumentException("invalid step: " + step + " (too many for one history array)");
            double[] flatHistory = r.doubles("history", step * cols);
            r.end();
            double[][] bias = new double[layers][];
            for (int l = 0; l < layers; l++) bias[l] = Arrays.copyOfRange(flatBias, l * experts, (l + 1) * experts);
            return new Checkpoint(spec, opt, data, fingerprint, step, w, m, v, bias, history(flatHistory, step, cols));
        } catch (CheckpointFile.CorruptException | IllegalArgumentException e) {
            throw new Moe4jException(f + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new Moe4jException(f + ": cannot read: " + OutputFolder.reason(e), e);
        }
    }

    private static List<double[]> history(double[] flat, int step, int cols) {
        List<double[]> rows = new ArrayList<>(step);
        for (int i = 0; i < step; i++) {
            double[] row = Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
            if (row[0] != i + 1) throw new IllegalArgumentException("section 'history': row " + i + " records step " + row[0] + ", not " + (i + 1));
            if (!Double.isFinite(row[1])) throw new IllegalArgumentException("section 'history': the loss of step " + (i + 1) + " is " + row[1]);
            rows.add(row);
        }
        return rows;
    }

    private static void requireFinite(String section, double[] a, Params layout) {
        for (int i = 0; i < a.length; i++) {
            if (!Double.isFinite(a[i])) throw new IllegalArgumentException("section '" + section + "' holds " + a[i] + at(i, layout));
        }
    }

    private static String at(int i, Params layout) {
        return layout == null ? " at index " + i : " in tensor " + layout.tensorAt(i).name() + " (index " + (i - layout.tensorAt(i).offset()) + ")";
    }

    /** The settings as {@code key=value} lines; keys are the {@code train} options' names where one exists. */
    private String meta() {
        ModelSpec s = spec;
        TrainOptions o = options;
        RouterSpec r = s.router();
        Object[] kv = {"vocab", s.vocab(), "dim", s.dim(), "layers", s.layers(), "heads", s.heads(), "experts", s.experts(),
                "top-k", s.topK(), "ffn", s.expertFfn(), "shared-ffn", s.sharedFfn(), "seq-len", s.seqLen(),
                "rope-theta", s.ropeTheta(), "norm-eps", s.normEps(), "causal", s.causal(),
                "router", r.kind(), "capacity-factor", r.capacityFactor(), "renormalize", r.renormalize(), "bias-rate", r.biasRate(),
                "steps", o.steps(), "batch", o.batch(), "lr", o.lr(), "min-lr-ratio", o.minLrRatio(), "warmup", o.warmup(),
                "weight-decay", o.weightDecay(), "clip", o.clip(), "balance-coef", o.balanceCoef(), "z-coef", o.zCoef(),
                "seed", o.seed(), "checkpoint-every", o.checkpointEvery(), "eval-every", o.evalEvery(), "eval-batches", o.evalBatches(),
                "data", data, "data-fingerprint", Long.toHexString(dataFingerprint), "step", step};
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < kv.length; i += 2) b.append(kv[i]).append('=').append(escape(String.valueOf(kv[i + 1]))).append('\n');
        return b.toString();
    }

    /** What {@link Properties#load} reads back unchanged. */
    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case ' ' -> b.append(i == 0 ? "\\ " : " ");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** The meta section's fields; each parse error names its field. */
    private static final class Meta {
        private final Properties p = new Properties();

        Meta(String text) throws IOException {
            p.load(new StringReader(text));
        }

        String text(String key) {
            String v = p.getProperty(key);
            if (v == null) throw new IllegalArgumentException("field " + key + " is missing");
            return v;
        }

        int integer(String key) {
            String v = text(key);
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid " + key + ": '" + v + "' is not an integer");
            }
        }

        long hex(String key) {
            String v = text(key);
            try {
                return Long.parseUnsignedLong(v, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid " + key + ": '" + v + "' is not a hexadecimal number");
            }
        }

        long longInteger(String key) {
            String v = text(key);
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid " + key + ": '" + v + "' is not an integer");
            }
        }

        double number(String key) {
            String v = text(key);
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid " + key + ": '" + v + "' is not a number");
            }
        }

        boolean bool(String key) {
            String v = text(key);
            if (!v.equals("true") && !v.equals("false")) throw new IllegalArgumentException("invalid " + key + ": '" + v + "' is not true or false");
            return v.equals("true");
        }

        RouterSpec.Kind kind(String key) {
            String v = text(key);
            for (RouterSpec.Kind k : RouterSpec.Kind.values()) if (k.name().equals(v)) return k;
            throw new IllegalArgumentException("invalid " + key + ": '" + v + "' (one of " + Arrays.toString(RouterSpec.Kind.values()) + ")");
        }

        ModelSpec spec() {
            RouterSpec r = new RouterSpec(kind("router"), number("capacity-factor"), bool("renormalize"), number("bias-rate"));
            return new ModelSpec(integer("vocab"), integer("dim"), integer("layers"), integer("heads"), integer("experts"), integer("top-k"),
                    integer("ffn"), integer("shared-ffn"), integer("seq-len"), number("rope-theta"), number("norm-eps"), r, bool("causal"));
        }

        TrainOptions options() {
            return new TrainOptions(integer("steps"), integer("batch"), number("lr"), number("min-lr-ratio"), integer("warmup"),
                    number("weight-decay"), number("clip"), number("balance-coef"), number("z-coef"), longInteger("seed"),
                    integer("checkpoint-every"), integer("eval-every"), integer("eval-batches"));
        }
    }
}
