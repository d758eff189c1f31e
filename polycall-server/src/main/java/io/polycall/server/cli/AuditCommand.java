package io.polycall.server.cli;

import io.polycall.security.AuditVerifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code polycall audit verify FILE...}: checks the audit log's hash chain. */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "Works with the audit log (security.audit in the config; see docs/audit.md).",
    subcommands = {AuditCommand.Verify.class})
final class AuditCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "name a subcommand: polycall audit verify FILE...");
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Checks the hash chain and the sequence numbers of an audit log across its files and names"
            + " the first bad record: edited, deleted, inserted, reordered, truncated, or a rotated"
            + " file missing from the middle.",
        "Give the current file and the rotated ones (audit.jsonl.1, .2, ...) in any order: they are"
            + " put in order by their first record. A log whose oldest files were rotated away"
            + " verifies from its first remaining record.",
        "Someone who can rewrite the files could rewrite the whole chain after an edit: compare the"
            + " head printed here with one kept elsewhere to rule that out."
      },
      footer = {
        "",
        "Exit codes: 0 intact, 1 tampered (the first bad record is printed), 2 a file cannot be"
            + " read.",
        "",
        "Examples:",
        "  polycall audit verify /var/log/polycall/audit.jsonl",
        "  polycall audit verify /var/log/polycall/audit.jsonl*",
        "  polycall audit verify --expect-head 3f9a...c2 audit.jsonl audit.jsonl.1"
      })
  static final class Verify implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "The log's files.")
    List<Path> files;

    @CommandLine.Option(
        names = "--expect-head",
        paramLabel = "HASH",
        description =
            "A head hash published earlier: the chain must still contain a record with it"
                + " as its hash (at the end, or earlier when records were added since).")
    String expectHead;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      for (Path f : files) {
        if (!Files.isRegularFile(f)) {
          err.println("polycall audit verify: " + f + " is not a readable file");
          return ExitCodes.USAGE;
        }
      }
      AuditVerifier.Result r;
      try {
        r = AuditVerifier.verify(files);
      } catch (IOException e) {
        err.println("polycall audit verify: cannot read the log: " + e);
        return ExitCodes.USAGE;
      }
      if (!r.intact()) {
        err.println("TAMPERED: " + r.problem());
        err.println(
            "checked "
                + r.records()
                + " records before it"
                + (r.records() > 0 ? " (seq " + r.firstSeq() + ".." + r.lastSeq() + ")" : ""));
        return ExitCodes.CALL_FAILED;
      }
      if (expectHead != null && !containsHash(files, expectHead)) {
        err.println(
            "TAMPERED: no record has the expected head hash "
                + expectHead
                + ": the chain was rewritten after it was published");
        return ExitCodes.CALL_FAILED;
      }
      out.println(
          "intact: "
              + r.records()
              + " records, seq "
              + r.firstSeq()
              + ".."
              + r.lastSeq()
              + " in "
              + files.size()
              + (files.size() == 1 ? " file" : " files")
              + (r.firstSeq() > 1 ? " (starts after rotated-out files, not checked)" : ""));
      out.println("head: " + r.head());
      return ExitCodes.OK;
    }

    private static boolean containsHash(List<Path> files, String hash) {
      String needle = ",\"hash\":\"" + hash.trim() + "\"}";
      for (Path f : files) {
        try {
          if (Files.readString(f).contains(needle)) {
            return true;
          }
        } catch (IOException e) {
          return false;
        }
      }
      return false;
    }
  }
}
