package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.io.SafeTensors;
import dev.kiln.io.SafeTensorsHeader;
import dev.kiln.io.TensorInfo;
import dev.kiln.io.TrainingCheckpoint;
import dev.kiln.models.Cnn;
import dev.kiln.data.DigitReversal;
import dev.kiln.data.TextCorpus;
import dev.kiln.models.Gan;
import dev.kiln.models.Transformer;
import dev.kiln.models.LstmClassifier;
import dev.kiln.models.Mlp;
import dev.kiln.models.Vae;
import dev.kiln.nn.Module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The saved models that {@code kiln sample} and {@code kiln eval} read: a {@code kiln train} run's model.safetensors,
 * its --save checkpoint (the model part of it), or any safetensors file holding the model's state dict under Kiln's
 * names (one written by PyTorch, say). The model is rebuilt from its name and, for the VAE, the latent size the file
 * records (or the shape of its mean head), then loaded; a file that says it holds another model is refused.
 */
final class ModelFiles {
    static final List<String> MODELS = List.of("mlp", "cnn", "rnn", "vae", "gan", "transformer", "charlm");

    private ModelFiles() {
    }

    static String checkName(String command, String model, List<String> allowed) {
        String name = model.toLowerCase(Locale.ROOT);
        if (!allowed.contains(name)) {
            throw new IllegalArgumentException(command + ": MODEL is one of " + String.join(", ", allowed) + ", got '" + model + "'");
        }
        return name;
    }

    static Path defaultFile(String name) {
        return Path.of("runs", name, "model.safetensors");
    }

    /** The model {@code name} on {@code device} with the weights of {@code file}; the caller closes it. */
    static Module open(String name, Path file, Device device) throws IOException {
        if (!Files.exists(file)) throw new IllegalArgumentException(file + " does not exist: train first with `kiln train " + name + "`");
        SafeTensorsHeader header = SafeTensors.readHeader(file);
        boolean checkpoint = TrainingCheckpoint.isCheckpoint(header);
        Map<String, String> meta = checkpoint ? TrainingCheckpoint.config(file) : header.metadata();
        String saved = meta.get("model");
        if (saved != null && !saved.equals(name)) throw new IllegalArgumentException(file + " holds a '" + saved + "' model, not " + name);
        int latent = latent(meta, header, checkpoint ? TrainingCheckpoint.MODEL_PREFIX : "");
        int vocab = name.equals("charlm") ? alphabetOf(file, meta).length() : 0;
        Module model = Scope.detached(() -> build(name, device, latent, vocab));
        try {
            TrainingCheckpoint.loadModel(file, model);
            return model;
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The character alphabet a charlm file records, as a corpus that encodes and decodes text with it. */
    static TextCorpus alphabet(Path file) throws IOException {
        String a = alphabetOf(file, SafeTensors.readHeader(file).metadata());
        return new TextCorpus(a);  // the alphabet as a text has exactly the alphabet
    }

    private static String alphabetOf(Path file, Map<String, String> meta) {
        String a = meta.get("alphabet");
        if (a == null || a.length() < 2) throw new IllegalArgumentException(file + " records no character alphabet: not a charlm model file");
        return a;
    }

    private static Module build(String name, Device device, int latent, int vocab) {
        Generator g = new Generator(0);  // overwritten by the file
        return switch (name) {
            case "mlp" -> Mlp.fashionMnist(device, g);
            case "cnn" -> Cnn.fashionMnist(device, g);
            case "rnn" -> LstmClassifier.fashionMnist(device, g);
            case "vae" -> Vae.fashionMnist(latent, device, g);
            case "gan" -> new Gan(device, g);
            case "transformer" -> Transformer.seq2seq(DigitReversal.VOCAB, DigitReversal.TARGET_LENGTH, device, g);
            case "charlm" -> Transformer.charLm(vocab, device, g);
            default -> throw new IllegalArgumentException("unknown model '" + name + "'");
        };
    }

    /** The VAE's latent size: the recorded one, else the rows of the mean head's weight, else the default 20. */
    private static int latent(Map<String, String> meta, SafeTensorsHeader header, String prefix) {
        String recorded = meta.get("latent");
        if (recorded != null) {
            try {
                return Integer.parseInt(recorded);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the file records latent size '" + recorded + "', not a number", e);
            }
        }
        TensorInfo mean = header.tensors().get(prefix + "mean.weight");
        return mean != null && mean.shape().length == 2 ? mean.shape()[0] : 20;
    }
}
