package dev.kiln.compare.djl;

import ai.djl.engine.Engine;

import java.util.Locale;

/**
 * The DJL peer of bench/compare: trains one of Kiln's models with DJL on its PyTorch engine and prints one JSON line
 * to stdout (everything else goes to stderr):
 * <pre>
 *   bench/compare/djl/run mlp|cnn|rnn|vae|gan [--epochs N] [--limit N] [--seed N]
 *   {"model": "mlp", "rate": 12345.6, "unit": "samples/s", "metric": {"test_accuracy": 0.84}, ...}
 * </pre>
 * The rate counts the training samples over the timed loop alone (batch gathering, forward, backward, update), the
 * window train_cpu.torch_run and Kiln's Trainer time: data loading, engine loading and model initialization are
 * outside it; the first epoch's warm-up is inside it, as on the other two sides.
 * <p>The engine runs offline: libtorch 2.7.1 (CPU) comes from the pytorch-native-cpu jar on the class path and is
 * extracted to ENGINE_CACHE_DIR; nothing is downloaded. Intra-op threads: {@code ai.djl.pytorch.num_threads}
 * (default 2, the thread count of the PyTorch side).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].startsWith("-")) usage("no model given");
        String model = args[0];
        int epochs = 1, limit = 0;
        long seed = 42;
        for (int i = 1; i < args.length; i++) {
            if (i + 1 >= args.length) usage("missing value for " + args[i]);
            switch (args[i]) {
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--limit" -> limit = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                default -> usage("unknown option " + args[i]);
            }
        }
        // Defaults for a bare `java -cp ... Main`; the run script sets them too. Read when the engine first loads.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("ai.djl.pytorch.num_threads", System.getProperty("ai.djl.pytorch.num_threads", "2"));

        Engine engine = Engine.getEngine("PyTorch");
        int threads = Integer.getInteger("ai.djl.pytorch.num_threads");
        System.err.printf(Locale.ROOT, "djl: DJL %s, PyTorch engine %s, %d threads%n", Engine.getDjlVersion(),
                engine.getVersion(), threads);

        Result result;
        if (Classifier.knows(model)) {
            result = Classifier.train(model, epochs, limit, seed);
        } else if (model.equals("vae")) {
            result = Vae.train(epochs, limit, seed);
        } else if (model.equals("gan")) {
            result = Gan.train(epochs, limit, seed);
        } else {
            usage("unknown model " + model + " (transformer and charlm have no DJL version: see compare.py)");
            return;
        }
        System.out.println(result.json(model, engine.getVersion(), threads));
    }

    private static void usage(String why) {
        System.err.println("djl: " + why + "\nusage: run mlp|cnn|rnn|vae|gan [--epochs N] [--limit N] [--seed N]");
        System.exit(2);
    }
}
