package io.dynamicfs.policy.rules;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML document as a tree whose every node knows its line, so a rules file's errors can name it (Jackson's
 * own tree forgets where things were). Built from Jackson's streaming YAML parser; a key given twice in one
 * mapping is an error, as is anything after the first document.
 */
final class YamlTree {
  /** A node: a mapping, a list or a scalar (text, number, boolean or null), at {@code line}. */
  sealed interface Node permits MapNode, ListNode, Scalar {
    int line();
  }

  /** Keys in file order; {@code keyLines} says where each key is. */
  record MapNode(int line, Map<String, Node> entries, Map<String, Integer> keyLines) implements Node {}

  record ListNode(int line, List<Node> items) implements Node {}

  /** {@code value} is a String, a Number, a Boolean or null; {@code text} is how it was written. */
  record Scalar(int line, Object value, String text) implements Node {}

  private YamlTree() {}

  /** Parses {@code text}; null for an empty document. */
  static Node parse(String text) throws RulesException {
    try (JsonParser p = new YAMLFactory().createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return null;
      }
      Node root = read(p, t);
      JsonToken after = p.nextToken();
      if (after != null) {
        throw new RulesException(line(p), "more than one YAML document (only one is read)");
      }
      return root;
    } catch (JacksonException e) {
      throw syntaxError(e);
    } catch (IOException e) {
      throw new RulesException(0, "cannot read: " + e.getMessage());
    }
  }

  private static final java.util.regex.Pattern MARK =
      java.util.regex.Pattern.compile("^\\s*in '[^']*', line (\\d+), column \\d+:?$");

  /**
   * The YAML parser's message in one line, at the line of the problem: the parser's text carries marks
   * ({@code in 'reader', line N, column M:}, a copy of the line, a caret) after each part; the last mark is
   * the problem's (Jackson's own location is where the last good token was).
   */
  private static RulesException syntaxError(JacksonException e) {
    int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
    List<String> parts = new ArrayList<>();
    boolean afterMark = false;
    for (String l : String.valueOf(e.getOriginalMessage()).split("\n")) {
      java.util.regex.Matcher m = MARK.matcher(l);
      if (m.matches()) {
        line = Integer.parseInt(m.group(1));
        afterMark = true;
      } else if (afterMark && (l.startsWith("    ") || l.isBlank() || l.trim().equals("^"))) {
        continue; // the quoted line and the caret under it
      } else if (!l.isBlank()) {
        afterMark = false;
        parts.add(l.trim());
      }
    }
    return new RulesException(line, "not valid YAML: " + String.join(": ", parts));
  }

  private static int line(JsonParser p) {
    return p.currentTokenLocation().getLineNr();
  }

  private static Node read(JsonParser p, JsonToken t) throws IOException, RulesException {
    int line = line(p);
    switch (t) {
      case START_OBJECT: {
        Map<String, Node> entries = new LinkedHashMap<>();
        Map<String, Integer> keyLines = new LinkedHashMap<>();
        for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
          String key = p.currentName();
          int keyLine = line(p);
          if (entries.containsKey(key)) {
            throw new RulesException(keyLine, "'" + key + "' is given twice (first on line " + keyLines.get(key) + ")");
          }
          Node v = read(p, p.nextToken());
          entries.put(key, v);
          keyLines.put(key, keyLine);
        }
        return new MapNode(line, entries, keyLines);
      }
      case START_ARRAY: {
        List<Node> items = new ArrayList<>();
        for (JsonToken i = p.nextToken(); i != JsonToken.END_ARRAY; i = p.nextToken()) {
          items.add(read(p, i));
        }
        return new ListNode(line, items);
      }
      case VALUE_STRING:
        return new Scalar(line, p.getText(), p.getText());
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return new Scalar(line, p.getNumberValue(), p.getText());
      case VALUE_TRUE:
      case VALUE_FALSE:
        return new Scalar(line, t == JsonToken.VALUE_TRUE, p.getText());
      case VALUE_NULL:
        return new Scalar(line, null, "");
      default:
        throw new RulesException(line, "unexpected YAML content (" + t + ")");
    }
  }
}
