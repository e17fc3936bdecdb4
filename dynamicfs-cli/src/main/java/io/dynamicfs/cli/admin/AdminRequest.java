package io.dynamicfs.cli.admin;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** What a route handler gets: the query parameters and the JSON body (an empty object when none). */
public record AdminRequest(String method, String path, Map<String, String> query, JsonNode body) {
  /** A boolean from the body or the query, or {@code dflt}. */
  public boolean bool(String name, boolean dflt) {
    if (body.has(name)) {
      return body.get(name).asBoolean(dflt);
    }
    String q = query.get(name);
    return q == null ? dflt : Boolean.parseBoolean(q);
  }

  /** A number from the body or the query, or {@code dflt}; a value that is not a number is a 400. */
  public double number(String name, double dflt) throws AdminException {
    JsonNode n = body.get(name);
    if (n != null && !n.isNull()) {
      if (!n.isNumber()) {
        throw new AdminException(400, name + " must be a number");
      }
      return n.asDouble();
    }
    String q = query.get(name);
    try {
      return q == null ? dflt : Double.parseDouble(q);
    } catch (NumberFormatException e) {
      throw new AdminException(400, name + " must be a number, got '" + q + "'");
    }
  }
}
