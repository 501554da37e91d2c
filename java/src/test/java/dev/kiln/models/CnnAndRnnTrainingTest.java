package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.eval.FashionClassifier;
import dev.kiln.nn.Layer;
import dev.kiln.optim.Adam;
import dev.kiln.train.Classification;
import dev.kiln.train.Trainer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CNN and the LSTM classifier on real Fashion-MNIST: three epochs each on the CPU with Adam 1e-3 and batch 64,
 * the recipe of `kiln train cnn|rnn` (PyTorch reaches 88.7% and 85.0% with it on this CPU). Seeded and
 * deterministic for a given thread count; the RNN bar sits half a point under 84% for other thread counts.
 */
@Order(1)
class CnnAndRnnTrainingTest {
    private static double threeEpochs(String name, BiFunction<Device, Generator, Layer> factory) {
        MlpTrainingTest.requireData();
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        Device cpu = Device.cpu();
        try (Layer model = factory.apply(cpu, new Generator(42)); Adam adam = new Adam(model.parameters(), 1e-3f)) {
            long t0 = System.nanoTime();
            BatchLoader loader = new BatchLoader(train, 64, true, 42, cpu);
            Trainer trainer = new Trainer(model, adam);
            double loss = 0;
            for (int epoch = 1; epoch <= 3; epoch++) loss = trainer.epoch(epoch, loader, Classification.step(model)).mean("loss");
            double seconds = (System.nanoTime() - t0) / 1e9;
            double accuracy = Classification.accuracy(model, test, 1000, cpu);
            System.out.printf("[kiln] %s 3 epochs on cpu: train loss %.4f, test accuracy %.2f%%, %.1fs (%.0f samples/s)%n",
                    name, loss, 100 * accuracy, seconds, 180_000 / seconds);
            return accuracy;
        }
    }

    /**
     * The same recipe trains the image scorer of the GAN and CLI tests (FashionClassifier), so the network trained
     * here is saved as that classifier: run first (@Order), this class spares them training their own.
     */
    @Test
    void cnnLearns() {
        MlpTrainingTest.requireData();
        Device cpu = Device.cpu();
        long t0 = System.nanoTime();
        try (Cnn cnn = FashionClassifier.train(FashionClassifier.defaultFile(), cpu)) {
            double seconds = (System.nanoTime() - t0) / 1e9;
            double acc = Classification.accuracy(cnn, FashionMnist.load(FashionMnist.Split.TEST), 1000, cpu);
            System.out.printf("[kiln] CNN 3 epochs on cpu: test accuracy %.2f%%, %.1fs with the evaluation (%.0f samples/s)%n",
                    100 * acc, seconds, 180_000 / seconds);
            assertTrue(acc >= 0.88, "CNN test accuracy after three epochs: " + acc);
        }
    }

    @Test
    void lstmClassifierLearns() {
        double acc = threeEpochs("LSTM", LstmClassifier::fashionMnist);
        assertTrue(acc >= 0.835, "LSTM test accuracy after three epochs: " + acc);
    }
}
