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
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + " is not a file (a folder?): give the model.safetensors in it");
        SafeTensorsHeader header = SafeTensors.readHeader(file);
        boolean checkpoint = TrainingCheckpoint.isCheckpoint(header);
        Map<String, String> meta = metadata(file, header);
        String saved = meta.get("model");
        if (saved != null && !saved.equals(name)) throw new IllegalArgumentException(file + " holds a '" + saved + "' model, not " + name);
        int latent = name.equals("vae") ? latent(file, meta, header, checkpoint ? TrainingCheckpoint.MODEL_PREFIX : "") : 0;
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
        String a = alphabetOf(file, metadata(file, SafeTensors.readHeader(file)));
        return new TextCorpus(a);  // the alphabet as a text has exactly the alphabet
    }

    /** What a model file records about its model: a checkpoint's configuration, or a plain file's metadata. */
    private static Map<String, String> metadata(Path file, SafeTensorsHeader header) throws IOException {
        return TrainingCheckpoint.isCheckpoint(header) ? TrainingCheckpoint.config(file) : header.metadata();
    }

    /**
     * The alphabet a charlm file records: its characters in increasing order, each once, as TextCorpus makes it (the
     * model's ids are positions in it, so any other order would decode to other characters). That also bounds the
     * model's vocabulary, which is built from it, to 65,536.
     */
    private static String alphabetOf(Path file, Map<String, String> meta) {
        String a = meta.get("alphabet");
        if (a == null || a.length() < 2) throw new IllegalArgumentException(file + " records no character alphabet: not a charlm model file");
        for (int i = 1; i < a.length(); i++) {
            if (a.charAt(i - 1) >= a.charAt(i)) {
                throw new IllegalArgumentException(file + ": the recorded alphabet is not in increasing order without repeats "
                        + "(at character " + i + "), as kiln train charlm records it");
            }
        }
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

    /**
     * The VAE's latent size: the rows of the mean head's weight, which must agree with the size the file records, if
     * it records one; without that tensor, the recorded size or the default 20 (the load then names what is missing).
     * The size comes from the tensor first because the model is built before its state is checked: a recorded size
     * alone could ask for any amount of memory, while a tensor's shape is bounded by the bytes in the file.
     */
    private static int latent(Path file, Map<String, String> meta, SafeTensorsHeader header, String prefix) {
        String recorded = meta.get("latent");
        TensorInfo mean = header.tensors().get(prefix + "mean.weight");
        Integer fromTensor = mean != null && mean.shape().length == 2 ? mean.shape()[0] : null;
        if (recorded == null) return fromTensor != null ? fromTensor : 20;
        int value;
        try {
            value = Integer.parseInt(recorded);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + " records latent size '" + recorded + "', not a number", e);
        }
        if (fromTensor == null) throw new IllegalArgumentException(file + " records latent size " + value + " but holds no " + prefix + "mean.weight: not a VAE model file");
        if (fromTensor != value) throw new IllegalArgumentException(file + " records latent size " + value + " but its mean head has " + fromTensor + " rows");
        return value;
    }
}
