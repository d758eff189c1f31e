package io.polycall.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.security.AuditVerifier.Kind;
import io.polycall.security.AuditVerifier.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each way of tampering with a log named in issue 5, and the record verify names for it. */
class AuditVerifierTest {
  @TempDir Path dir;
  Path file;

  @BeforeEach
  void writeLog() throws Exception {
    file = dir.resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(file));
        PolyCall pc = AuditLogTest.node(audit.interceptor())) {
      for (int i = 0; i < 9; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(1));
      }
    }
    assertThat(lines()).hasSize(10);
  }

  List<String> lines() throws Exception {
    return new ArrayList<>(Files.readAllLines(file));
  }

  void write(List<String> lines) throws Exception {
    Files.writeString(file, String.join("\n", lines) + "\n");
  }

  Result verify() throws Exception {
    return AuditVerifier.verify(List.of(file));
  }

  @Test
  void anUntouchedLogIsIntactAndReportsItsHead() throws Exception {
    Result r = verify();
    assertThat(r.intact()).isTrue();
    assertThat(r.records()).isEqualTo(10);
    assertThat(r.firstSeq()).isEqualTo(1);
    assertThat(r.lastSeq()).isEqualTo(10);
    String last = lines().get(9);
    assertThat(last).endsWith("\"hash\":\"" + r.head() + "\"}");
  }

  @Test
  void aRecordEditedByHandIsNamed() throws Exception {
    List<String> l = lines();
    l.set(4, l.get(4).replace("\"code\":0", "\"code\":7"));
    write(l);
    Result r = verify();
    assertThat(r.intact()).isFalse();
    assertThat(r.problem().kind()).isEqualTo(Kind.EDITED);
    assertThat(r.problem().line()).isEqualTo(5);
    assertThat(r.problem().seq()).isEqualTo(5);
    assertThat(r.problem().toString()).contains("audit.jsonl:5 (seq 5): edited");
  }

  @Test
  void aRecordEditedAndReHashedIsCaughtByTheNextOne() throws Exception {
    List<String> l = lines();
    String edited = l.get(4).replace("\"code\":0", "\"code\":7");
    // Re-hash the edited record as the writer would: its own hash is right again.
    int p = edited.lastIndexOf(",\"prev\":\"");
    int h = edited.lastIndexOf(",\"hash\":\"");
    int comma = edited.indexOf(',');
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    byte[] bodySha = sha.digest(edited.substring(comma + 1, p).getBytes(StandardCharsets.UTF_8));
    String prev = edited.substring(p + 9, p + 9 + 64);
    String hash =
        io.polycall.security.internal.Json.hex(
            io.polycall.security.internal.AuditLine.link(
                sha, 5, java.util.HexFormat.of().parseHex(prev), bodySha));
    l.set(4, edited.substring(0, h) + ",\"hash\":\"" + hash + "\"}");
    assertThat(io.polycall.security.internal.AuditLine.parse(l.get(4)).intact()).isTrue();
    write(l);
    Result r = verify();
    assertThat(r.problem().kind()).isEqualTo(Kind.EDITED);
    assertThat(r.problem().line()).isEqualTo(5);
  }

  @Test
  void aRemovedLineIsNamedAsDeleted() throws Exception {
    List<String> l = lines();
    l.remove(3);
    write(l);
    Result r = verify();
    assertThat(r.problem().kind()).isEqualTo(Kind.DELETED);
    assertThat(r.problem().line()).isEqualTo(4);
    assertThat(r.problem().seq()).isEqualTo(5);
    assertThat(r.problem().detail()).contains("seq 4 missing");
  }

  @Test
  void anInsertedCopyOfARecordIsNamed() throws Exception {
    List<String> l = lines();
    l.add(6, l.get(2));
    write(l);
    Result r = verify();
    assertThat(r.problem().kind()).isEqualTo(Kind.INSERTED);
    assertThat(r.problem().line()).isEqualTo(7);
    assertThat(r.problem().detail()).contains("a copy of that record was inserted");
  }

  @Test
  void anInsertedHandMadeRecordIsNamed() throws Exception {
    List<String> l = lines();
    String forged = l.get(5).replace("\"seq\":6,", "\"seq\":7,");
    l.add(6, forged);
    write(l);
    Result r = verify();
    assertThat(r.intact()).isFalse();
    assertThat(r.problem().line()).isEqualTo(7);
  }

  @Test
  void twoSwappedLinesAreNamedAsReordered() throws Exception {
    List<String> l = lines();
    Collections.swap(l, 4, 5);
    write(l);
    Result r = verify();
    assertThat(r.problem().kind()).isEqualTo(Kind.REORDERED);
    assertThat(r.problem().line()).isEqualTo(5);
    assertThat(r.problem().seq()).isEqualTo(6);
  }

  @Test
  void aFileTruncatedMidLineIsNamed() throws Exception {
    byte[] all = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(all, all.length - 40));
    Result r = verify();
    assertThat(r.problem().kind()).isEqualTo(Kind.TRUNCATED);
    assertThat(r.problem().line()).isEqualTo(10);
  }

  @Test
  void aLineOfGarbageIsNamedAsMalformed() throws Exception {
    List<String> l = lines();
    l.set(2, "hello");
    write(l);
    Result r = verify();
    assertThat(r.problem().kind()).isEqualTo(Kind.MALFORMED);
    assertThat(r.problem().line()).isEqualTo(3);
  }

  @Test
  void aRotatedFileMissingFromTheMiddleIsNamed() throws Exception {
    Path rot = dir.resolve("r").resolve("audit.jsonl");
    try (AuditLog audit = AuditLog.open(AuditConfig.of(rot).withRotation(1_500, 20));
        PolyCall pc = AuditLogTest.node(audit.interceptor())) {
      for (int i = 0; i < 20; i++) {
        pc.call("math.add", Value.i64(i), Value.i64(1));
      }
    }
    List<Path> files = new ArrayList<>();
    for (int i = 1; Files.exists(rot.resolveSibling("audit.jsonl." + i)); i++) {
      files.add(rot.resolveSibling("audit.jsonl." + i));
    }
    files.add(rot);
    assertThat(files.size()).isGreaterThanOrEqualTo(4);
    assertThat(AuditVerifier.verify(files).intact()).isTrue();
    Path missing = files.remove(1);
    Result r = AuditVerifier.verify(files);
    assertThat(r.problem().kind()).isEqualTo(Kind.DELETED);
    assertThat(r.problem().detail()).contains("a rotated file is missing");
    assertThat(r.problem().line()).isEqualTo(1);
    assertThat(missing).exists();
  }
}
