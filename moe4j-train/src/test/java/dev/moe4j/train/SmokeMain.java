package dev.moe4j.train;

import dev.moe4j.train.data.BuiltinCorpus;

/** Manual step-time comparison: java ... SmokeMain [threads]. */
class SmokeMain {
    public static void main(String[] a) {
        if (a.length > 0) dev.moe4j.kernel.Parallel.setThreads(Integer.parseInt(a[0]));
        ModelSpec s = new ModelSpec(257, 64, 2, 4, 8, 2, 64, 0, 64, 10000, 1e-5, RouterSpec.softmax(true), true);
        BuiltinCorpus c = new BuiltinCorpus(null);
        for (int round = 0; round < 3; round++) {
            double[] ms = new double[2];
            for (int k = 0; k < 2; k++) {
                ModelSpec spec = k == 0 ? s : s.denseTwin();
                Trainer t = Trainer.create(spec, TrainOptions.defaults(40), c, "builtin", null);
                long t0 = System.nanoTime();
                t.run(null);
                ms[k] = (System.nanoTime() - t0) / 1e6 / 40;
            }
            System.out.printf("round %d: MoE %.1f ms/step, dense %.1f ms/step, ratio %.2f%n", round, ms[0], ms[1], ms[0] / ms[1]);
        }
    }
}
