package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Real programs that lean on POSIX semantics (git, tar, cp -a, sqlite3, Maven) inside a mount. */
class RealProgramsTest extends MountedTestBase {

  private static String sh(Path dir, String script) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash", "-euo", "pipefail", "-c", script));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out: " + script);
    assertEquals(0, p.exitValue(), () -> "failed: " + script + "\n" + out);
    return out.trim();
  }

  /** A small source tree outside the mount to feed the programs. */
  private Path sampleTree() throws IOException, InterruptedException {
    Path src = Files.createDirectories(base.resolve("src"));
    sh(src, "mkdir -p a/b/c e && for i in $(seq 200); do printf 'line %s\\n' $(seq $i) > a/f$i.txt; done"
        + " && head -c 3000000 /dev/urandom > a/b/c/blob && ln -s ../a/f1.txt e/link && ln a/f2.txt e/hard"
        + " && chmod 750 a/b && touch -d '2001-01-01 00:00:00' a/f3.txt && mkfifo e/fifo");
    return src;
  }

  @Test
  void git_initCommitCloneFsck() throws Exception {
    String out = sh(fs.mnt, "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t;"
        + " git init -q repo && cd repo && for i in $(seq 50); do echo $i > f$i; done && git add . &&"
        + " git commit -qm one && echo more >> f1 && git mv f2 g2 && git commit -qam two &&"
        + " git gc -q && git fsck --strict 2>&1 && cd .. && git clone -q repo clone && cd clone &&"
        + " git log --oneline | wc -l && cat f1");
    assertTrue(out.endsWith("2\n1\nmore"), out);
  }

  @Test
  void tar_extractAndCreate_roundTripsTree() throws Exception {
    Path src = sampleTree();
    sh(base, "tar -C src -cf tree.tar . && mkdir -p mnt/x && tar -C mnt/x -xpf tree.tar"
        + " && diff -r --no-dereference -x fifo src mnt/x && test -p mnt/x/e/fifo && tar -C mnt/x -cf mnt/again.tar . "
        + " && mkdir back && tar -C back -xpf mnt/again.tar && diff -r --no-dereference -x fifo src back");
    assertEquals(sh(base, "stat -c '%a %Y' src/a/b src/a/f3.txt"), sh(base, "stat -c '%a %Y' mnt/x/a/b mnt/x/a/f3.txt"));
    assertEquals("2", sh(base, "stat -c %h mnt/x/e/hard"));
    assertTrue(src.toFile().exists());
  }

  @Test
  void cpArchive_preservesModesTimesLinksAndXattrs() throws Exception {
    Path src = sampleTree();
    sh(base, "setfattr -n user.tag -v hello src/a/f1.txt && cp -a src mnt/copy && diff -r --no-dereference -x fifo src mnt/copy && test -p mnt/copy/e/fifo");
    assertEquals("hello", sh(base, "getfattr --only-values -n user.tag mnt/copy/a/f1.txt"));
    assertEquals(sh(base, "stat -c '%a %Y %h' src/a/f3.txt src/e/hard"),
        sh(base, "stat -c '%a %Y %h' mnt/copy/a/f3.txt mnt/copy/e/hard"));
    assertTrue(src.toFile().exists());
  }

  @Test
  void sqlite_transactionsAndIntegrityCheck() throws Exception {
    String out = sh(fs.mnt, "sqlite3 t.db 'pragma journal_mode=wal; create table t(a integer primary key, b text);"
        + " with recursive c(x) as (select 1 union all select x+1 from c where x<20000)"
        + " insert into t select x, hex(randomblob(50)) from c; delete from t where a % 3 = 0;"
        + " vacuum; select count(*) from t; pragma integrity_check;'"
        + " && sqlite3 t2.db 'pragma journal_mode=delete; create table u(x); begin; insert into u values(1);"
        + " commit; select * from u;'");
    assertTrue(out.contains("13334") && out.contains("ok") && out.endsWith("1"), out);
  }

  @Test
  void maven_buildsAndTestsAProject() throws Exception {
    Path proj = Files.createDirectories(fs.path("proj", "src", "main", "java", "p"));
    Files.createDirectories(fs.path("proj", "src", "test", "java", "p"));
    Files.writeString(proj.resolve("Hello.java"), "package p; public class Hello { public static int two() { return 2; } }");
    Files.writeString(fs.path("proj", "src", "test", "java", "p", "HelloTest.java"),
        "package p; import org.junit.jupiter.api.Test; import static org.junit.jupiter.api.Assertions.*;"
            + " class HelloTest { @Test void two() { assertEquals(2, Hello.two()); } }");
    Files.writeString(fs.path("proj", "pom.xml"), """
        <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
        <groupId>t</groupId><artifactId>t</artifactId><version>1</version>
        <properties><maven.compiler.release>17</maven.compiler.release>
        <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
        <dependencies><dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId>
        <version>5.14.1</version><scope>test</scope></dependency></dependencies>
        <build><plugins>
        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.5.2</version></plugin>
        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-jar-plugin</artifactId><version>3.4.2</version></plugin>
        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
        </plugins></build></project>
        """);
    String out = sh(fs.path("proj"), "mvn -B -q -o package 2>&1; ls target/t-1.jar && cat target/surefire-reports/*.txt");
    assertTrue(out.contains("Tests run: 1, Failures: 0, Errors: 0"), out);
  }
}
