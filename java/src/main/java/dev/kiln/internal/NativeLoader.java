package dev.kiln.internal;

import dev.kiln.KilnNativeLoadException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * Finds and loads libkiln. In order: the file or folder named by {@code -Dkiln.library.path}; else the library
 * bundled in the jar under {@code native/<os>-<arch>/}, extracted once to a versioned, content-addressed file in
 * the user cache ({@code -Dkiln.cache.dir}, else {@code $XDG_CACHE_HOME/kiln} or {@code ~/.cache/kiln}, else the
 * temp folder) and loaded from there. A failure names the os, the arch and every place tried.
 */
public final class NativeLoader {
    public static final String LIBRARY_PATH_PROPERTY = "kiln.library.path";
    public static final String CACHE_DIR_PROPERTY = "kiln.cache.dir";
    static final String LIBRARY_FILE = "libkiln.so";

    private static volatile Path loadedFrom;
    // Diagnostics go through the platform logger (java.util.logging unless the application routes System.Logger
    // elsewhere, e.g. to SLF4J): where the library came from at DEBUG, a failure to load at ERROR.
    private static final System.Logger LOG = System.getLogger("dev.kiln.native");

    private NativeLoader() {
    }

    /** Where the library was loaded from, or null if it is not loaded. */
    public static Path loadedFrom() {
        return loadedFrom;
    }

    /** Kiln's version, from the jar's kiln.properties. */
    public static String version() {
        Properties p = new Properties();
        try (InputStream in = NativeLoader.class.getResourceAsStream("/dev/kiln/kiln.properties")) {
            if (in != null) p.load(in);
        } catch (IOException ignored) {
            // Fall through to "dev": the version only names the extraction folder and the banner.
        }
        return p.getProperty("version", "dev");
    }

    /** "linux-x86_64" and friends: the folder name under native/ in the jar. */
    public static String platform() {
        return osName() + "-" + archName();
    }

    /** Loads the library once per class loader; returns the failure instead of throwing it. */
    static synchronized KilnNativeLoadException tryLoad() {
        if (loadedFrom != null) return null;
        try {
            loadedFrom = load(System.getProperty(LIBRARY_PATH_PROPERTY), NativeLoader.class.getClassLoader(), cacheRoots());
            LOG.log(System.Logger.Level.DEBUG, "loaded libkiln from {0}", loadedFrom);
            return null;
        } catch (KilnNativeLoadException e) {
            LOG.log(System.Logger.Level.ERROR, "libkiln did not load: {0}", e.getMessage());
            return e;
        }
    }

    /**
     * Locates and {@code System.load}s the library: from {@code explicitPath} if it is set, else from the bundled
     * resource extracted under the first writable cache root. Package-private so that tests can drive the failures.
     */
    static Path load(String explicitPath, ClassLoader resources, List<Path> cacheRoots) {
        List<String> tried = new ArrayList<>();
        Throwable cause = null;
        if (explicitPath != null && !explicitPath.isBlank()) {
            Path p = Paths.get(explicitPath);
            if (Files.isDirectory(p)) p = p.resolve(LIBRARY_FILE);
            if (!Files.isRegularFile(p)) {
                tried.add("-D" + LIBRARY_PATH_PROPERTY + "=" + explicitPath + " (no such file: " + p + ")");
                throw failure(tried, null);
            }
            try {
                System.load(p.toAbsolutePath().toString());
                return p;
            } catch (UnsatisfiedLinkError e) {
                tried.add("-D" + LIBRARY_PATH_PROPERTY + "=" + explicitPath + " (" + e.getMessage() + ")");
                throw failure(tried, e);
            }
        }
        String resource = "native/" + platform() + "/" + LIBRARY_FILE;
        byte[] bytes;
        try (InputStream in = resources.getResourceAsStream(resource)) {
            if (in == null) {
                tried.add("classpath resource " + resource + " (not in the jar: this build of Kiln has no library for "
                        + platform() + "; set -D" + LIBRARY_PATH_PROPERTY + " to a libkiln you built)");
                throw failure(tried, null);
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            tried.add("classpath resource " + resource + " (unreadable: " + e + ")");
            throw failure(tried, e);
        }
        String folder = version() + "-" + sha256(bytes).substring(0, 16);
        for (Path root : cacheRoots) {
            Path target = root.resolve("native").resolve(folder).resolve(LIBRARY_FILE);
            try {
                extract(bytes, target);
            } catch (IOException e) {
                tried.add("extracting " + resource + " to " + target + " (" + e + ")");
                cause = e;
                continue;
            }
            try {
                System.load(target.toAbsolutePath().toString());
                return target;
            } catch (UnsatisfiedLinkError e) {
                tried.add("loading " + target + " extracted from " + resource + " (" + e.getMessage() + ")");
                throw failure(tried, e);
            }
        }
        throw failure(tried, cause);
    }

    /** Default cache roots, most preferred first. */
    static List<Path> cacheRoots() {
        List<Path> roots = new ArrayList<>();
        String configured = System.getProperty(CACHE_DIR_PROPERTY);
        if (configured != null && !configured.isBlank()) roots.add(Paths.get(configured));
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) roots.add(Paths.get(xdg, "kiln"));
        String home = System.getProperty("user.home");
        if (home != null && !home.isBlank() && !"?".equals(home)) roots.add(Paths.get(home, ".cache", "kiln"));
        roots.add(Paths.get(System.getProperty("java.io.tmpdir"), "kiln-" + System.getProperty("user.name", "user")));
        return roots;
    }

    /** Writes the library next to its final name and renames it, so concurrent JVMs never load a partial file. */
    private static void extract(byte[] bytes, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length) return;
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), LIBRARY_FILE, ".part");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static KilnNativeLoadException failure(List<String> tried, Throwable cause) {
        StringBuilder msg = new StringBuilder("Kiln could not load its native library for os=")
                .append(System.getProperty("os.name")).append(" arch=").append(System.getProperty("os.arch"))
                .append(" (platform ").append(platform()).append("). Tried:");
        for (String t : tried) msg.append("\n  - ").append(t);
        return new KilnNativeLoadException(msg.toString(), cause);
    }

    private static String osName() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("linux")) return "linux";
        if (os.contains("mac") || os.contains("darwin")) return "macos";
        if (os.contains("win")) return "windows";
        return os.replaceAll("[^a-z0-9]", "");
    }

    private static String archName() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch.replaceAll("[^a-z0-9_]", "");
        };
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
