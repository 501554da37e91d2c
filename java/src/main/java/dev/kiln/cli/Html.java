package dev.kiln.cli;

/**
 * Text made safe for HTML, in element content and in quoted attribute values alike. Control characters, which HTML
 * forbids and the fortunes hold (backspaces for overstrike, stray C1 codes), become visible: the C0 ones their Unicode
 * pictures, the C1 ones the replacement character.
 */
final class Html {
    private Html() {
    }

    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                case '\n', '\r', '\t' -> b.append(c);
                default -> b.append(c < 0x20 ? (char) (0x2400 + c) : c == 0x7f ? '\u2421'
                        : c >= 0x80 && c < 0xa0 ? '\ufffd' : c);
            }
        }
        return b.toString();
    }
}
