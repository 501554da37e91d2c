package dev.kiln.cli;

import dev.kiln.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** metrics.json: a map of names to numbers, strings, lists and nested maps, written as indented JSON. */
final class Metrics {
    private Metrics() {
    }

    static void write(Path file, Map<String, ?> values) throws IOException {
        AtomicFiles.writeString(file, toJson(values) + "\n");
    }

    /** The same JSON as a string (kiln info --json prints it). */
    static String toJson(Map<String, ?> values) {
        StringBuilder b = new StringBuilder();
        value(b, values, "");
        return b.toString();
    }

    private static void value(StringBuilder b, Object v, String indent) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof Map<?, ?> m) {
            b.append("{");
            String inner = indent + "  ";
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(i++ == 0 ? "\n" : ",\n").append(inner);
                string(b, String.valueOf(e.getKey()));
                b.append(": ");
                value(b, e.getValue(), inner);
            }
            b.append(m.isEmpty() ? "}" : "\n" + indent + "}");
        } else if (v instanceof List<?> l) {
            b.append("[");
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) b.append(", ");
                value(b, l.get(i), indent);
            }
            b.append("]");
        } else if (v instanceof long[] a) {
            b.append("[");
            for (int i = 0; i < a.length; i++) b.append(i == 0 ? "" : ", ").append(a[i]);
            b.append("]");
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            b.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d) : "null");  // JSON has no NaN
        } else if (v instanceof Number || v instanceof Boolean) {
            b.append(v);
        } else {
            string(b, v.toString());
        }
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
