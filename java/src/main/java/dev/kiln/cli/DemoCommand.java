package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.DeviceInfo;
import dev.kiln.Kiln;
import dev.kiln.data.FashionMnist;
import dev.kiln.data.TextCorpus;
import dev.kiln.eval.FashionClassifier;
import dev.kiln.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code kiln demo}: trains the five architectures one after another (the CNN and LSTM-RNN classifiers, the
 * Transformer on digit reversal and as a character LM, the VAE, the GAN) by running {@code kiln train} for each, into
 * --out/MODEL/ as that command writes it, then writes --out/report.html. Missing data fails in one line before any
 * training starts: a demo that stopped after minutes for want of a package would waste them.
 */
@Command(name = "demo", description = "Train all five architectures briefly (CNN, "
        + "LSTM-RNN, Transformer seq2seq and character LM, VAE, GAN) with one progress display, and write a report "
        + "(metrics, training throughput, loss curves, sample pictures, a generated text) to --out/report.html, each "
        + "model's files to --out/MODEL/.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--out", defaultValue = "runs/demo", description = "Output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--quick", description = "Train each model for a short time (about 2 minutes in all on two CPU "
            + "cores); the report labels its figures as quick-run figures")
    boolean quick;

    /** The stages to run instead of {@link DemoPlan}'s (the test runs a tiny plan); null from the command line. */
    List<DemoPlan.Stage> plan;

    @Override
    public Integer call() throws Exception {
        Device dev = Device.parse(device);
        checkData();
        List<DemoPlan.Stage> stages = plan != null ? plan : quick ? DemoPlan.quick() : DemoPlan.full();
        Files.createDirectories(out);
        Path scorer = scorer();
        long started = System.nanoTime();
        List<DemoResult> results = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            DemoPlan.Stage stage = stages.get(i);
            String tag = String.format(Locale.ROOT, "[%d/%d] %s", i + 1, stages.size(), stage.model().title);
            System.out.printf(Locale.ROOT, "%n%s: %s  (demo at %s)%n", tag, stage.commandLine(), elapsed(started));
            DemoResult r = run(stage, dev, scorer);
            results.add(r);
            DemoModel.Figure headline = stage.model().headline();
            System.out.printf(Locale.ROOT, "%s done in %s: %s %s%n", tag, DemoReport.duration(r.wallSeconds()),
                    headline.label(), headline.text(r.metrics()));
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        DemoReport.Run run = new DemoReport.Run(describe(dev), commandLine(dev), quick, scorerNote(scorer), seconds,
                ZonedDateTime.now(), environment(dev, scorer, seconds));
        Path report = DemoReport.write(out, run, results);
        summary(results, seconds);
        System.out.println("report: " + report.toAbsolutePath());
        return 0;
    }

    /** One model through kiln train's own option parsing and run, with a loss-curve observer. */
    private DemoResult run(DemoPlan.Stage stage, Device dev, Path scorer) throws Exception {
        String name = stage.model().command;
        List<String> args = new ArrayList<>(List.of(name, "--device", dev.toString(), "--out",
                out.resolve(name).toString()));
        args.addAll(stage.args());
        TrainCommand train = new TrainCommand();
        new CommandLine(train).parseArgs(args.toArray(String[]::new));  // the very defaults and checks of kiln train
        LossCurves curves = new LossCurves(null, Trainer.READ_INTERVAL);
        train.observer = curves;
        train.scorer = scorer;
        long started = System.nanoTime();
        Map<String, Object> metrics;
        try {
            metrics = train.run();
        } catch (Interrupt.Stopped e) {  // its advice (--save, --resume) is kiln train's, not the demo's
            throw new Interrupt.Stopped("demo stopped during its " + stage.model().title + " run");
        }
        double wall = (System.nanoTime() - started) / 1e9;
        String chart = name + "/loss_curve.png";
        boolean drawn = LossChart.write(out.resolve(chart), curves, stage.model().title + ": training loss",
                stage.model().lossUnit);
        return new DemoResult(stage, metrics, wall, drawn ? chart : null);
    }

    /** Fails in one line, before anything trains, when a data set is missing. */
    private static void checkData() {
        if (!FashionMnist.isAvailable()) {
            throw new IllegalStateException("demo: Fashion-MNIST (for the CNN, RNN, VAE and GAN) not found in "
                    + FashionMnist.searchPath() + "; apt-get install dataset-fashion-mnist, or point $KILN_DATA at its "
                    + "four IDX files");
        }
        try {
            TextCorpus.fortunes(TextCorpus.FORTUNES);
        } catch (IllegalStateException | UncheckedIOException e) {
            throw new IllegalStateException("demo: the character LM needs the fortunes corpus: " + e.getMessage(), e);
        }
    }

    /**
     * The CNN that scores the GAN's samples: the cached reference classifier, except in a quick demo where it is not
     * cached yet: training it costs minutes on a CPU, so the CNN this demo trained first scores them instead.
     */
    private Path scorer() {
        if (!quick || Files.exists(FashionClassifier.defaultFile())) return null;
        return out.resolve(DemoModel.CNN.command).resolve("model.safetensors");
    }

    private String scorerNote(Path scorer) {
        return scorer == null ? ScoringClassifier.describe(null)
                : "the CNN this demo trained (" + scorer + "): the reference classifier is not cached yet, and a quick "
                + "run does not stop to train it. These distances are not comparable with kiln train gan's; "
                + "kiln eval gan --model-file " + out.resolve(DemoModel.GAN.command).resolve("model.safetensors")
                + " scores this GAN with the reference (training it on first use)";
    }

    private static String describe(Device dev) {
        DeviceInfo info = dev.info();
        return dev + " (" + info.name() + (dev.isCpu() ? ", " + info.computeUnits() + " threads" : "") + ")";
    }

    private String commandLine(Device dev) {
        return "kiln demo --device " + dev + " --out " + out + (quick ? " --quick" : "");
    }

    private Map<String, String> environment(Device dev, Path scorer, double seconds) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("device", describe(dev));
        env.put("build", Kiln.buildInfo());
        env.put("Java", System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vm.name") + ", "
                + System.getProperty("java.vendor") + ")");
        env.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " ("
                + System.getProperty("os.arch") + ")");
        env.put("command", commandLine(dev));
        env.put("total time", DemoReport.duration(seconds));
        env.put("images scored with", scorerNote(scorer));
        return env;
    }

    /** The report's table in a few lines of text, for a terminal or a log. */
    private static void summary(List<DemoResult> results, double seconds) {
        System.out.printf(Locale.ROOT, "%nkiln demo finished in %s:%n", DemoReport.duration(seconds));
        for (DemoResult r : results) {
            DemoModel.Figure headline = r.model().headline();
            System.out.printf(Locale.ROOT, "  %-20s %-12s %-40s %,10.0f %-9s wall %s%n", r.model().title,
                    headline.text(r.metrics()), headline.label(), r.rate(), r.model().rate.unit,
                    DemoReport.duration(r.wallSeconds()));
        }
    }

    private static String elapsed(long started) {
        return Progress.clock((System.nanoTime() - started) / 1e9);
    }
}
