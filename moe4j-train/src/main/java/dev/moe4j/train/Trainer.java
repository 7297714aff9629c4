package dev.moe4j.train;

import dev.moe4j.train.data.Batch;
import dev.moe4j.train.data.Dataset;

import dev.moe4j.util.Moe4jException;
import dev.moe4j.util.Units;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The training loop: batch → forward → backward → clip → AdamW → loss-free bias update, with validation,
 * checkpoints every N steps and at the end, and resumption that continues bit-for-bit. Everything random is a
 * function of (seed, step), and every kernel sums in a fixed order, so a resumed run equals an uninterrupted one.
 */
public final class Trainer {
    /** What one step did; {@code valLoss} is NaN except on validation steps. */
    public record StepInfo(int step, int steps, double loss, double ce, double balance, double z, double lr, double gradNorm,
                           double tokensPerSecond, double[] maxOverMean, double valLoss, int[][] loads) {
        /** {@code loads[layer][expert]} of this step's batch; null for steps restored from a checkpoint. */
        double[] toRow() {
            double[] r = new double[9 + maxOverMean.length];
            double[] head = {step, loss, ce, balance, z, lr, gradNorm, tokensPerSecond, valLoss};
            System.arraycopy(head, 0, r, 0, 9);
            System.arraycopy(maxOverMean, 0, r, 9, maxOverMean.length);
            return r;
        }

        static StepInfo fromRow(double[] r, int steps) {
            return new StepInfo((int) r[0], steps, r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                    java.util.Arrays.copyOfRange(r, 9, r.length), r[8], null);
        }
    }

    /** Called after every step (for progress bars, charts, or to stop a run). */
    public interface Listener {
        void onStep(StepInfo info);
    }

    /**
     * Training stopped because the loss, the gradient norm, the validation loss or a weight stopped being finite.
     * Nothing of the failed step was saved: the last checkpoint in the run's folder is the last good state.
     */
    public static final class DivergedException extends Moe4jException {
        DivergedException(String message) { super(message); }
    }

    /** Settings that {@link #resume(Checkpoint, Path, Dataset, TrainOptions)} lets differ from the recorded ones. */
    public static final Set<String> CHANGEABLE_ON_RESUME = Set.of("steps", "checkpointEvery", "evalEvery");

    private final ModelSpec spec;
    private final TrainOptions opt;
    private final Dataset data;
    private final String dataName;
    private final long dataFingerprint;
    private final Path outDir;
    private final MoeModel model;
    private final AdamW adam;
    private final List<double[]> history;
    private volatile int step;       // volatile: a shutdown report reads both from another thread
    private volatile int savedStep;

    private Trainer(ModelSpec spec, TrainOptions opt, Dataset data, String dataName, long dataFingerprint, Path outDir, MoeModel model,
                    AdamW adam, List<double[]> history, int step) {
        this.spec = spec; this.opt = opt; this.data = data; this.dataName = dataName; this.dataFingerprint = dataFingerprint;
        this.outDir = outDir; this.model = model; this.adam = adam; this.history = history; this.step = step; this.savedStep = step;
    }

    /**
     * A fresh run. {@code outDir} may be null (no checkpoints); {@code dataName} is recorded in checkpoints so a
     * resumed run can find its data again ("builtin", or the text file's path and vocabulary size). With an
     * {@code outDir}, the step-0 checkpoint is written here, so a folder that cannot take checkpoints fails before
     * any training.
     *
     * @throws IllegalArgumentException when the data's vocabulary exceeds the model's, or a step would not fit in the heap
     * @throws Moe4jException           when the data is too short for one sequence, or {@code outDir} already holds a
     *                                  checkpoint, cannot be written or lacks room
     */
    public static Trainer create(ModelSpec spec, TrainOptions opt, Dataset data, String dataName, Path outDir) {
        if (spec.vocab() < data.vocabulary().vocabSize()) {
            throw new IllegalArgumentException("model vocabulary " + spec.vocab() + " is smaller than the data's " + data.vocabulary().vocabSize());
        }
        requireMemory(spec, opt.batch());
        data.trainBatch(opt.seed(), 0, 1, spec.seqLen());     // too little data fails here, before anything is written
        data.validationBatch(0, 1, spec.seqLen());
        if (outDir != null && Checkpoint.exists(outDir)) {
            throw new Moe4jException(outDir + ": already holds a run (" + Checkpoint.FILE + "); resume it or choose another folder");
        }
        MoeModel model = new MoeModel(spec, opt.seed());
        Trainer t = new Trainer(spec, opt, data, dataName, outDir == null ? 0 : data.fingerprint(), outDir, model,
                new AdamW(model.params()), new ArrayList<>(), 0);
        if (outDir != null) {
            t.prepareFolder();
            t.save();
        }
        return t;
    }

    /** Continues the run whose checkpoint is in {@code dir}, on {@code data} (which must be the same data), with its recorded options. */
    public static Trainer resume(Path dir, Dataset data) {
        Checkpoint c = Checkpoint.read(dir);
        return resume(c, dir, data, c.options());
    }

    /**
     * Continues the run of checkpoint {@code c}, read from {@code dir}. {@code options} may differ from the recorded
     * ones only in {@link #CHANGEABLE_ON_RESUME}; more steps extend the run, and the cosine schedule then follows the
     * new total from the current step on (a finished run's learning rate rises again to that curve).
     *
     * @throws IllegalArgumentException naming the first other setting that differs, with both values, or steps below
     *                                  the completed ones
     * @throws Moe4jException           when {@code data} differs from the data the run trained on, or {@code dir}
     *                                  cannot be written
     */
    public static Trainer resume(Checkpoint c, Path dir, Dataset data, TrainOptions options) {
        requireResumable(c.options(), options, c.step());
        long fingerprint = data.fingerprint();
        if (fingerprint != c.dataFingerprint()) {
            throw new Moe4jException(dir + ": the data differs from what the run trained on (checksum " + Long.toHexString(fingerprint)
                    + ", recorded " + Long.toHexString(c.dataFingerprint()) + "); resuming would not continue the same run");
        }
        if (c.spec().vocab() < data.vocabulary().vocabSize()) {
            throw new Moe4jException(dir + ": the data's vocabulary (" + data.vocabulary().vocabSize() + ") exceeds the model's " + c.spec().vocab());
        }
        MoeModel model = new MoeModel(c.spec(), c.weights());
        for (int l = 0; l < c.selectionBias().length; l++) System.arraycopy(c.selectionBias()[l], 0, model.selectionBias[l], 0, c.spec().experts());
        AdamW adam = new AdamW(model.params());
        System.arraycopy(c.m(), 0, adam.m, 0, adam.m.length);
        System.arraycopy(c.v(), 0, adam.v, 0, adam.v.length);
        Trainer t = new Trainer(c.spec(), options, data, c.data(), fingerprint, dir, model, adam, new ArrayList<>(c.history()), c.step());
        t.prepareFolder();
        return t;
    }

    private static void requireResumable(TrainOptions recorded, TrainOptions given, int step) {
        for (RecordComponent rc : TrainOptions.class.getRecordComponents()) {
            if (CHANGEABLE_ON_RESUME.contains(rc.getName())) continue;
            Object a, b;
            try {
                a = rc.getAccessor().invoke(recorded);
                b = rc.getAccessor().invoke(given);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            if (!a.equals(b)) {
                throw new IllegalArgumentException("resuming cannot change " + rc.getName() + " (the run has " + a + ", given " + b
                        + "); only " + String.join(", ", new TreeSet<>(CHANGEABLE_ON_RESUME)) + " may change");
            }
        }
        if (given.steps() < step) throw InvalidSettingException.of("steps", given.steps(), "the run has completed " + step);
    }

    /**
     * @throws IllegalArgumentException when a training step on {@code batch} sequences would need more memory than the
     *                                  JVM's maximum heap ({@link MoeModel#trainingBytes})
     */
    public static void requireMemory(ModelSpec spec, int batch) {
        double need = MoeModel.trainingBytes(spec, batch);
        long max = Runtime.getRuntime().maxMemory();
        if (need > max) {
            throw new IllegalArgumentException("training this model (" + Units.count(MoeModel.paramCount(spec)) + " parameters, batch "
                    + batch + " x " + spec.seqLen() + " tokens) needs about " + Units.bytes(need) + " of memory, more than the JVM's "
                    + Units.bytes(max) + " (raise it with -Xmx, e.g. MOE4J_JAVA_OPTS=-Xmx16g, or shrink the model or batch)");
        }
    }

    /** Bytes one checkpoint of the finished run takes (weights, two moments, biases, one history row per step). */
    public static long checkpointBytes(ModelSpec spec, TrainOptions opt) {
        double rows = (double) opt.steps() * (Checkpoint.HISTORY_HEAD + spec.layers());
        return (long) (8 * (3 * MoeModel.paramCount(spec) + (double) spec.layers() * spec.experts() + rows)) + 4096;
    }

    /** Checks that the folder takes a file and has room for the old and the new checkpoint while one is written. */
    private void prepareFolder() {
        OutputFolder folder = new OutputFolder(outDir, List.of(Checkpoint.FILE));
        folder.prepare();
        folder.requireSpace(2 * checkpointBytes(spec, opt), "checkpoints");
    }

    public MoeModel model() { return model; }
    public ModelSpec spec() { return spec; }
    public TrainOptions options() { return opt; }
    public Dataset data() { return data; }
    public int step() { return step; }

    /** The step the checkpoint in the output folder holds: the last one saved, or the one the run started or resumed at. */
    public int savedStep() { return savedStep; }

    /** Every step so far (including those before a resume). */
    public List<StepInfo> history() {
        List<StepInfo> out = new ArrayList<>(history.size());
        for (double[] r : history) out.add(StepInfo.fromRow(r, opt.steps()));
        return Collections.unmodifiableList(out);
    }

    /**
     * Runs until {@code options().steps()} steps are done.
     *
     * @throws DivergedException when the loss, gradient norm, validation loss or a weight is no longer finite
     */
    public void run(Listener listener) {
        MoeModel.LossWeights lw = new MoeModel.LossWeights(opt.balanceCoef(), opt.zCoef());
        double[] grad = new double[model.w.length];
        while (step < opt.steps()) {
            long t0 = System.nanoTime();
            Batch batch = data.trainBatch(opt.seed(), step, opt.batch(), spec.seqLen());
            MoeModel.Pass ps = model.forward(batch.inputs(), batch.targets(), batch.b(), lw, true, opt.seed() * 31 + step);
            if (!Double.isFinite(ps.loss)) {
                throw diverged(step + 1, String.format("the training loss is %s (cross-entropy %s, balance %s, z %s)", ps.loss, ps.ce, ps.balance, ps.z));
            }
            java.util.Arrays.fill(grad, 0);
            model.backward(ps, grad);
            double norm = AdamW.clip(grad, opt.clip());
            if (!Double.isFinite(norm)) throw diverged(step + 1, "the gradient norm is " + norm);
            double lr = opt.learningRate(step);
            adam.step(model.w, grad, lr, opt.weightDecay(), step + 1);
            model.updateSelectionBias(ps);
            step++;
            double secs = (System.nanoTime() - t0) / 1e9;
            double[] balance = new double[spec.layers()];
            int[][] loads = new int[spec.layers()][];
            for (int l = 0; l < spec.layers(); l++) {
                balance[l] = ps.plan(l).stats().maxOverMean();
                loads[l] = ps.plan(l).stats().loads();
            }
            boolean eval = step == opt.steps() || (opt.evalEvery() > 0 && step % opt.evalEvery() == 0);
            double valLoss = eval ? validationLoss() : Double.NaN;
            if (eval && !Double.isFinite(valLoss)) throw diverged(step, "the validation loss is " + valLoss);
            StepInfo info = new StepInfo(step, opt.steps(), ps.loss, ps.ce, ps.balance, ps.z, lr, norm, batch.inputs().length / secs,
                    balance, valLoss, loads);
            history.add(info.toRow());
            boolean checkpoint = outDir != null && (step == opt.steps() || (opt.checkpointEvery() > 0 && step % opt.checkpointEvery() == 0));
            if (checkpoint) save();
            if (listener != null) listener.onStep(info);
        }
    }

    private DivergedException diverged(int atStep, String what) {
        String kept = outDir == null ? "" : "; " + outDir.resolve(Checkpoint.FILE) + " still holds step " + savedStep;
        return new DivergedException("step " + atStep + ": " + what + ": training diverged and stopped without saving this step" + kept
                + " (try a lower learning rate, a longer warm-up or gradient clipping)");
    }

    /** Mean cross-entropy over the fixed validation batches (no noise, dropless). */
    public double validationLoss() {
        double sum = 0;
        for (int i = 0; i < opt.evalBatches(); i++) {
            Batch b = data.validationBatch(i, opt.batch(), spec.seqLen());
            sum += model.forward(b.inputs(), b.targets(), b.b(), MoeModel.LossWeights.NONE, false, 0).ce;
        }
        return sum / opt.evalBatches();
    }

    /**
     * How the validation tokens are spread over experts: {@code loads[layer][expert]} counts (token, slot) entries,
     * {@code domainExpert[layer][domain][expert]} the same per labelled domain (empty when the data has no labels).
     */
    public record RoutingReport(long[][] loads, long[][][] domainExpert) {
        /** Busiest expert's load over the mean load, per layer. */
        public double[] maxOverMean() {
            double[] r = new double[loads.length];
            for (int l = 0; l < loads.length; l++) {
                long sum = 0, max = 0;
                for (long x : loads[l]) { sum += x; max = Math.max(max, x); }
                r[l] = sum == 0 ? 1 : max / ((double) sum / loads[l].length);
            }
            return r;
        }
    }

    public RoutingReport routingReport() {
        int layers = spec.layers(), experts = spec.experts(), domains = data.domains().size();
        long[][] loads = new long[layers][experts];
        long[][][] de = new long[layers][domains][experts];
        for (int i = 0; i < opt.evalBatches(); i++) {
            Batch b = data.validationBatch(i, opt.batch(), spec.seqLen());
            MoeModel.Pass ps = model.forward(b.inputs(), b.targets(), b.b(), MoeModel.LossWeights.NONE, false, 0);
            for (int l = 0; l < layers; l++) {
                var plan = ps.plan(l);
                for (int tok = 0; tok < plan.tokens(); tok++) {
                    int dom = b.domains()[tok / spec.seqLen()];
                    for (int s = 0; s < plan.topK(); s++) {
                        int e = plan.expert(tok, s);
                        if (e < 0) continue;
                        loads[l][e]++;
                        if (dom >= 0 && dom < domains) de[l][dom][e]++;
                    }
                }
            }
        }
        return new RoutingReport(loads, de);
    }

    /**
     * Writes the checkpoint now (atomically).
     *
     * @throws DivergedException when a weight or optimiser moment is not finite (nothing is written)
     * @throws Moe4jException    when the checkpoint cannot be written (the previous one is kept)
     */
    public void save() {
        if (outDir == null) throw new IllegalStateException("this run has no output folder");
        for (double[] a : new double[][] {model.w, adam.m, adam.v}) {
            for (int i = 0; i < a.length; i++) {
                if (!Double.isFinite(a[i])) throw diverged(step, "parameter " + model.params().tensorAt(i).name() + " holds " + a[i]);
            }
        }
        new Checkpoint(spec, opt, dataName, dataFingerprint, step, model.w, adam.m, adam.v, model.selectionBias, history).write(outDir);
        savedStep = step;
    }
}
