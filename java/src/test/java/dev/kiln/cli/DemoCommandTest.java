package dev.kiln.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kiln.Kiln;
import dev.kiln.data.FashionMnist;
import dev.kiln.data.TextCorpus;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln demo} on a tiny plan (each model a few dozen steps): every model trains, and report.html holds a row
 * per model whose figure is the one its metrics.json reports, and only pictures that exist and are PNGs.
 */
class DemoCommandTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void aTinyDemoWritesACompleteReport(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST not installed: SKIPPED");
        Assumptions.assumeTrue(Files.isDirectory(TextCorpus.FORTUNES), "fortunes not installed: SKIPPED");
        DemoCommand demo = new DemoCommand();
        demo.plan = List.of(
                new DemoPlan.Stage(DemoModel.CNN, "--epochs", "1", "--limit", "3200"),
                new DemoPlan.Stage(DemoModel.RNN, "--epochs", "1", "--limit", "3200"),
                new DemoPlan.Stage(DemoModel.TRANSFORMER, "--steps", "40", "--batch", "16"),
                new DemoPlan.Stage(DemoModel.CHARLM, "--steps", "40", "--batch", "4"),
                new DemoPlan.Stage(DemoModel.VAE, "--epochs", "1", "--limit", "5120", "--no-score"),
                new DemoPlan.Stage(DemoModel.GAN, "--epochs", "1", "--limit", "2560"));
        Path out = dir.resolve("demo");
        int[] code = new int[1];
        String log = CliTest.captureAll(() -> code[0] = new CommandLine(demo).execute("--device", "cpu", "--out",
                out.toString(), "--quick"));
        assertEquals(0, code[0], log);
        for (int i = 1; i <= 6; i++) assertTrue(log.contains("[" + i + "/6] "), "no progress header " + i + " in:\n" + log);

        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("Quick-run figures"), "a quick run's figures are labelled as such");
        assertTrue(html.contains(Html.escape(Kiln.buildInfo())), "the report names the build");
        assertEquals(9, checkImages(out, html), "six loss charts, two VAE grids and the GAN's last grid");

        Map<String, Double> metric = headlines(html);
        assertEquals(List.of("cnn", "rnn", "transformer", "charlm", "vae", "gan"), List.copyOf(metric.keySet()), html);
        for (String classifier : List.of("cnn", "rnn")) {
            double accuracy = metrics(out, classifier).get("test_accuracy").getAsDouble();
            assertEquals(100 * accuracy, metric.get(classifier), 1e-3, classifier);
            assertTrue(accuracy > 0.3 && accuracy <= 1, classifier + " learned something in 50 steps: " + accuracy);
        }
        assertEquals(100 * metrics(out, "transformer").get("exact_match").getAsDouble(), metric.get("transformer"), 1e-3);
        double bpc = metric.get("charlm");
        assertEquals(metrics(out, "charlm").get("bits_per_character").getAsDouble(), bpc, 1e-4);
        assertTrue(bpc > 1 && bpc < Math.log(metrics(out, "charlm").get("vocab").getAsInt()) / Math.log(2), "bpc " + bpc);
        double elbo = metric.get("vae");
        assertEquals(metrics(out, "vae").get("test_negative_elbo").getAsDouble(), elbo, 1e-3 * elbo);
        assertTrue(elbo > 100 && elbo < 600, "VAE negative ELBO " + elbo);
        JsonObject gan = metrics(out, "gan");
        assertEquals(gan.get("frechet_distance").getAsDouble(), metric.get("gan"), 1e-3 * metric.get("gan"));
        assertTrue(gan.get("frechet_distance").getAsDouble() > gan.get("real_data_frechet_distance").getAsDouble(),
                "40 steps of GAN training stay farther from the data than real images are");
        String scorer = gan.get("scored_with").getAsString();  // the demo's CNN unless the reference one is cached
        String named = scorer.startsWith("the cnn in ") ? "the CNN this demo trained (" + out.resolve("cnn/model.safetensors")
                : scorer;
        assertTrue(html.contains(Html.escape(named)), "the report says which classifier scored the samples: " + scorer);

        String sample = metrics(out, "charlm").get("sample").getAsString();
        assertTrue(sample.startsWith("The ") && sample.length() > 100, sample);
        assertTrue(html.contains("<pre class=\"sample\">" + Html.escape(sample) + "</pre>"), "the generated text, escaped");
    }

    @Test
    void htmlEscapesMarkupAndQuotes() {
        assertEquals("&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &quot;x&quot; &#39;y&#39;",
                Html.escape("<b>Tom & Jerry</b> \"x\" 'y'"));
        // HTML forbids control characters; the fortunes hold backspaces (overstrike) and stray C1 codes.
        assertEquals("a\u2408b\ufffdc\nd", Html.escape("a\bb\u009dc\nd"));
    }

    /** Checks that every picture is linked relatively, exists and is a PNG that decodes; returns how many there are. */
    private static int checkImages(Path out, String html) throws IOException {
        Matcher img = Pattern.compile("<img src=\"([^\"]+)\"").matcher(html);
        int count = 0;
        while (img.find()) {
            String src = img.group(1);
            assertFalse(src.startsWith("/") || src.contains(":") || src.contains(".."), "not a relative path: " + src);
            Path file = out.resolve(src);
            assertTrue(Files.isRegularFile(file), src);
            try (InputStream in = Files.newInputStream(file)) {
                assertArrayEquals(PNG_SIGNATURE, in.readNBytes(8), src);
            }
            BufferedImage image = ImageIO.read(file.toFile());
            assertNotNull(image, src);
            assertTrue(image.getWidth() >= 200 && image.getHeight() >= 200,
                    src + " is " + image.getWidth() + "x" + image.getHeight());
            count++;
        }
        return count;
    }

    /** Each table row's model and headline value (its data-value), in table order. */
    private static Map<String, Double> headlines(String html) {
        Matcher row = Pattern.compile("<tr data-model=\"(\\w+)\">.*?<td class=\"metric\" data-value=\"([^\"]+)\"")
                .matcher(html);
        Map<String, Double> values = new LinkedHashMap<>();
        while (row.find()) {
            double v = Double.parseDouble(row.group(2));
            assertTrue(Double.isFinite(v), row.group(0));
            values.put(row.group(1), v);
        }
        return values;
    }

    private static JsonObject metrics(Path out, String model) throws IOException {
        return JsonParser.parseString(Files.readString(out.resolve(model).resolve("metrics.json"))).getAsJsonObject();
    }
}
