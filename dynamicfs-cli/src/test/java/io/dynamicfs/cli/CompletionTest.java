package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bash completion picocli generates really completes commands and options when bash runs it. */
class CompletionTest {
  @TempDir
  Path tmp;

  private String completions(Path script, String... words) throws Exception {
    String array = String.join(" ", java.util.Arrays.stream(words).map(w -> "'" + w + "'").toList());
    // compopt only works inside a real completion; a no-op stands in for it here.
    String bash = "source '" + script + "'\ncompopt() { :; }\nCOMP_WORDS=(" + array + ")\nCOMP_CWORD=" + (words.length - 1)
        + "\nCOMP_LINE=\"${COMP_WORDS[*]}\"\nCOMP_POINT=${#COMP_LINE}\n_complete_dynamicfs\n"
        + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    Process p = new ProcessBuilder("bash", "-c", bash).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @Test
  void generateCompletion_bashCompletesCommandsAndOptions() throws Exception {
    StringWriter out = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    assertEquals(0, cl.execute("generate-completion"));
    Path script = tmp.resolve("dynamicfs.bash");
    Files.writeString(script, out.toString());

    List<String> commands = completions(script, "dynamicfs", "").lines().toList();
    assertTrue(commands.containsAll(List.of("mount", "umount", "fsck", "bench")), commands.toString());
    assertEquals(List.of("bench"), completions(script, "dynamicfs", "be").lines().toList());
    assertEquals(List.of("--big-file-size"), completions(script, "dynamicfs", "bench", "--big").lines().toList());
    assertTrue(completions(script, "dynamicfs", "mount", "--").lines().toList()
        .containsAll(List.of("--cache-memory", "--compression", "--foreground")));
  }

  @Test
  void generateCompletion_isHiddenFromTheCommandList() {
    StringWriter out = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    assertEquals(0, cl.execute("--help"));
    assertTrue(out.toString().contains("bench") && !out.toString().contains("generate-completion"), out.toString());
  }
}
