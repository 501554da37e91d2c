// Generates the Java binding of each op family that has none written by hand, from the family's entries in kiln.h, so
// that adding an op family writes no binding class. Run by the build (java/pom.xml, generate-sources) as
//   java GenerateBindings.java <kiln.h> <dir of dev/kiln/internal sources> <output source root>
//
// A family is a kiln.h section titled "ops: <family>". It is generated when none of its entries is bound by hand (no
// `native ... kiln_<entry>(` in dev/kiln/internal); otherwise the family keeps its hand-written class. The generated
// class, dev.kiln.internal.<Family>Native, is what a hand-written one holds: one private static native per entry,
// bound by NativeLibrary.bindAbi, and one wrapper per entry that takes tensors, checks each through Call (present
// unless optional, open, on the call's device, of the entry's dtype, holding the elements the entry touches) and
// reads the addresses at call time. The element counts come from the shapes the entry's comment states, in the form
// kiln.h's conventions block gives: "mu, logvar, z are (n)", "loss (1)", "dmu or dlogvar may be NULL". A pointer
// argument without a stated shape fails the build, naming the entry and the argument.

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

public final class GenerateBindings {
    private static final Pattern SECTION = Pattern.compile("/\\* ---- ([^\\n]*?) -+");
    private static final Pattern OPS_SECTION = Pattern.compile("ops: ([a-z0-9_]+)\\b.*");
    private static final Pattern ENTRY = Pattern.compile("KILN_API kiln_status (kiln_[a-z0-9_]+)\\(([^)]*)\\);");
    private static final Pattern COMMENT = Pattern.compile("/\\*(.*?)\\*/", Pattern.DOTALL);
    // "mu, logvar and z are (n)", "loss (1)": names, then a parenthesized list of sizes after a space.
    private static final Pattern SHAPE =
            Pattern.compile("(\\w+(?:(?:, and |, | and | or )\\w+)*) (?:(?:is|are) )?\\(([^()]*)\\)");
    private static final Pattern MAY_BE_NULL = Pattern.compile("(\\w+(?:(?:, | or |, or )\\w+)*) may be NULL");
    private static final Pattern HAND_BOUND = Pattern.compile("native\\s+\\w+\\s+(kiln_[a-z0-9_]+)\\s*\\(");
    private static final Pattern INTEGER = Pattern.compile("[0-9]+");
    private static final Pattern PARAM = Pattern.compile("(.*?[\\s*])(\\w+)");  // "const float* mu": type, name

    /** One C parameter: its type as written (whitespace collapsed) and its name. */
    private record Param(String type, String name) {
        boolean isPointer() {
            return type.endsWith("*");
        }

        /** "F32", "I32" or "Bf16", as Call's methods spell the dtype of a tensor argument; null for other pointers. */
        String dtype() {
            String base = type.replace("const ", "").replace("*", "").trim();
            return switch (base) {
                case "float" -> "F32";
                case "int32_t" -> "I32";
                case "kiln_bf16" -> "Bf16";
                default -> null;
            };
        }

        /** The Java type of a non-pointer parameter, as NativeLibrary.bindAbi expects it. */
        String javaScalar() {
            return switch (type) {
                case "int64_t", "uint64_t", "size_t" -> "long";
                case "int32_t" -> "int";
                case "float" -> "float";
                case "double" -> "double";
                default -> type.startsWith("kiln_") ? "int" : null;  // the enums of kiln.h are int32
            };
        }
    }

    private record Entry(String name, List<Param> params, String doc) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: java GenerateBindings.java <kiln.h> <dev/kiln/internal dir> <output root>");
            System.exit(2);
        }
        String header = Files.readString(Path.of(args[0]));
        Set<String> handBound = handBoundEntries(Path.of(args[1]));
        Path outDir = Path.of(args[2], "dev", "kiln", "internal");
        Files.createDirectories(outDir);
        for (Map.Entry<String, List<Entry>> family : families(header).entrySet()) {
            List<Entry> entries = family.getValue();
            if (entries.isEmpty() || entries.stream().anyMatch(e -> handBound.contains(e.name()))) continue;
            String className = className(family.getKey());
            String text = render(family.getKey(), className, entries);
            Path out = outDir.resolve(className + ".java");
            // Rewritten only when it changes, so an unchanged binding does not make the compiler rebuild the module.
            if (!Files.exists(out) || !Files.readString(out).equals(text)) Files.writeString(out, text);
        }
    }

    private static Set<String> handBoundEntries(Path internalDir) throws IOException {
        Set<String> bound = new HashSet<>();
        try (Stream<Path> files = Files.list(internalDir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher m = HAND_BOUND.matcher(Files.readString(p));
                while (m.find()) bound.add(m.group(1));
            }
        }
        return bound;
    }

    /** The entries of each "ops: <family>" section, in kiln.h's order, each with the comment that documents it. */
    private static Map<String, List<Entry>> families(String header) {
        Map<String, List<Entry>> families = new LinkedHashMap<>();
        Matcher section = SECTION.matcher(header);
        List<int[]> bounds = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        while (section.find()) {
            bounds.add(new int[] {section.start(), section.end()});
            titles.add(section.group(1).trim());
        }
        for (int i = 0; i < titles.size(); i++) {
            Matcher ops = OPS_SECTION.matcher(titles.get(i));
            if (!ops.matches()) continue;
            int end = i + 1 < bounds.size() ? bounds.get(i + 1)[0] : header.length();
            String body = header.substring(header.indexOf("*/", bounds.get(i)[1]) + 2, end);
            List<Entry> entries = families.computeIfAbsent(ops.group(1), k -> new ArrayList<>());
            parseEntries(body, entries);
        }
        return families;
    }

    /** An entry's doc: the comments between the previous entry and it; with none, the previous entry's doc. */
    private static void parseEntries(String body, List<Entry> out) {
        Matcher entry = ENTRY.matcher(body);
        int from = 0;
        String previousDoc = "";
        while (entry.find()) {
            StringBuilder doc = new StringBuilder();
            Matcher comment = COMMENT.matcher(body.substring(from, entry.start()));
            while (comment.find()) doc.append(' ').append(comment.group(1));
            String text = doc.toString().replaceAll("\\n\\s*\\*", " ").replaceAll("\\s+", " ").trim();
            if (text.isEmpty()) text = previousDoc;
            out.add(new Entry(entry.group(1), params(entry.group(1), entry.group(2)), text));
            previousDoc = text;
            from = entry.end();
        }
    }

    private static List<Param> params(String entry, String list) {
        List<Param> params = new ArrayList<>();
        for (String raw : list.split(",")) {
            String p = raw.replaceAll("\\s+", " ").trim();
            Matcher m = PARAM.matcher(p);
            if (!m.matches()) throw new IllegalStateException("kiln.h: " + entry + ": cannot read '" + p + "'");
            params.add(new Param(m.group(1).replace(" *", "*").trim(), m.group(2)));
        }
        return params;
    }

    /** The sizes whose product each tensor argument spans, and which of them may be null, from the entry's doc. */
    private static Map<String, List<String>> shapes(Entry e, Set<String> optional) {
        Map<String, Param> byName = new LinkedHashMap<>();
        for (Param p : e.params()) byName.put(p.name(), p);
        Map<String, List<String>> shapes = new LinkedHashMap<>();
        Matcher m = SHAPE.matcher(e.doc());
        while (m.find()) {
            List<String> count = sizes(byName, m.group(2));
            if (count == null) continue;  // prose in parentheses, not sizes
            for (String name : trailingPointers(m.group(1), byName)) {
                List<String> before = shapes.putIfAbsent(name, count);
                if (before != null && !before.equals(count)) {
                    throw new IllegalStateException("kiln.h: " + e.name() + ": '" + name + "' is given two shapes: ("
                            + before + ") and (" + count + ")");
                }
            }
        }
        Matcher n = MAY_BE_NULL.matcher(e.doc());
        while (n.find()) optional.addAll(trailingPointers(n.group(1), byName));
        return shapes;
    }

    /** The names ending "a, b and c" that are pointer parameters: "sum over dim, mu, logvar" gives mu, logvar. */
    private static List<String> trailingPointers(String names, Map<String, Param> byName) {
        String[] parts = names.split(", and |, | and | or ");
        int first = parts.length;
        while (first > 0 && byName.containsKey(parts[first - 1]) && byName.get(parts[first - 1]).isPointer()) first--;
        return List.of(parts).subList(first, parts.length);
    }

    /** "batch, dim": integer parameters or literals; null if any size is something else. */
    private static List<String> sizes(Map<String, Param> byName, String sizes) {
        List<String> terms = new ArrayList<>();
        for (String s : sizes.split(",")) {
            String t = s.trim();
            Param p = byName.get(t);
            boolean integer = p != null && !p.isPointer() && List.of("long", "int").contains(p.javaScalar())
                    && !p.type().startsWith("kiln_");
            if (!integer && !INTEGER.matcher(t).matches()) return null;
            terms.add(t);
        }
        return terms;
    }

    /** layer_norm -> LayerNormNative. */
    private static String className(String family) {
        String name = camel(family.split("_"), "");
        return Character.toUpperCase(name.charAt(0)) + name.substring(1) + "Native";
    }

    /** kiln_gaussian_kl_backward_f32 -> "gaussian_kl backward", the op's name in messages and the profiler. */
    private static String opName(String entry) {
        String s = entry.substring("kiln_".length()).replaceAll("_(f32|bf16)$", "");
        return s.endsWith("_backward") ? s.substring(0, s.length() - "_backward".length()) + " backward" : s;
    }

    private static String methodName(String entry) {
        return camel(opName(entry).split("[_ ]"), "");
    }

    /** {"batch", "dim"} joined by "By": batchByDim. */
    private static String camel(String[] words, String joiner) {
        StringBuilder s = new StringBuilder(words[0]);
        for (int i = 1; i < words.length; i++) {
            s.append(joiner).append(Character.toUpperCase(words[i].charAt(0))).append(words[i].substring(1));
        }
        return s.toString();
    }

    private static String render(String family, String className, List<Entry> entries) {
        StringBuilder s = new StringBuilder();
        s.append("// Generated by java/src/codegen/GenerateBindings.java from native/include/kiln/kiln.h: ")
                .append("edit kiln.h, not this file.\n");
        s.append("package dev.kiln.internal;\n\nimport dev.kiln.Tensor;\n\n");
        s.append("/**\n * Binding of the ").append(family)
                .append(" family, generated from its entries in kiln.h: each wrapper checks its\n")
                .append(" * tensors through {@link Call} and reads their addresses at call time. Not public API.\n")
                .append(" */\n");
        s.append("public final class ").append(className).append(" {\n");
        s.append("    private ").append(className).append("() {\n    }\n\n");
        s.append("    static {\n        NativeLibrary.bindAbi(").append(className).append(".class);\n    }\n");
        for (Entry e : entries) renderWrapper(s, e);
        s.append("\n    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi ")
                .append("(native/src/jni/jni_abi.cpp)\n\n");
        for (Entry e : entries) renderNative(s, e);
        return s.append("}\n").toString();
    }

    private static void renderWrapper(StringBuilder s, Entry e) {
        if (e.params().isEmpty() || !e.params().get(0).type().equals("kiln_context*")) {
            throw new IllegalStateException("kiln.h: " + e.name() + ": an op entry takes its kiln_context* first");
        }
        Set<String> optional = new HashSet<>();
        Map<String, List<String>> shapes = shapes(e, optional);
        List<String> javaParams = new ArrayList<>(), checks = new ArrayList<>(), callArgs = new ArrayList<>();
        Set<String> products = new HashSet<>();
        callArgs.add("c.context()");
        for (Param p : e.params().subList(1, e.params().size())) {
            if (p.isPointer()) {
                if (p.dtype() == null) fail(e, p, "has no generated form (a tensor is float*, int32_t* or kiln_bf16*)");
                List<String> sizes = shapes.get(p.name());
                if (sizes == null) fail(e, p, "has no stated shape: write \"" + p.name() + " (sizes)\" in its comment");
                javaParams.add("Tensor " + p.name());
                String dtype = p.dtype();
                String check = "c." + dtype.toLowerCase(Locale.ROOT);
                if (optional.contains(p.name())) {
                    check = dtype.equals("I32") ? p.name() + " == null ? 0 : c.i32" : "c.optional" + dtype;
                }
                String count = sizes.get(0);
                if (sizes.size() > 1) {  // a product, computed (and checked for overflow) once: batchByDim
                    count = camel(sizes.toArray(String[]::new), "By");
                    if (products.add(count)) {
                        checks.add("long " + count + " = Sizes.product(" + String.join(", ", sizes) + ");");
                    }
                }
                checks.add("long " + p.name() + "Address = " + check + "(\"" + p.name() + "\", " + p.name() + ", "
                        + count + ");");
                callArgs.add(p.name() + "Address");
            } else {
                if (p.javaScalar() == null) fail(e, p, "has no Java form");
                javaParams.add(p.javaScalar() + " " + p.name());
                callArgs.add(p.name());
            }
        }
        s.append('\n').append(javadoc(e.name(), e.doc()));
        s.append(wrap("    public static void " + methodName(e.name()) + "(", javaParams, ") {"));
        s.append("        Call c = new Call(\"").append(opName(e.name())).append("\");\n");
        for (String check : checks) s.append("        ").append(check).append('\n');
        s.append(wrap("        " + e.name() + "(", callArgs, ");"));
        s.append("        c.fence();\n    }\n");
    }

    private static void renderNative(StringBuilder s, Entry e) {
        List<String> params = new ArrayList<>();
        params.add("long ctx");
        for (Param p : e.params().subList(1, e.params().size())) {
            params.add((p.isPointer() ? "long" : p.javaScalar()) + " " + p.name());
        }
        s.append(wrap("    private static native void " + e.name() + "(", params, ");"));
    }

    private static void fail(Entry e, Param p, String why) {
        throw new IllegalStateException("kiln.h: " + e.name() + ": pointer argument '" + p.name() + "' " + why);
    }

    /** kiln.h's text as a javadoc comment (made safe for one), in lines within 120 columns. */
    private static String javadoc(String entry, String doc) {
        String safe = "{@code " + entry + "}: " + doc.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("*/", "*&#47;").replace("@", "&#64;");
        StringBuilder out = new StringBuilder("    /**\n");
        StringBuilder line = new StringBuilder("     *");
        for (String word : safe.split(" ")) {
            if (line.length() + 1 + word.length() > 120) {
                out.append(line).append('\n');
                line = new StringBuilder("     *");
            }
            line.append(' ').append(word);
        }
        return out.append(line).append("\n     */\n").toString();
    }

    /** "head(a, b, c)tail", broken after commas to stay within 120 columns, continuation lines aligned. */
    private static String wrap(String head, List<String> items, String tail) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder(head);
        String indent = " ".repeat(head.length());
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i) + (i + 1 < items.size() ? "," : tail);
            if (line.length() + 1 + item.length() > 120 && line.length() > head.length()) {
                out.append(line.toString().stripTrailing()).append('\n');
                line = new StringBuilder(indent);
            } else if (i > 0) {
                line.append(' ');
            }
            line.append(item);
        }
        if (items.isEmpty()) line.append(tail);
        return out.append(line).append('\n').toString();
    }
}
