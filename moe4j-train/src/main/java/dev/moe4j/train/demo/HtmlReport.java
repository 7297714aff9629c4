package dev.moe4j.train.demo;

import dev.moe4j.train.Trainer;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;

/** The demo's report: one self-contained HTML page, charts drawn by JFreeChart and embedded as PNG. */
final class HtmlReport {
    private HtmlReport() {}

    static String render(Demo.Result r, List<String> domains, String corpus) {
        System.setProperty("java.awt.headless", "true");
        StringBuilder h = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>moe4j demo</title>"
                + "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
                + "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}pre{background:#f4f4f4;padding:8px}</style></head><body>");
        h.append("<h1>moe4j demo: MoE vs dense at equal active compute</h1><p>Data: ").append(esc(corpus)).append(". ")
                .append(r.moe().history().size()).append(" steps each, same batches and schedule.</p>");
        h.append("<h2>Parameters and speed</h2><table><tr><th>model</th><th>total params</th><th>active params</th>"
                + "<th>FLOPs/token (fwd)</th><th>tokens/s</th><th>ms/step (median)</th><th>final val loss</th></tr>");
        for (ModelRun m : new ModelRun[] {r.moe(), r.dense()}) {
            String label = m.spec().dense() ? m.name() + " (MLP width " + m.spec().expertFfn() + ")"
                    : m.name() + " (" + m.spec().experts() + " experts of width " + m.spec().expertFfn() + ", top-" + m.spec().topK() + ")";
            h.append("<tr><td>").append(esc(label)).append("</td><td>").append(m.totalParams()).append("</td><td>").append(m.activeParams())
                    .append("</td><td>").append(m.flopsPerToken()).append("</td><td>").append(Math.round(m.tokensPerSecond()))
                    .append("</td><td>").append(String.format("%.1f", m.msPerStep())).append("</td><td>")
                    .append(String.format("%.4f", m.finalValLoss())).append("</td></tr>");
        }
        h.append("</table><p>MoE step time / dense step time: ").append(String.format("%.2f", r.stepTimeRatio())).append("</p>");
        h.append("<h2>Loss</h2>").append(img(lossChart(r), 1000, 420));
        int layers = r.moe().routing().loads().length;
        h.append("<h2>Expert load per layer over training</h2><p>Share of the batch's (token, slot) entries each expert received (moving average of 10 steps).</p>");
        for (int l = 0; l < layers; l++) h.append(img(loadChart(r.moe(), l), 1000, 320));
        if (!domains.isEmpty()) {
            h.append("<h2>Domain × expert routing</h2><p>Fraction of each domain's validation tokens routed to each expert.</p>");
            for (int l = 0; l < layers; l++) h.append(img(heatMap(r.moe().routing(), l, domains), 700, 330));
        }
        h.append("<h2>Samples from the MoE model</h2>");
        for (String[] s : r.samples()) h.append("<pre><b>").append(esc(s[0])).append("</b>").append(esc(s[1])).append("</pre>");
        return h.append("</body></html>\n").toString();
    }

    private static JFreeChart lossChart(Demo.Result r) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (ModelRun m : new ModelRun[] {r.moe(), r.dense()}) {
            XYSeries train = new XYSeries(m.name() + " train (EMA)"), val = new XYSeries(m.name() + " validation");
            double ema = Double.NaN;
            for (Trainer.StepInfo s : m.history()) {
                ema = Double.isNaN(ema) ? s.ce() : 0.9 * ema + 0.1 * s.ce();
                train.add(s.step(), ema);
                if (!Double.isNaN(s.valLoss())) val.add(s.step(), s.valLoss());
            }
            data.addSeries(train);
            data.addSeries(val);
        }
        NumberAxis y = new NumberAxis("cross-entropy (nats/token)");
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer rend = new XYLineAndShapeRenderer(true, false);
        rend.setSeriesShapesVisible(1, true);
        rend.setSeriesShapesVisible(3, true);
        return new JFreeChart("Training and validation loss", new XYPlot(data, new NumberAxis("step"), y, rend));
    }

    private static JFreeChart loadChart(ModelRun m, int layer) {
        XYSeriesCollection data = new XYSeriesCollection();
        int experts = m.spec().experts();
        for (int e = 0; e < experts; e++) {
            XYSeries s = new XYSeries("expert " + e);
            for (int i = 0; i < m.loads().size(); i++) {
                double share = 0;
                int from = Math.max(0, i - 9);
                for (int j = from; j <= i; j++) {
                    int[] l = m.loads().get(j)[layer];
                    long sum = 0;
                    for (int x : l) sum += x;
                    share += (double) l[e] / sum;
                }
                s.add(i + 1, share / (i - from + 1));
            }
            data.addSeries(s);
        }
        return new JFreeChart("Layer " + layer + ": expert load share (uniform = " + String.format("%.3f", 1.0 / experts) + ")",
                new XYPlot(data, new NumberAxis("step"), new NumberAxis("share of entries"), new XYLineAndShapeRenderer(true, false)));
    }

    private static JFreeChart heatMap(Trainer.RoutingReport rep, int layer, List<String> domains) {
        long[][] de = rep.domainExpert()[layer];
        int experts = de[0].length, n = domains.size() * experts;
        double[][] xyz = new double[3][n];
        for (int d = 0; d < domains.size(); d++) {
            long sum = 0;
            for (long c : de[d]) sum += c;
            for (int e = 0; e < experts; e++) {
                int i = d * experts + e;
                xyz[0][i] = e;
                xyz[1][i] = d;
                xyz[2][i] = sum == 0 ? 0 : (double) de[d][e] / sum;
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("share", xyz);
        XYBlockRenderer rend = new XYBlockRenderer();
        LookupPaintScale scale = new LookupPaintScale(0, 1.0001, Color.WHITE);
        for (int i = 0; i <= 20; i++) {
            float v = i / 20f;
            scale.add(v * 0.5, new Color(1 - v, 1 - 0.6f * v, 1f));
        }
        rend.setPaintScale(scale);
        NumberAxis x = new NumberAxis("expert");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setRange(-0.5, experts - 0.5);
        SymbolAxis y = new SymbolAxis("domain", domains.toArray(new String[0]));
        XYPlot plot = new XYPlot(data, x, y, rend);
        JFreeChart chart = new JFreeChart("Layer " + layer + ": domain × expert", plot);
        chart.removeLegend();
        NumberAxis legendAxis = new NumberAxis("share of the domain's entries");
        legendAxis.setRange(0, 1);
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(4, 4, 4, 4);
        chart.addSubtitle(legend);
        return chart;
    }

    private static String img(JFreeChart chart, int w, int hgt) {
        chart.setBackgroundPaint(Color.WHITE);
        try {
            byte[] png = ChartUtils.encodeAsPNG(chart.createBufferedImage(w, hgt));
            return "<p><img alt=\"" + esc(chart.getTitle().getText()) + "\" src=\"data:image/png;base64,"
                    + Base64.getEncoder().encodeToString(png) + "\"></p>";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
