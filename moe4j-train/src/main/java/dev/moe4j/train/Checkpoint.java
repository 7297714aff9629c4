package dev.moe4j.train;

import dev.moe4j.util.Moe4jException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Everything needed to continue a run bit-for-bit: model shape, options, data source, completed steps, weights,
 * both Adam moments, the loss-free routing biases and the history so far. Written to a temporary file, forced to
 * disk, then renamed over {@code checkpoint.bin}, so a crash leaves the previous checkpoint intact.
 */
public record Checkpoint(ModelSpec spec, TrainOptions options, String data, int step, double[] weights, double[] m, double[] v,
                         double[][] selectionBias, List<double[]> history) {
    static final String FILE = "checkpoint.bin";
    private static final long MAGIC = 0x4D4F45344A434B31L; // "MOE4JCK1"

    public void write(Path dir) {
        Path target = dir.resolve(FILE), tmp = dir.resolve(FILE + ".tmp");
        try {
            Files.createDirectories(dir);
            try (var fc = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE);
                 DataOutputStream o = new DataOutputStream(new BufferedOutputStream(java.nio.channels.Channels.newOutputStream(fc), 1 << 16))) {
                o.writeLong(MAGIC);
                o.writeUTF(properties());
                o.writeInt(step);
                writeArray(o, weights);
                writeArray(o, m);
                writeArray(o, v);
                o.writeInt(selectionBias.length);
                for (double[] b : selectionBias) writeArray(o, b);
                o.writeInt(history.size());
                for (double[] h : history) writeArray(o, h);
                o.flush();
                fc.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new Moe4jException(target + ": cannot write checkpoint: " + e.getMessage(), e);
        }
    }

    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    public static Checkpoint read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) throw new Moe4jException(dir + ": no " + FILE + " to resume from");
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
            if (in.readLong() != MAGIC) throw new Moe4jException(f + ": not a moe4j checkpoint (bad magic)");
            Properties p = new Properties();
            p.load(new java.io.StringReader(in.readUTF()));
            int step = in.readInt();
            double[] w = readArray(in), m = readArray(in), v = readArray(in);
            double[][] bias = new double[in.readInt()][];
            for (int i = 0; i < bias.length; i++) bias[i] = readArray(in);
            int rows = in.readInt();
            List<double[]> hist = new ArrayList<>(rows);
            for (int i = 0; i < rows; i++) hist.add(readArray(in));
            return new Checkpoint(spec(p), options(p), p.getProperty("data"), step, w, m, v, bias, hist);
        } catch (IOException | RuntimeException e) {
            if (e instanceof Moe4jException me) throw me;
            throw new Moe4jException(f + ": corrupt checkpoint: " + e.getMessage(), e);
        }
    }

    private static void writeArray(DataOutputStream o, double[] a) throws IOException {
        o.writeInt(a.length);
        for (double x : a) o.writeDouble(x);
    }

    private static double[] readArray(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 1 << 28) throw new IOException("array length " + n);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = in.readDouble();
        return a;
    }

    private String properties() {
        ModelSpec s = spec;
        TrainOptions o = options;
        RouterSpec r = s.router();
        StringBuilder b = new StringBuilder();
        Object[] kv = {"vocab", s.vocab(), "dim", s.dim(), "layers", s.layers(), "heads", s.heads(), "experts", s.experts(),
                "topK", s.topK(), "expertFfn", s.expertFfn(), "sharedFfn", s.sharedFfn(), "seqLen", s.seqLen(),
                "ropeTheta", s.ropeTheta(), "normEps", s.normEps(), "causal", s.causal(),
                "router", r.kind(), "capacity", r.capacityFactor(), "renormalize", r.renormalize(), "biasRate", r.biasRate(),
                "steps", o.steps(), "batch", o.batch(), "lr", o.lr(), "minLrRatio", o.minLrRatio(), "warmup", o.warmup(),
                "weightDecay", o.weightDecay(), "clip", o.clip(), "balanceCoef", o.balanceCoef(), "zCoef", o.zCoef(),
                "seed", o.seed(), "checkpointEvery", o.checkpointEvery(), "evalEvery", o.evalEvery(), "evalBatches", o.evalBatches(),
                "data", data};
        for (int i = 0; i < kv.length; i += 2) b.append(kv[i]).append('=').append(escape(String.valueOf(kv[i + 1]))).append('\n');
        return b.toString();
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\");
    }

    private static ModelSpec spec(Properties p) {
        RouterSpec r = new RouterSpec(RouterSpec.Kind.valueOf(p.getProperty("router")), d(p, "capacity"),
                Boolean.parseBoolean(p.getProperty("renormalize")), d(p, "biasRate"));
        return new ModelSpec(i(p, "vocab"), i(p, "dim"), i(p, "layers"), i(p, "heads"), i(p, "experts"), i(p, "topK"),
                i(p, "expertFfn"), i(p, "sharedFfn"), i(p, "seqLen"), d(p, "ropeTheta"), d(p, "normEps"), r,
                Boolean.parseBoolean(p.getProperty("causal")));
    }

    private static TrainOptions options(Properties p) {
        return new TrainOptions(i(p, "steps"), i(p, "batch"), d(p, "lr"), d(p, "minLrRatio"), i(p, "warmup"), d(p, "weightDecay"),
                d(p, "clip"), d(p, "balanceCoef"), d(p, "zCoef"), Long.parseLong(p.getProperty("seed")), i(p, "checkpointEvery"),
                i(p, "evalEvery"), i(p, "evalBatches"));
    }

    private static int i(Properties p, String k) { return Integer.parseInt(p.getProperty(k)); }
    private static double d(Properties p, String k) { return Double.parseDouble(p.getProperty(k)); }
}
