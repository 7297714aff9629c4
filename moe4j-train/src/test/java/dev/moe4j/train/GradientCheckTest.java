package dev.moe4j.train;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Central finite differences in double precision against the analytic backward pass, per parameter kind and router. */
class GradientCheckTest {
    static Stream<Object[]> routers() {
        return Stream.of(
                new Object[] {"softmax top-2 renormalised", RouterSpec.softmax(true), 2, 5},
                new Object[] {"softmax top-1 (Switch)", RouterSpec.softmax(false), 1, 0},
                new Object[] {"softmax top-3 not renormalised", RouterSpec.softmax(false), 3, 5},
                new Object[] {"noisy top-2", RouterSpec.noisy(), 2, 0},
                new Object[] {"sigmoid + bias", RouterSpec.sigmoidBias(0.01), 2, 5},
                new Object[] {"capacity 0.75 with dropping", RouterSpec.softmax(true).withCapacity(0.75), 2, 0},
                new Object[] {"noisy, capacity 0.75", RouterSpec.noisy().withCapacity(0.75), 2, 0},
                new Object[] {"expert-choice (non-causal)", RouterSpec.expertChoice(1.0), 2, 0},
                new Object[] {"dense", RouterSpec.softmax(false), 0, 5});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("routers")
    void gradientsMatchFiniteDifferences(String name, RouterSpec router, int k, int shared) {
        boolean dense = k == 0;
        ModelSpec spec = new ModelSpec(13, 8, 2, 2, dense ? 1 : 4, dense ? 1 : k, 6, shared, 5, 10000, 1e-5, router,
                router.kind() != RouterSpec.Kind.EXPERT_CHOICE);
        MoeModel m = new MoeModel(spec, 1);
        SplittableRandom rnd = new SplittableRandom(7);
        for (Params.Tensor t : m.params().tensors()) {
            for (int i = 0; i < t.size(); i++) {
                double gauss = Params.gaussian(rnd);
                m.w[t.offset() + i] = t.kind() == Params.Kind.NORM ? 1 + 0.2 * gauss : 0.5 * gauss;  // spread logits: no near-ties
            }
        }
        for (double[] b : m.selectionBias) for (int e = 0; e < b.length; e++) b[e] = 0.1 * Params.gaussian(rnd);
        int b = 2, n = b * spec.seqLen();
        int[] in = new int[n], tg = new int[n];
        for (int i = 0; i < n; i++) { in[i] = rnd.nextInt(spec.vocab()); tg[i] = rnd.nextInt(spec.vocab()); }
        MoeModel.LossWeights lw = new MoeModel.LossWeights(0.1, 0.01);
        MoeModel.Pass ps = m.forward(in, tg, b, lw, true, 42);
        double[] g = new double[m.w.length];
        m.backward(ps, g);

        Map<Params.Kind, double[]> sums = new EnumMap<>(Params.Kind.class);   // |num - ana|², |num|², |ana|²
        double h = 1e-5;
        for (Params.Tensor t : m.params().tensors()) {
            int samples = Math.min(t.size(), 12);
            for (int s = 0; s < samples; s++) {
                int i = t.offset() + (samples == t.size() ? s : rnd.nextInt(t.size()));
                double orig = m.w[i];
                m.w[i] = orig + h;
                double up = m.forward(in, tg, b, lw, true, 42).loss;
                m.w[i] = orig - h;
                double down = m.forward(in, tg, b, lw, true, 42).loss;
                m.w[i] = orig;
                double num = (up - down) / (2 * h), ana = g[i];
                double[] acc = sums.computeIfAbsent(t.kind(), x -> new double[3]);
                acc[0] += (num - ana) * (num - ana);
                acc[1] += num * num;
                acc[2] += ana * ana;
            }
        }
        StringBuilder report = new StringBuilder(name + ":");
        for (var e : sums.entrySet()) {
            double[] a = e.getValue();
            double rel = Math.sqrt(a[0]) / Math.max(Math.max(Math.sqrt(a[1]), Math.sqrt(a[2])), 1e-12);
            report.append(String.format(" %s %.2e", e.getKey(), rel));
            assertTrue(rel <= 1e-4, name + ": " + e.getKey() + " relative error " + rel);
            assertTrue(Math.sqrt(a[2]) > 0 || e.getKey() == Params.Kind.ROUTER_NOISE, name + ": " + e.getKey() + " has no gradient");
        }
        System.out.println(report);
    }
}
