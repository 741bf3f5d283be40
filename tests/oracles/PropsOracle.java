// Test oracle: prints java.util.Properties.load(InputStream) results for each file (after
// a "== FILE" line), one
// line per key, sorted, as "<hex(key-utf8)> <hex(value-utf8)>" so any byte compares exactly.
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.TreeSet;

public class PropsOracle {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
        return b.length() == 0 ? "-" : b.toString();
    }
    public static void main(String[] a) throws Exception {
        for (String file : a) {
            Properties p = new Properties();
            try (FileInputStream in = new FileInputStream(file)) { p.load(in); }
            System.out.println("== " + file);
            for (String k : new TreeSet<>(p.stringPropertyNames())) {
                System.out.println(hex(k) + " " + hex(p.getProperty(k)));
            }
        }
    }
}
