package io.dynamicfs.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the dynamicfs command in this JVM, capturing what it prints. */
final class CliRun {
  record Result(int code, String out, String err) {}

  private CliRun() {}

  static synchronized Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    PrintStream oldErr = System.err;
    PrintStream oldOut = System.out;
    ByteArrayOutputStream rawErr = new ByteArrayOutputStream();
    ByteArrayOutputStream rawOut = new ByteArrayOutputStream();
    System.setErr(new PrintStream(rawErr, true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(rawOut, true, StandardCharsets.UTF_8));
    try {
      var cl = Main.commandLine();
      cl.setOut(new PrintWriter(out, true));
      cl.setErr(new PrintWriter(err, true));
      int code = cl.execute(args);
      return new Result(code, out + rawOut.toString(StandardCharsets.UTF_8),
          err + rawErr.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(oldErr);
      System.setOut(oldOut);
    }
  }
}
