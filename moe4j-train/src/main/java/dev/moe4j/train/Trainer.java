package dev.moe4j.train;

import dev.moe4j.train.data.Batch;
import dev.moe4j.train.data.Dataset;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

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

    private final ModelSpec spec;
    private final TrainOptions opt;
    private final Dataset data;
    private final String dataName;
    private final Path outDir;
    private final MoeModel model;
    private final AdamW adam;
    private final List<double[]> history;
    private int step;

    private Trainer(ModelSpec spec, TrainOptions opt, Dataset data, String dataName, Path outDir, MoeModel model, AdamW adam,
                    List<double[]> history, int step) {
        this.spec = spec; this.opt = opt; this.data = data; this.dataName = dataName; this.outDir = outDir;
        this.model = model; this.adam = adam; this.history = history; this.step = step;
    }

    /**
     * A fresh run. {@code outDir} may be null (no checkpoints); {@code dataName} is recorded in checkpoints so a
     * resumed run can find its data again ("builtin", or the text file's path and vocabulary size).
     */
    public static Trainer create(ModelSpec spec, TrainOptions opt, Dataset data, String dataName, Path outDir) {
        if (spec.vocab() < data.vocabulary().vocabSize()) {
            throw new IllegalArgumentException("model vocabulary " + spec.vocab() + " is smaller than the data's " + data.vocabulary().vocabSize());
        }
        MoeModel model = new MoeModel(spec, opt.seed());
        return new Trainer(spec, opt, data, dataName, outDir, model, new AdamW(model.params()), new ArrayList<>(), 0);
    }

    /** Continues the run whose checkpoint is in {@code dir}, on {@code data} (which must be the same data). */
    public static Trainer resume(Path dir, Dataset data) {
        Checkpoint c = Checkpoint.read(dir);
        MoeModel model = new MoeModel(c.spec(), c.weights());
        for (int l = 0; l < c.selectionBias().length; l++) System.arraycopy(c.selectionBias()[l], 0, model.selectionBias[l], 0, c.spec().experts());
        AdamW adam = new AdamW(model.params());
        System.arraycopy(c.m(), 0, adam.m, 0, adam.m.length);
        System.arraycopy(c.v(), 0, adam.v, 0, adam.v.length);
        return new Trainer(c.spec(), c.options(), data, c.data(), dir, model, adam, new ArrayList<>(c.history()), c.step());
    }

    /** The data name recorded in a checkpoint (to rebuild the dataset before {@link #resume}). */
    public static String dataOf(Path dir) {
        return Checkpoint.read(dir).data();
    }

    public MoeModel model() { return model; }
    public ModelSpec spec() { return spec; }
    public TrainOptions options() { return opt; }
    public Dataset data() { return data; }
    public int step() { return step; }

    /** Every step so far (including those before a resume). */
    public List<StepInfo> history() {
        List<StepInfo> out = new ArrayList<>(history.size());
        for (double[] r : history) out.add(StepInfo.fromRow(r, opt.steps()));
        return Collections.unmodifiableList(out);
    }

    /** Runs until {@code options().steps()} steps are done. */
    public void run(Listener listener) {
        MoeModel.LossWeights lw = new MoeModel.LossWeights(opt.balanceCoef(), opt.zCoef());
        double[] grad = new double[model.w.length];
        while (step < opt.steps()) {
            long t0 = System.nanoTime();
            Batch batch = data.trainBatch(opt.seed(), step, opt.batch(), spec.seqLen());
            MoeModel.Pass ps = model.forward(batch.inputs(), batch.targets(), batch.b(), lw, true, opt.seed() * 31 + step);
            java.util.Arrays.fill(grad, 0);
            model.backward(ps, grad);
            double norm = AdamW.clip(grad, opt.clip());
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
            StepInfo info = new StepInfo(step, opt.steps(), ps.loss, ps.ce, ps.balance, ps.z, lr, norm, batch.inputs().length / secs,
                    balance, eval ? validationLoss() : Double.NaN, loads);
            history.add(info.toRow());
            boolean checkpoint = outDir != null && (step == opt.steps() || (opt.checkpointEvery() > 0 && step % opt.checkpointEvery() == 0));
            if (checkpoint) save();
            if (listener != null) listener.onStep(info);
        }
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

    /** Writes the checkpoint now (atomically). */
    public void save() {
        if (outDir == null) throw new IllegalStateException("this run has no output folder");
        new Checkpoint(spec, opt, dataName, step, model.w, adam.m, adam.v, model.selectionBias, history).write(outDir);
    }
}
