package io.polycall.security;

import io.polycall.security.internal.AuditLine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks an audit log's hash chain and sequence numbers across its files (the current one and the
 * rotated ones, given in any order) and names the first bad record.
 *
 * <p>What it finds, for someone who edits the files without re-hashing everything after the edit:
 * an edited record (its bytes do not match its hash), a deleted one (a gap in the sequence), an
 * inserted one (a sequence number that repeats or goes back), a reordered pair (a number that comes
 * before a smaller one still to come), a file truncated in the middle of a record, and a rotated
 * file that is missing from the middle. Someone who rewrites the whole tail of the chain is caught
 * only by comparing {@link Result#head()} with a head published earlier (see {@link
 * AuditLog#head()}). Stateless and thread-safe; reads the files whole.
 */
public final class AuditVerifier {

  private AuditVerifier() {}

  /** What is wrong with a record. */
  public enum Kind {
    EDITED,
    DELETED,
    INSERTED,
    REORDERED,
    TRUNCATED,
    MALFORMED
  }

  /**
   * The first bad record.
   *
   * @param line 1-based line number within {@code file}
   * @param seq the record's sequence number, or -1 when the line has none
   */
  public record Problem(Path file, int line, long seq, Kind kind, String detail) {
    @Override
    public String toString() {
      return file
          + ":"
          + line
          + (seq >= 0 ? " (seq " + seq + ")" : "")
          + ": "
          + kind.name().toLowerCase(java.util.Locale.ROOT)
          + ": "
          + detail;
    }
  }

  /**
   * @param records the records checked before the first problem (all of them when intact)
   * @param firstSeq the first sequence number seen; 1 when the chain starts at genesis
   * @param head the hash of the last good record (compare with a published head)
   * @param problem the first bad record, or null when intact
   */
  public record Result(long records, long firstSeq, long lastSeq, String head, Problem problem) {
    public boolean intact() {
      return problem == null;
    }
  }

  private record Rec(
      Path file,
      int line,
      int fileIndex,
      boolean firstOfFile,
      AuditLine parsed,
      boolean unterminated) {}

  /**
   * Verifies the files as one chain.
   *
   * @throws IOException when a file cannot be read
   */
  public static Result verify(List<Path> files) throws IOException {
    List<List<Rec>> perFile = new ArrayList<>();
    for (int f = 0; f < files.size(); f++) {
      perFile.add(read(files.get(f), f));
    }
    // Rotated files are named newest-first (.1, .2, ...): order them by their first record instead,
    // so any order on the command line works.
    perFile.sort(Comparator.comparingLong(AuditVerifier::firstSeq));
    List<Rec> all = new ArrayList<>();
    for (List<Rec> recs : perFile) {
      all.addAll(recs);
    }
    Map<Long, Integer> seen = new HashMap<>();
    long expected = -1;
    String prev = null;
    long count = 0;
    long firstSeq = -1;
    for (int i = 0; i < all.size(); i++) {
      Rec r = all.get(i);
      AuditLine l = r.parsed();
      if (l == null) {
        if (r.unterminated()) {
          return fail(
              count,
              firstSeq,
              expected,
              prev,
              r,
              -1,
              Kind.TRUNCATED,
              "the file ends in the middle of a record: it was truncated (or the writer crashed"
                  + " and the log was not reopened)");
        }
        return fail(
            count,
            firstSeq,
            expected,
            prev,
            r,
            -1,
            Kind.MALFORMED,
            "the line is not an audit record (edited by hand, or not an audit log)");
      }
      long seq = l.seq();
      if (!l.intact()) {
        Kind k = expected >= 0 && seq < expected ? Kind.INSERTED : Kind.EDITED;
        return fail(
            count,
            firstSeq,
            expected,
            prev,
            r,
            seq,
            k,
            "its content does not match its hash ("
                + (k == Kind.INSERTED ? "a record inserted by hand" : "edited after it was written")
                + ")");
      }
      if (r.unterminated()) {
        return fail(
            count,
            firstSeq,
            expected,
            prev,
            r,
            seq,
            Kind.TRUNCATED,
            "the file's last record has no line end: the file was cut after it");
      }
      if (expected < 0) {
        if (seq == 1 && !l.prev().equals(AuditLine.GENESIS)) {
          return fail(
              count,
              firstSeq,
              expected,
              prev,
              r,
              seq,
              Kind.EDITED,
              "the first record does not chain to the genesis value");
        }
        firstSeq = seq;
      } else if (seq == expected) {
        if (!l.prev().equals(prev)) {
          Rec before = all.get(i - 1);
          return fail(
              count - 1,
              firstSeq,
              expected - 1,
              null,
              before,
              seq - 1,
              Kind.EDITED,
              "record seq "
                  + seq
                  + " ("
                  + where(r)
                  + ") chains to a different hash: this record"
                  + " was edited and re-hashed, or replaced");
        }
      } else if (seq > expected) {
        Integer later = null;
        for (int j = i + 1; j < all.size(); j++) {
          AuditLine o = all.get(j).parsed();
          if (o != null && o.seq() == expected) {
            later = j;
            break;
          }
        }
        if (later != null) {
          return fail(
              count,
              firstSeq,
              expected,
              prev,
              r,
              seq,
              Kind.REORDERED,
              "seq "
                  + seq
                  + " comes where seq "
                  + expected
                  + " belongs, which appears later at "
                  + where(all.get(later))
                  + ": records were reordered");
        }
        String range =
            expected == seq - 1 ? "seq " + expected : "seq " + expected + ".." + (seq - 1);
        return fail(
            count,
            firstSeq,
            expected,
            prev,
            r,
            seq,
            Kind.DELETED,
            r.firstOfFile() && i > 0
                ? range
                    + " missing between "
                    + all.get(i - 1).file()
                    + " and "
                    + r.file()
                    + ": a rotated file is missing or records were removed"
                : range + " missing before it: records were deleted");
      } else {
        Integer first = seen.get(seq);
        String detail =
            first == null
                ? "seq "
                    + seq
                    + " goes back (expected "
                    + expected
                    + "): a record was inserted or"
                    + " records were reordered"
                : "seq "
                    + seq
                    + " repeats (first at "
                    + where(all.get(first))
                    + "): "
                    + (all.get(first).parsed().hash().equals(l.hash())
                        ? "a copy of that record was inserted"
                        : "a record was inserted before this one");
        return fail(count, firstSeq, expected, prev, r, seq, Kind.INSERTED, detail);
      }
      seen.putIfAbsent(seq, i);
      prev = l.hash();
      expected = seq + 1;
      count++;
    }
    return new Result(count, firstSeq, expected - 1, prev, null);
  }

  private static Result fail(
      long count,
      long firstSeq,
      long expected,
      String head,
      Rec r,
      long seq,
      Kind kind,
      String detail) {
    return new Result(
        count, firstSeq, expected - 1, head, new Problem(r.file(), r.line(), seq, kind, detail));
  }

  private static String where(Rec r) {
    return r.file() + ":" + r.line();
  }

  private static long firstSeq(List<Rec> recs) {
    for (Rec r : recs) {
      if (r.parsed() != null) {
        return r.parsed().seq();
      }
    }
    return Long.MAX_VALUE;
  }

  private static List<Rec> read(Path file, int index) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    List<Rec> out = new ArrayList<>();
    int start = 0;
    int lineNo = 0;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      lineNo++;
      boolean unterminated = end == bytes.length;
      String text = new String(bytes, start, end - start, StandardCharsets.UTF_8);
      out.add(new Rec(file, lineNo, index, out.isEmpty(), AuditLine.parse(text), unterminated));
      start = end + 1;
    }
    return out;
  }
}
