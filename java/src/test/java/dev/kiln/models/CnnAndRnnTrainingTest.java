package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.nn.Module;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CNN and the LSTM classifier on real Fashion-MNIST, one epoch each on the CPU (the full three-epoch runs are
 * `kiln train cnn|rnn`; their figures are in the issue notes). One epoch already separates a working model
 * from a broken one: both clear 80% where a wrong gradient leaves them near chance.
 */
class CnnAndRnnTrainingTest {
    private static double oneEpoch(String name, BiFunction<Device, Generator, Module> factory) {
        MlpTrainingTest.requireData();
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        Device cpu = Device.cpu();
        try (Module model = factory.apply(cpu, new Generator(42)); Adam adam = new Adam(model.parameters(), 1e-3f)) {
            long t0 = System.nanoTime();
            double loss = Training.trainEpoch(model, new BatchLoader(train, 64, true, 42, cpu), adam, 1, null);
            double seconds = (System.nanoTime() - t0) / 1e9;
            double accuracy = Training.accuracy(model, test, 1000, cpu);
            System.out.printf("[kiln] %s 1 epoch on cpu: train loss %.4f, test accuracy %.2f%%, %.1fs (%.0f samples/s)%n",
                    name, loss, 100 * accuracy, seconds, 60_000 / seconds);
            return accuracy;
        }
    }

    @Test
    void cnnLearns() {
        double acc = oneEpoch("CNN", Cnn::fashionMnist);
        assertTrue(acc >= 0.85, "CNN test accuracy after one epoch: " + acc);
    }

    @Test
    void lstmClassifierLearns() {
        double acc = oneEpoch("LSTM", LstmClassifier::fashionMnist);
        assertTrue(acc >= 0.78, "LSTM test accuracy after one epoch: " + acc);
    }
}
