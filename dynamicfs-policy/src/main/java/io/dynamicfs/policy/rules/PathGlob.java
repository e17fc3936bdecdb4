package io.dynamicfs.policy.rules;

import java.util.regex.Pattern;

/**
 * A path pattern of a rules file, matched against a path from the filesystem's root ({@code db/a.sqlite};
 * a leading {@code /} is ignored on both sides). Anchored at the root, segment by segment:
 *
 * <ul>
 *   <li>{@code *} any characters within one segment (not {@code /}); {@code ?} one such character;
 *   <li>{@code **} as a whole segment: any number of segments, none included ({@code **}{@code /*.log} is every
 *       {@code .log} file, {@code db/**} is {@code db} and everything under it);
 *   <li>{@code [abc]}, {@code [a-z]}, {@code [!a]} one character of (or not of) a class;
 *   <li>{@code {a,b}} one of the alternatives (not nested);
 *   <li>{@code \} takes the next character literally.
 * </ul>
 *
 * Unlike a .gitignore, a pattern without {@code /} is not matched at every depth: {@code *.log} is the
 * root's {@code .log} files only.
 */
public final class PathGlob {
  private final String glob;
  private final Pattern regex;

  private PathGlob(String glob, Pattern regex) {
    this.glob = glob;
    this.regex = regex;
  }

  /** Compiles {@code glob}; IllegalArgumentException naming what is wrong with it. */
  public static PathGlob compile(String glob) {
    String g = strip(glob);
    if (g.isEmpty()) {
      throw new IllegalArgumentException("empty pattern (use \"**\" for every file)");
    }
    for (String seg : g.split("/", -1)) {
      if (seg.isEmpty()) {
        throw new IllegalArgumentException("empty path segment (\"//\" or a trailing \"/\")");
      }
      if (seg.equals(".") || seg.equals("..")) {
        throw new IllegalArgumentException("'" + seg + "' segments are not allowed");
      }
      if (seg.contains("**") && !seg.equals("**")) {
        throw new IllegalArgumentException("'**' must be a whole path segment, not part of '" + seg + "'");
      }
    }
    StringBuilder re = new StringBuilder();
    String[] segs = g.replaceAll("(^|/)\\*\\*(/\\*\\*)+(?=/|$)", "$1**").split("/"); // "**/**" is "**"
    for (int s = 0; s < segs.length; s++) {
      String seg = segs[s];
      boolean last = s == segs.length - 1;
      if (seg.equals("**")) {
        if (segs.length == 1) {
          re.append(".*");
        } else if (last) {
          re.append("(/.*)?"); // "db/**": db itself and everything below
        } else if (s == 0) {
          re.append("(.*/)?");
        } else {
          re.append("/(.*/)?");
        }
        continue;
      }
      if (s > 0 && !segs[s - 1].equals("**")) {
        re.append('/'); // after a "**" segment, its own pattern ends with the '/'
      }
      segment(seg, re);
    }
    return new PathGlob(glob, Pattern.compile(re.toString()));
  }

  private static void segment(String seg, StringBuilder re) {
    boolean inAlt = false;
    for (int i = 0; i < seg.length(); i++) {
      char c = seg.charAt(i);
      switch (c) {
        case '*' -> re.append("[^/]*");
        case '?' -> re.append("[^/]");
        case '\\' -> {
          if (i + 1 >= seg.length()) {
            throw new IllegalArgumentException("'\\' at the end of the pattern escapes nothing");
          }
          re.append(Pattern.quote(String.valueOf(seg.charAt(++i))));
        }
        case '[' -> {
          int end = seg.indexOf(']', i + 2);
          if (end < 0) {
            throw new IllegalArgumentException("'[' at position " + (i + 1) + " is not closed by ']'");
          }
          String cls = seg.substring(i + 1, end);
          boolean negate = cls.startsWith("!") || cls.startsWith("^");
          if (negate) {
            cls = cls.substring(1);
          }
          if (cls.isEmpty()) {
            throw new IllegalArgumentException("empty character class at position " + (i + 1));
          }
          re.append('[').append(negate ? "^/" : "");
          for (char k : cls.toCharArray()) {
            re.append(k == '-' ? "-" : k == '\\' || k == '[' || k == ']' || k == '^' || k == '&' ? "\\" + k : k);
          }
          re.append(']');
          i = end;
        }
        case '{' -> {
          if (inAlt) {
            throw new IllegalArgumentException("'{' alternatives cannot be nested");
          }
          inAlt = true;
          re.append("(?:");
        }
        case ',' -> re.append(inAlt ? "|" : ",");
        case '}' -> {
          if (!inAlt) {
            throw new IllegalArgumentException("'}' at position " + (i + 1) + " closes no '{'");
          }
          inAlt = false;
          re.append(')');
        }
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    if (inAlt) {
      throw new IllegalArgumentException("'{' is not closed by '}'");
    }
  }

  private static String strip(String p) {
    String s = p.trim();
    while (s.startsWith("/")) {
      s = s.substring(1);
    }
    return s;
  }

  /** Whether {@code path} (from the filesystem's root) matches. */
  public boolean matches(String path) {
    return regex.matcher(strip(path)).matches();
  }

  @Override
  public String toString() {
    return glob;
  }
}
