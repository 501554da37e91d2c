package dev.kiln.cli;

import java.util.List;

/**
 * What {@code kiln demo} trains, in order, and for how long: each model's {@code kiln train} arguments. The CNN comes
 * first because a quick demo may score the GAN with it.
 */
final class DemoPlan {
    /** One model and its {@code kiln train} arguments (beyond --device and --out, which the demo sets). */
    record Stage(DemoModel model, List<String> args) {
        Stage(DemoModel model, String... args) {
            this(model, List.of(args));
        }

        /** What to type to train this model alone, as the report shows it. */
        String commandLine() {
            return "kiln train " + model.command + (args.isEmpty() ? "" : " " + String.join(" ", args));
        }
    }

    private DemoPlan() {
    }

    /**
     * About two minutes on two CPU cores: short runs whose figures are far from converged, and labelled so. The
     * Transformer's 500 steps are about where it first decodes every held-out string right; fewer end mid-way.
     */
    static List<Stage> quick() {
        return List.of(
                new Stage(DemoModel.CNN, "--epochs", "1"),
                new Stage(DemoModel.RNN, "--epochs", "2"),
                new Stage(DemoModel.TRANSFORMER, "--steps", "500"),
                new Stage(DemoModel.CHARLM, "--steps", "100"),
                new Stage(DemoModel.VAE, "--epochs", "3", "--no-score"),
                new Stage(DemoModel.GAN, "--epochs", "4"));
    }

    /**
     * The classifiers 3 epochs (where they reach about 89% and 85%; their {@code kiln train} recipe is 2), the other
     * models their recipes' own lengths: about five minutes on two CPU cores.
     */
    static List<Stage> full() {
        return List.of(
                new Stage(DemoModel.CNN, "--epochs", "3"),
                new Stage(DemoModel.RNN, "--epochs", "3"),
                new Stage(DemoModel.TRANSFORMER),
                new Stage(DemoModel.CHARLM),
                new Stage(DemoModel.VAE),
                new Stage(DemoModel.GAN));
    }
}
