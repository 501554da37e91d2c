package dev.kiln.internal;

import dev.kiln.KilnNativeLoadException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * Finds and loads libkiln. In order: the file or folder named by {@code -Dkiln.library.path}; else the library
 * bundled in the jar under {@code native/<os>-<arch>/}, extracted once to a versioned, content-addressed file in
 * the user cache ({@code -Dkiln.cache.dir}, else {@code $XDG_CACHE_HOME/kiln} or {@code ~/.cache/kiln}, else a
 * folder of this user's own in the temp folder) and loaded from there. A file found there is loaded only if its
 * SHA-256 is that of the bundled library. A failure names the os, the arch and every place tried.
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
        String hash = sha256(bytes);
        for (Path root : cacheRoots) {
            Path target;
            try {
                target = extracted(bytes, hash, root);
            } catch (IOException e) {
                tried.add("extracting " + resource + " under " + root + " (" + e + ")");
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

    /**
     * The library file under {@code root} whose content is {@code bytes} (SHA-256 {@code sha256}, hex): the existing
     * file if its hash matches, else a fresh extraction. The folder is named by the version and a prefix of the hash,
     * but a name proves nothing about what a file holds (a truncated or corrupted copy of the same size, a file
     * planted in a shared temp folder), so an existing file is hashed in full before it may be loaded. Hashing the
     * ~30 MB library costs tens of milliseconds (about 55 ms on a busy two-core machine), once per JVM, on top of
     * hashing the resource itself. A root inside the temp folder (the last fallback always is) must be private
     * first: see {@link #requirePrivateRoot}. Package-private so tests can drive it without {@code System.load}.
     */
    static Path extracted(byte[] bytes, String sha256, Path root) throws IOException {
        if (isInTempFolder(root)) requirePrivateRoot(root);
        Path target = root.resolve("native").resolve(version() + "-" + sha256.substring(0, 16)).resolve(LIBRARY_FILE);
        if (!holds(target, bytes.length, sha256)) extract(bytes, target);
        return target;
    }

    /** Whether {@code file} is a regular file (not a link) of {@code size} bytes whose SHA-256 is {@code sha256}. */
    private static boolean holds(Path file, long size, String sha256) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) != size) return false;
        MessageDigest digest = sha256Digest();
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        }
        return MessageDigest.isEqual(digest.digest(), HexFormat.of().parseHex(sha256));
    }

    /**
     * Writes the library next to its final name and renames it over whatever is there, so concurrent JVMs never load
     * a partial file and a bad copy is replaced in one step.
     */
    private static void extract(byte[] bytes, Path target) throws IOException {
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

    private static boolean isInTempFolder(Path root) {
        String tmp = System.getProperty("java.io.tmpdir");
        if (tmp == null || tmp.isBlank()) return false;
        return root.toAbsolutePath().normalize().startsWith(Paths.get(tmp).toAbsolutePath().normalize());
    }

    /**
     * Makes sure that a cache root in the shared temp folder is a directory only this user can write: creates it
     * rwx------ if it is missing, and refuses (an IOException naming the root and what is wrong with it) one that
     * is a symbolic link, is owned by someone else, or can be written by the group or others. Without this, anyone
     * could create {@code /tmp/kiln-<user>} first and put a library there for us to load. The folders below a
     * private root need no check: only its owner can create them. On a file system without POSIX permissions
     * (Windows, where the temp folder is per user) there is nothing to check.
     */
    static void requirePrivateRoot(Path root) throws IOException {
        if (!root.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(root);
            return;
        }
        Path parent = root.toAbsolutePath().getParent();
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            if (parent != null) Files.createDirectories(parent);
            try {
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException raced) {
                // Another JVM (or someone else) made it first: the checks below decide whether it can be used.
            }
        }
        String refusing = "refusing cache root " + root + ": ";
        String fix = "; remove it or set -D" + CACHE_DIR_PROPERTY + " to a folder of your own";
        PosixFileAttributes attrs = Files.readAttributes(root, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (attrs.isSymbolicLink()) throw new IOException(refusing + "it is a symbolic link" + fix);
        if (!attrs.isDirectory()) throw new IOException(refusing + "it is not a directory" + fix);
        UserPrincipal me = currentUser();
        if (!attrs.owner().equals(me)) {
            throw new IOException(refusing + "it is owned by " + attrs.owner().getName() + ", not " + me.getName() + fix);
        }
        Set<PosixFilePermission> perms = attrs.permissions();
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(refusing + "its group or others can write it (" + PosixFilePermissions.toString(perms)
                    + "; it must be rwx------ or at least not group/world-writable)" + fix);
        }
    }

    /**
     * This process's effective user: the owner of a file it creates. Not user.name, which is only the environment's
     * word (a container's unnamed uid reports "?", and sudo can keep another user's name).
     */
    private static UserPrincipal currentUser() throws IOException {
        Path probe = Files.createTempFile("kiln-owner", ".probe");
        try {
            return Files.getOwner(probe);
        } finally {
            Files.deleteIfExists(probe);
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

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(sha256Digest().digest(bytes));
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
