package dev.moe4j.train;

import dev.moe4j.train.data.BuiltinCorpus;

class SmokeMain {
    public static void main(String[] a) {
        int experts = Integer.parseInt(a[0]), steps = Integer.parseInt(a[1]);
        ModelSpec s = new ModelSpec(257, 64, 2, 4, 8, 2, 64, 0, 64, 10000, 1e-5, RouterSpec.softmax(true), true);
        if (experts == 1) s = s.denseTwin();
        BuiltinCorpus c = new BuiltinCorpus(null);
        Trainer t = Trainer.create(s, TrainOptions.defaults(steps), c, "builtin", null);
        long t0 = System.nanoTime();
        t.run(i -> { if (i.step() % 10 == 0) System.out.printf("%d loss %.4f ce %.4f bal %.4f z %.4f tok/s %.0f mom %s val %.4f%n", i.step(), i.loss(), i.ce(), i.balance(), i.z(), i.tokensPerSecond(), java.util.Arrays.toString(i.maxOverMean()), i.valLoss()); });
        System.out.printf("%.1f ms/step%n", (System.nanoTime() - t0) / 1e6 / steps);
    }
}
