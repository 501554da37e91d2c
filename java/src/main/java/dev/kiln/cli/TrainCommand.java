package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Kiln;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.io.SafeTensors;
import dev.kiln.io.TrainingCheckpoint;
import dev.kiln.optim.LrSchedule;
import dev.kiln.train.TrainListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code kiln train MODEL}: trains a reference model on Fashion-MNIST with a live progress bar, then writes
 * metrics.json, the model (model.safetensors) and, for the generative models, pictures into --out. With --save DIR
 * it checkpoints after every epoch (or every few steps of a run counted in steps), and with --resume it continues
 * from that checkpoint (see {@link RunCheckpoint}).
 */
@Command(name = "train", description = "Train a model with a live progress bar (the classifiers, VAE and GAN on "
        + "Fashion-MNIST; the Transformer on digit reversal; the character LM on the Debian fortunes); writes metrics.json, "
        + "model.safetensors and (vae, gan) PNG pictures into --out.")
final class TrainCommand implements Callable<Integer> {
    /** How each model trains: its recipe's defaults and the run that does it. */
    record Recipe(String description, int batch, float lr, int epochs, int steps, Run run) {
        /** A recipe counted in epochs over Fashion-MNIST. */
        Recipe(String description, int batch, float lr, int epochs, Run run) {
            this(description, batch, lr, epochs, 0, run);
        }

        boolean stepBased() {
            return steps > 0;
        }
    }

    @FunctionalInterface
    interface Run {
        /** Trains with the resolved options; returns the model's entries for metrics.json. */
        Map<String, Object> train(TrainCommand options, Device device) throws Exception;
    }

    static final Map<String, Recipe> MODELS = new LinkedHashMap<>();

    static {
        MODELS.put("mlp", new Recipe("MLP 784-256-10", 64, 1e-3f, 2, ClassifierRun.of("mlp")));
        MODELS.put("cnn", new Recipe("Conv-ReLU-MaxPool x2, Dense 128, Dense 10", 64, 1e-3f, 2, ClassifierRun.of("cnn")));
        MODELS.put("rnn", new Recipe("rows into LSTM(64), Dense 128, Dense 10", 64, 1e-3f, 2, ClassifierRun.of("rnn")));
        MODELS.put("vae", new Recipe("VAE: Dense 256, mean and log-variance heads, Dense 512, Dense 784", 128, 1e-3f, 10,
                new VaeRun()));
        MODELS.put("gan", new Recipe("GAN: generator 100-256-512-784, discriminator 784-512-256-1", 64, 2e-4f, 5,
                new GanRun()));
        MODELS.put("transformer", new Recipe("Transformer encoder-decoder (2 + 2 layers, d_model 128, 4 heads) reversing "
                + "digit strings", 64, 1e-3f, 0, 1500, new TransformerRun()));
        MODELS.put("charlm", new Recipe("decoder-only character Transformer (4 layers, d_model 128, 4 heads, context 128) "
                + "on the Debian fortunes", 32, 1e-3f, 0, 1000, new CharLmRun()));
    }

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model to train: ${COMPLETION-CANDIDATES}",
            completionCandidates = ModelNames.class)
    String model;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--epochs", description = "Epochs (default: the model's recipe: 2, VAE 10, GAN 5)")
    Integer epochs;

    @Option(names = "--steps", description = "transformer, charlm: training steps (default: the recipe's: 1500, charlm 1000)")
    Integer steps;

    @Option(names = "--batch", description = "Batch size (default: the recipe's: 64, VAE 128, charlm 32)")
    Integer batch;

    @Option(names = "--lr", description = "Adam learning rate (default: the recipe's: 1e-3, GAN 2e-4)")
    Float lr;

    @Option(names = "--lr-schedule", paramLabel = "KIND", description = "constant, or cosine: a linear warmup over "
            + "--warmup steps, then a half cosine down to a tenth of --lr at the run's last step (default: constant)")
    String lrSchedule;

    @Option(names = "--warmup", paramLabel = "STEPS", description = "--lr-schedule cosine: warmup steps (default: 5%% of "
            + "the run's steps)")
    Integer warmup;

    @Option(names = "--seed", defaultValue = "42", description = "Seed for initialization, shuffling and noise (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--latent", description = "VAE latent size (default: 20; 2 adds the latent pictures)")
    Integer latent;

    @Option(names = "--out", description = "Output folder (default: runs/MODEL)")
    Path out;

    @Option(names = "--save", paramLabel = "DIR", description = "After every epoch (transformer: 100 steps, charlm: 50), "
            + "replace DIR/checkpoint.safetensors (model, optimizers, counters, generator offsets) atomically")
    Path save;

    @Option(names = "--resume", description = "Continue from the checkpoint in --save DIR up to --epochs (--steps) in "
            + "total (refused if it was made by another model or configuration)")
    boolean resume;

    @Option(names = "--limit", paramLabel = "N", description = "Train on the first N images only (quick runs and tests)")
    Integer limit;

    @Option(names = "--profile", paramLabel = "FILE", description = "Record every op (Kiln's profiler): write a Chrome "
            + "trace (open it in ui.perfetto.dev) to FILE and print the ops by total time at the end")
    Path profile;

    @Option(names = "--no-score", description = "vae, gan: skip scoring 10,000 samples with the cached Fashion-MNIST classifier")
    boolean noScore;

    Recipe recipe;

    /** Told every step after the run's own progress bar (kiln demo collects loss curves with it); null from the CLI. */
    TrainListener observer;

    /** vae, gan: a cnn model file to score samples with instead of the cached classifier; null from the CLI. */
    Path scorer;

    /** Ctrl-C while training; null until run() installs the handler, unless a caller set its own (tests). */
    Interrupt interrupt;

    @Override
    public Integer call() throws Exception {
        run();
        return 0;
    }

    /** Resolves the options, trains, writes metrics.json and returns its entries (kiln demo drives runs through this). */
    Map<String, Object> run() throws Exception {
        String name = model.toLowerCase(Locale.ROOT);
        recipe = MODELS.get(name);
        if (recipe == null) {
            StringBuilder known = new StringBuilder();
            MODELS.forEach((n, r) -> known.append(known.length() == 0 ? "" : "; ").append(n).append(" (").append(r.description()).append(')'));
            throw new IllegalArgumentException("unknown model '" + model + "'; known: " + known);
        }
        boolean epochsGiven = epochs != null;
        if (epochs == null) epochs = recipe.epochs();
        if (batch == null) batch = recipe.batch();
        if (lr == null) lr = recipe.lr();
        if (recipe.stepBased()) {
            if (steps == null) steps = recipe.steps();
            if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1");
            if (limit != null || epochsGiven) {
                throw new IllegalArgumentException(name + " trains for --steps on batches of its own: --limit and --epochs "
                        + "apply to the Fashion-MNIST models only");
            }
            epochs = 1;
        } else if (steps != null) {
            throw new IllegalArgumentException("--steps applies to transformer and charlm; " + name + " trains for --epochs");
        }
        // Options of other models are refused rather than ignored: `kiln train mlp --latent 2` would train the MLP.
        if (latent != null && !name.equals("vae")) throw new IllegalArgumentException("--latent applies to vae only, not " + name);
        if (noScore && !name.equals("vae") && !name.equals("gan")) {
            throw new IllegalArgumentException("--no-score applies to vae and gan only, not " + name);
        }
        if (latent == null) latent = 20;
        if (epochs < 1 || batch < 1 || !(lr > 0) || latent < 1 || (limit != null && limit < 1)) {
            throw new IllegalArgumentException("--epochs, --batch, --latent and --limit must be >= 1 and --lr > 0");
        }
        if (resume && save == null) throw new IllegalArgumentException("--resume needs --save DIR: the folder of the checkpoint to continue");
        if (lrSchedule == null) lrSchedule = "constant";
        if (!lrSchedule.equals("constant") && !lrSchedule.equals("cosine")) {
            throw new IllegalArgumentException("--lr-schedule is constant or cosine, got '" + lrSchedule + "'");
        }
        if (warmup != null && (!lrSchedule.equals("cosine") || warmup < 0)) {
            throw new IllegalArgumentException("--warmup applies to --lr-schedule cosine and is >= 0");
        }
        model = name;
        if (out == null) out = Path.of("runs", name);
        Files.createDirectories(out);
        if (save != null) Files.createDirectories(save);  // a --save that cannot be a folder fails now, not after an epoch
        // A fresh run would replace the checkpoint there at its first save: the progress of another run, lost.
        Path saved = save == null ? null : save.resolve(TrainingCheckpoint.FILE_NAME);
        if (saved != null && !resume && Files.exists(saved)) {
            throw new IllegalArgumentException("--save " + save + " already holds a checkpoint (" + describeCheckpoint(saved)
                    + "): continue it with --resume, or give another folder (or delete " + saved + " to start over)");
        }
        Device dev = Device.parse(device);
        long started = System.nanoTime();
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("model", name);
        metrics.put("device", dev.toString());
        metrics.put("build", Kiln.buildInfo());
        if (!recipe.stepBased()) metrics.put("epochs", epochs);
        metrics.put("batch", batch);
        metrics.put("lr", (double) lr);
        metrics.put("seed", seed);
        if (limit != null) metrics.put("limit", limit);
        boolean ownInterrupt = interrupt == null;
        if (ownInterrupt) interrupt = Interrupt.install();
        try {
            metrics.putAll(profile == null ? recipe.run().train(this, dev) : RunProfile.around(profile, () -> recipe.run().train(this, dev)));
        } finally {
            if (ownInterrupt) {
                interrupt.close();
                interrupt = null;
            }
        }
        metrics.put("wall_seconds", (System.nanoTime() - started) / 1e9);
        Path file = out.resolve("metrics.json");
        Metrics.write(file, metrics);
        System.out.println("metrics: " + file.toAbsolutePath());
        return metrics;
    }

    /**
     * The learning-rate schedule of --lr-schedule for a run of {@code totalSteps} steps in all, and how a checkpoint
     * records it (null for constant, which old checkpoints left unrecorded); see {@link RunCheckpoint}.
     */
    record Schedule(LrSchedule schedule, String recorded) {
    }

    Schedule schedule(long totalSteps) {
        if (lrSchedule.equals("constant")) return new Schedule(LrSchedule.constant(), null);
        long w = warmup != null ? warmup : totalSteps / 20;
        if (w >= totalSteps) throw new IllegalArgumentException("--warmup " + w + " must be below the run's " + totalSteps + " steps");
        return new Schedule(LrSchedule.warmupCosine(w, totalSteps, COSINE_FINAL),
                "cosine, warmup " + w + ", " + totalSteps + " steps, final " + COSINE_FINAL);
    }

    /** Where --lr-schedule cosine ends, as a fraction of --lr. */
    static final double COSINE_FINAL = 0.1;

    /** "mlp, step 1876" for the checkpoint {@code file}, or what makes it unreadable. */
    private static String describeCheckpoint(Path file) {
        try {
            Map<String, String> meta = SafeTensors.readHeader(file).metadata();
            return meta.getOrDefault("config.model", "no model named") + ", step " + meta.getOrDefault("state.step", "?");
        } catch (java.io.IOException | RuntimeException e) {
            return "unreadable: " + Main.describe(e);
        }
    }

    /** The Fashion-MNIST training images, the first --limit of them when it is given. */
    Dataset trainingSet() {
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        if (limit != null && limit > train.count()) {
            throw new IllegalArgumentException("--limit " + limit + " is more than the " + train.count() + " training images");
        }
        return limit == null ? train : train.head(limit);
    }

    /** The per-epoch entries of metrics.json and the training rate, shared by every run. */
    static final class EpochLog {
        final List<Map<String, Object>> epochs = new ArrayList<>();
        double trainSeconds;
        long samples;

        void add(Map<String, Object> entry, double seconds, long samples) {
            epochs.add(entry);
            trainSeconds += seconds;
            this.samples += samples;
        }

        double samplesPerSecond() {
            return samples / trainSeconds;
        }
    }

    static final class ModelNames extends ArrayList<String> {
        ModelNames() {
            super(MODELS.keySet().stream().sorted().toList());
        }
    }
}
