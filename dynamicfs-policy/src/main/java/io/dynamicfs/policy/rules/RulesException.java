package io.dynamicfs.policy.rules;

/**
 * A rules file that cannot be used: the line it is about (0 when none applies) and why. {@link #getMessage}
 * is the one line an operator sees: {@code line N: reason}; {@link #in} adds the file's name.
 */
public final class RulesException extends Exception {
  private final int line;
  private final String reason;

  public RulesException(int line, String reason) {
    super(line > 0 ? "line " + line + ": " + reason : reason);
    this.line = line;
    this.reason = reason;
  }

  public int line() {
    return line;
  }

  public String reason() {
    return reason;
  }

  /** The message with the file named: {@code FILE, line N: reason}. */
  public String in(String file) {
    return file + (line > 0 ? ", line " + line : "") + ": " + reason;
  }
}
