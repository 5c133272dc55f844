import Glibc
import LinuxSystem
import PvDCore
import Testing

@testable import HostNet

/// Rollback, and the files HostNet writes for a domain, without root.
struct TransactionTests {
    final class Log { var lines: [String] = [] }

    func run(_ transaction: Transaction, _ log: Log, steps: Int, failing: Int? = nil) throws(SystemError) {
        for number in 1...steps {
            try transaction.step(
                "step", "\(number)",
                { () throws(SystemError) in
                    if number == failing { throw SystemError(step: "step", object: "\(number)", reason: "refused") }
                    log.lines.append("do \(number)")
                }, undo: { () throws(SystemError) in log.lines.append("undo \(number)") })
        }
    }

    @Test func aFailedStepUndoesTheStepsBeforeItNewestFirst() {
        let log = Log()
        let transaction = Transaction()
        #expect(throws: SystemError.self) { try run(transaction, log, steps: 4, failing: 3) }
        #expect(transaction.rollback().isEmpty)
        #expect(log.lines == ["do 1", "do 2", "undo 2", "undo 1"], "the failed step did nothing and has nothing to undo")
    }

    @Test func theInjectedFailureStopsBeforeItsStep() {
        let log = Log()
        let transaction = Transaction(failAtStep: 2)
        do {
            try run(transaction, log, steps: 3)
            Issue.record("no injected failure")
        } catch {
            #expect(error.reason == "injected failure at step 2")
        }
        _ = transaction.rollback()
        #expect(log.lines == ["do 1", "undo 1"])
    }

    @Test func undoFailuresAreReportedAndTheRestStillUndone() throws {
        let log = Log()
        let transaction = Transaction()
        try transaction.step(
            "first", "a", { () throws(SystemError) in log.lines.append("do a") },
            undo: { () throws(SystemError) in log.lines.append("undo a") })
        try transaction.step(
            "second", "b", { () throws(SystemError) in log.lines.append("do b") },
            undo: { () throws(SystemError) in throw SystemError(step: "undo", object: "b", reason: "gone") })
        let failures = transaction.rollback()
        #expect(failures.map(\.description) == ["undo b: gone"])
        #expect(log.lines == ["do a", "do b", "undo a"])
        #expect(transaction.rollback().isEmpty, "a rollback happens once")
    }
}

struct DomainFilesTests {
    @Test func nsswitchKeepsTheHostsSourcesButHostsResolvesThroughTheDomainsDNS() {
        let host = "passwd: files systemd\n  hosts:   files mdns4_minimal [NOTFOUND=return] resolve dns myhostname\nnetworks: files\n"
        let text = KernelHostNet.domainNsswitch(from: host)
        #expect(text.hasPrefix("# Written by pvdd"))
        #expect(text.contains("passwd: files systemd\n") && text.contains("networks: files\n"))
        #expect(!text.contains("mdns") && !text.contains("resolve"), "no other source answers for host names")
        #expect(text.hasSuffix("hosts: files dns\n"))
    }

    @Test func aHostWithoutNsswitchStillGetsFilesThenDNS() {
        #expect(KernelHostNet.domainNsswitch(from: "").hasSuffix("\nhosts: files dns\n"))
    }
}

struct LogRotationTests {
    @Test func aLogPastItsLimitMovesAsideAndNothingElseDoes() throws {
        var template = Array("/tmp/pvd-rotate-XXXXXX".utf8CString)
        let directory = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer {
            for name in ["big.log", "big.log.1", "small.log", "link.log"] { unlink("\(directory)/\(name)") }
            rmdir(directory)
        }
        try HostFiles.writeAtomically(directory: directory, name: "big.log", contents: String(repeating: "x", count: 100))
        try HostFiles.writeAtomically(directory: directory, name: "small.log", contents: "x")
        symlink("\(directory)/big.log", "\(directory)/link.log")

        #expect(!HostFiles.rotate("\(directory)/small.log", above: 10))
        #expect(!HostFiles.rotate("\(directory)/link.log", above: 10), "a symlink is not followed")
        #expect(!HostFiles.rotate("\(directory)/absent.log", above: 10))
        #expect(HostFiles.rotate("\(directory)/big.log", above: 10))
        #expect(HostFiles.read("\(directory)/big.log.1")?.count == 100)
        #expect(access("\(directory)/big.log", F_OK) != 0)
    }
}
