package io.dynamicfs.policy.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathGlobTest {
  @ParameterizedTest(name = "{0} ~ {1}: {2}")
  @CsvSource({
      "**,            a/b/c.txt,        true",
      "**,            x,                true",
      "*.log,         a.log,            true",
      "*.log,         d/a.log,          false",
      "**/*.log,      a.log,            true",
      "**/*.log,      d/e/a.log,        true",
      "**/*.log,      d/e/a.logx,       false",
      "db/**,         db,               true",
      "db/**,         db/x/y,           true",
      "db/**,         dbx/y,            false",
      "/db/*,         /db/a,            true",
      "db/*,          db/a/b,           false",
      "a/**/b,        a/b,              true",
      "a/**/b,        a/x/y/b,          true",
      "a/**/b,        a/x/yb,           false",
      "**/**/c,       a/c,              true",
      "file?.txt,     file1.txt,        true",
      "file?.txt,     file10.txt,       false",
      "[ab]*,         b1,               true",
      "[!ab]*,        b1,               false",
      "[a-c]x,        cx,               true",
      "'{logs,tmp}/**', tmp/a,          true",
      "'{logs,tmp}/**', var/a,          false",
      "a.b,           axb,              false",
      "\\*,           *,                true",
      "\\*,           x,                false",
      "a+(b),         a+(b),            true",
  })
  void matches(String glob, String path, boolean expected) {
    assertEquals(expected, PathGlob.compile(glob).matches(path));
  }
}
