package dev.kiln.cli;

import dev.kiln.data.FashionMnist;
import dev.kiln.io.AtomicFiles;
import dev.kiln.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code kiln demo}'s report.html: a table of every model's figures, rate and times, then each model's loss chart,
 * pictures and text sample, then where it ran. Pictures are linked by paths relative to the report, so its folder can
 * be moved or archived whole; every piece of text is escaped.
 */
final class DemoReport {
    /** How the demo ran, for the report's header and its last section. */
    record Run(String device, String commandLine, boolean quick, String scorer, double seconds, ZonedDateTime finished,
               Map<String, String> environment) {
    }

    private static final String STYLE = """
            body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
            h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-bottom: 0.3em; }
            .quick { background: #fff4d6; border: 1px solid #e8c96a; padding: 0.6em 1em; border-radius: 4px; }
            table { border-collapse: collapse; }
            th, td { border-bottom: 1px solid #e4e4e4; padding: 0.45em 0.7em; text-align: left; vertical-align: top; }
            th { background: #f4f4f4; }
            td.num { text-align: right; white-space: nowrap; }
            .value { font-weight: bold; font-size: 1.1em; }
            .small { font-size: 0.85em; color: #666; }
            code, pre { background: #f6f6f6; border-radius: 3px; }
            code { padding: 0.1em 0.3em; white-space: nowrap; }
            pre { padding: 0.8em; white-space: pre-wrap; }
            figure { display: inline-block; margin: 0.5em 1.5em 0.5em 0; vertical-align: top; }
            figcaption { font-size: 0.85em; color: #555; max-width: 460px; }
            img.pixels { image-rendering: pixelated; }
            dl { display: grid; grid-template-columns: max-content auto; gap: 0.3em 1.2em; }
            dt { font-weight: bold; } dd { margin: 0; }
            """;

    private DemoReport() {
    }

    /** Writes {@code dir}/report.html; every result's files are under {@code dir}/MODEL/. */
    static Path write(Path dir, Run run, List<DemoResult> results) throws IOException {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Kiln demo</title>\n<style>\n")
                .append(STYLE).append("</style>\n</head>\n<body>\n");
        h.append("<h1>Kiln demo: five architectures on ").append(e(run.device())).append("</h1>\n");
        if (run.quick()) {
            h.append("<p class=\"quick\"><b>Quick-run figures.</b> <code>--quick</code> trains every model for a short time ")
                    .append("(the commands below), so the figures are far from what the full recipes reach; run ")
                    .append("<code>kiln demo</code> without <code>--quick</code> for longer training.</p>\n");
        }
        h.append("<p>").append(e(run.commandLine())).append(": finished ")
                .append(e(run.finished().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z", Locale.ROOT))))
                .append(" after ").append(e(duration(run.seconds()))).append(".</p>\n");
        table(h, run, results);
        for (DemoResult r : results) section(h, dir, r);
        environment(h, run);
        h.append("</body>\n</html>\n");
        Path file = dir.resolve("report.html");
        AtomicFiles.writeString(file, h);
        return file;
    }

    private static void table(StringBuilder h, Run run, List<DemoResult> results) {
        h.append("<h2>Results").append(run.quick() ? " (quick run)" : "").append("</h2>\n<table class=\"results\">\n")
                .append("<thead><tr><th>Model</th><th>Training</th><th>Metric</th><th>Training throughput</th>")
                .append("<th>Training time</th><th>Wall time</th></tr></thead>\n<tbody>\n");
        for (DemoResult r : results) {
            DemoModel m = r.model();
            DemoModel.Figure headline = m.headline();
            h.append("<tr data-model=\"").append(e(m.command)).append("\"><td><a href=\"#").append(e(m.command)).append("\">")
                    .append(e(m.title)).append("</a></td><td><code>").append(e(r.stage().commandLine())).append("</code></td>")
                    .append("<td class=\"metric\" data-value=\"")
                    .append(String.format(Locale.ROOT, "%.6g", headline.value(r.metrics()))).append("\"><span class=\"value\">")
                    .append(e(headline.text(r.metrics()))).append("</span> ").append(e(headline.label()));
            String others = otherFigures(m, r.metrics());
            if (!others.isEmpty()) h.append("<div class=\"small\">").append(e(others)).append("</div>");
            h.append("</td><td class=\"num\">").append(e(String.format(Locale.ROOT, "%,.0f %s", r.rate(), m.rate.unit)))
                    .append("</td><td class=\"num\">").append(e(duration(r.trainSeconds())))
                    .append("</td><td class=\"num\">").append(e(duration(r.wallSeconds()))).append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n<p class=\"small\">Throughput and training time count the training steps alone; ")
                .append("wall time adds evaluation, scoring and pictures. The generated images are scored with ")
                .append(e(run.scorer())).append(".</p>\n");
    }

    /** The figures after the headline, those the run reported: "reconstruction: 230.11; KL: 14.20". */
    private static String otherFigures(DemoModel m, Map<String, Object> metrics) {
        StringBuilder b = new StringBuilder();
        for (DemoModel.Figure f : m.figures.subList(1, m.figures.size())) {
            if (!f.present(metrics)) continue;
            b.append(b.length() == 0 ? "" : "; ").append(f.label()).append(": ").append(f.text(metrics));
        }
        return b.toString();
    }

    private static void section(StringBuilder h, Path dir, DemoResult r) throws IOException {
        DemoModel m = r.model();
        h.append("<h2 id=\"").append(e(m.command)).append("\">").append(e(m.title)).append("</h2>\n<p>")
                .append(e(m.description())).append(". <code>").append(e(r.stage().commandLine()))
                .append("</code>; files in <a href=\"")
                .append(e(m.command)).append("/\">").append(e(m.command)).append("/</a>.</p>\n");
        if (r.lossChart() != null) {
            figure(h, r.lossChart(), "training loss, " + m.lossUnit + ", mean over each stretch of "
                    + Trainer.READ_INTERVAL + " steps", false);
        }
        for (DemoModel.Picture p : m.pictures) {
            Optional<Path> file = p.find(dir.resolve(m.command));
            if (file.isPresent()) figure(h, m.command + "/" + file.get().getFileName(), p.caption(), true);
        }
        if (r.metrics().get("class_counts") instanceof long[] counts) classCounts(h, counts);
        if (r.metrics().get("sample") instanceof String sample) {
            h.append("<h3>Generated text (temperature 0.8, prompt \"The \")</h3>\n<pre class=\"sample\">")
                    .append(e(sample)).append("</pre>\n");
        }
    }

    private static void figure(StringBuilder h, String src, String caption, boolean pixels) {
        h.append("<figure><img src=\"").append(e(src)).append("\" alt=\"").append(e(caption)).append('"')
                .append(pixels ? " class=\"pixels\"" : "").append("><figcaption>").append(e(caption))
                .append("</figcaption></figure>\n");
    }

    /** The scoring classifier's verdict on the generated images: how many it put in each class (mode coverage). */
    private static void classCounts(StringBuilder h, long[] counts) {
        h.append("<h3>Classes of the scored samples</h3>\n<table class=\"classes\"><tr>");
        for (int i = 0; i < counts.length; i++) {
            String name = i < FashionMnist.CLASS_NAMES.length ? FashionMnist.CLASS_NAMES[i] : "class " + i;
            h.append("<th>").append(e(name)).append("</th>");
        }
        h.append("</tr>\n<tr>");
        for (long c : counts) h.append("<td class=\"num\">").append(String.format(Locale.ROOT, "%,d", c)).append("</td>");
        h.append("</tr></table>\n");
    }

    private static void environment(StringBuilder h, Run run) {
        h.append("<h2>Where it ran</h2>\n<dl>\n");
        run.environment().forEach((k, v) -> h.append("<dt>").append(e(k)).append("</dt><dd>").append(e(v)).append("</dd>\n"));
        h.append("</dl>\n");
    }

    /** "42.3 s", or "4:07 min" past a minute. */
    static String duration(double seconds) {
        if (Double.isNaN(seconds)) return "-";
        return seconds < 60 ? String.format(Locale.ROOT, "%.1f s", seconds) : Progress.clock(seconds) + " min";
    }

    private static String e(String text) {
        return Html.escape(text);
    }
}
