package dev.moe4j.cli.perf;

import java.util.Arrays;

/** Median, mean, standard deviation and range of repeated measurements. */
public record Stats(double[] values, double median, double mean, double stddev, double min, double max) {
    public static Stats of(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        double mean = Arrays.stream(s).average().orElse(0);
        double var = n < 2 ? 0 : Arrays.stream(s).map(x -> (x - mean) * (x - mean)).sum() / (n - 1);
        return new Stats(v.clone(), median, mean, Math.sqrt(var), s[0], s[n - 1]);
    }

    public String json() {
        StringBuilder b = new StringBuilder("{\"median\": ").append(r(median)).append(", \"mean\": ").append(r(mean))
                .append(", \"stddev\": ").append(r(stddev)).append(", \"min\": ").append(r(min)).append(", \"max\": ").append(r(max))
                .append(", \"runs\": [");
        for (int i = 0; i < values.length; i++) b.append(i == 0 ? "" : ", ").append(r(values[i]));
        return b.append("]}").toString();
    }

    static String r(double v) {
        return String.format(java.util.Locale.ROOT, "%.3f", v);
    }
}
