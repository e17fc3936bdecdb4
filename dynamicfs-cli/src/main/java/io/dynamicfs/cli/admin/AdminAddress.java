package io.dynamicfs.cli.admin;

/** Where the admin server listens: a host (name or IP literal, IPv6 in brackets) and a port (0: any free). */
public record AdminAddress(String host, int port) {
  public AdminAddress {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("admin port must be 0-65535, got " + port);
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("admin address needs a host, e.g. 127.0.0.1:9567");
    }
  }

  /** Parses "HOST:PORT", "[V6]:PORT" or a bare "PORT" (loopback). */
  public static AdminAddress parse(String s) {
    String v = s.trim();
    int colon = v.lastIndexOf(':');
    String host = colon < 0 ? "127.0.0.1" : v.substring(0, colon);
    String port = colon < 0 ? v : v.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException("'" + s + "' is not HOST:PORT (write an IPv6 host in brackets)");
    }
    try {
      return new AdminAddress(host, Integer.parseInt(port));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + s + "' is not HOST:PORT (e.g. 127.0.0.1:9567)");
    }
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
