import BusWire
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import PvDWire
import Testing

@testable import pvdd

/// Checkpoints, staged candidates and verifications as pvdd decides them,
/// against the fakes and the fake clock.
struct CheckpointRunnerTests {
    let lab = "domains:\n  - {name: lab, uplink: eth0, addresses: [\"2001:db8:9::5\"]}\n"
    let other = "domains:\n  - {name: other, uplink: eth0, addresses: [\"2001:db8:9::6\"]}\n"

    @Test func aCheckpointNotConfirmedRollsBackWhenItsTimeRunsOut() throws {
        let daemon = try DaemonUnderTest()
        _ = try daemon.runner.applyState(other)
        let before = daemon.runner.catalog.declared
        let checkpoint = try daemon.runner.createCheckpoint(timeout: 5)
        #expect(throws: BusError.self) { try daemon.runner.createCheckpoint(timeout: 5) }
        _ = try daemon.runner.applyState(lab)
        #expect(daemon.applied("lab") != nil && daemon.applied("other") == nil)
        daemon.loop.advance(by: 4.9)
        #expect(daemon.runner.checkpoint == checkpoint, "not before its time")
        daemon.loop.advance(by: 0.2)
        #expect(daemon.runner.checkpoint == nil)
        #expect(daemon.runner.catalog.declared == before)
        #expect(daemon.applied("lab") == nil && daemon.applied("other") != nil)
        #expect(checkpoint.kernel["other"]?.addresses == [IPv6Address("2001:db8:9::6")!: true])
        #expect(!daemon.loop.spun)
    }

    @Test func aConfirmedCheckpointLeavesTheChange() throws {
        let daemon = try DaemonUnderTest()
        let checkpoint = try daemon.runner.createCheckpoint(timeout: 5)
        _ = try daemon.runner.applyState(lab)
        try daemon.runner.confirmCheckpoint(checkpoint.number)
        #expect(throws: BusError.self) { try daemon.runner.confirmCheckpoint(checkpoint.number) }
        daemon.loop.advance(by: 60)
        #expect(daemon.applied("lab") != nil)
    }

    @Test func aCheckpointOutlivesARestartAndRollsBackOnTime() throws {
        let host = FakeHost()
        let directory = try DaemonUnderTest.temporaryDirectory()
        defer {
            for name in HostFiles.entries(of: directory) { unlink("\(directory)/\(name)") }
            rmdir(directory)
        }
        do {
            let first = try DaemonUnderTest(directory: directory, host: host)
            _ = try first.runner.createCheckpoint(timeout: 30)
            _ = try first.runner.applyState(lab)
        }
        // The next pvdd (as after kill -9: nothing more was saved) on the same clock.
        let second = try DaemonUnderTest(directory: directory, host: host, now: 1010)
        #expect(second.runner.checkpoint?.expires == 1030)
        #expect(second.applied("lab") != nil)
        second.loop.advance(to: 1031)
        #expect(second.applied("lab") == nil)
        #expect(second.runner.catalog.declared == DeclarativeState())
        // A restart after the time ran out rolls back at once.
        _ = try second.runner.createCheckpoint(timeout: 1)
        _ = try second.runner.applyState(other)
        let third = try DaemonUnderTest(directory: directory, host: host, now: 2000)
        third.loop.advance(by: 0)
        #expect(third.applied("other") == nil && third.runner.checkpoint == nil)
    }

    @Test func aRollbackBringsBackTheDropIns() throws {
        let daemon = try DaemonUnderTest()
        let dropIns = "\(daemon.directory)/domains.d"
        try HostFiles.makeDirectories(dropIns)
        try HostFiles.writeAtomically(directory: dropIns, name: "kept.yaml", contents: other)
        try daemon.runner.reload()
        let checkpoint = try daemon.runner.createCheckpoint(timeout: 10)
        #expect(checkpoint.dropIns == ["kept.yaml": other])
        try HostFiles.remove(directory: dropIns, name: "kept.yaml")
        try HostFiles.writeAtomically(directory: dropIns, name: "new.yaml", contents: lab)
        try daemon.runner.reload()
        #expect(daemon.applied("lab") != nil && daemon.applied("other") == nil)
        let undone = try daemon.runner.rollBack(checkpoint.number, reason: "test")
        #expect(Set(undone) == ["remove domain lab", "add domain other"])
        #expect(HostFiles.entries(of: dropIns).sorted() == ["kept.yaml"])
        #expect(daemon.runner.catalog.origin(of: "other") == .file)
        #expect(daemon.applied("lab") == nil)
    }

    @Test func stagedChangesCommitAsOneTransaction() throws {
        let daemon = try DaemonUnderTest()
        _ = try daemon.runner.stage(lab)
        _ = try daemon.runner.stage(other)
        _ = try daemon.runner.stage("namespaces: [scratch]\n")
        #expect(daemon.applied("lab") == nil, "nothing before the commit")
        let changes = try daemon.runner.commitStaged()
        #expect(changes == ["add domain lab", "add domain other", "add namespace scratch"])
        #expect(daemon.runner.staged == nil)
        #expect(throws: BusError.self) { try daemon.runner.commitStaged() }
    }

    @Test func aRefusedStagedChangeLeavesNothingApplied() throws {
        let daemon = try DaemonUnderTest()
        _ = try daemon.runner.stage(lab)
        _ = try daemon.runner.stage("namespaces: [scratch]\n")
        // Its address is lab's: the whole commit is refused.
        _ = try daemon.runner.stage("domains:\n  - {name: clash, uplink: eth0, addresses: [\"2001:db8:9::5\"]}\n")
        #expect(throws: BusError.self) { try daemon.runner.commitStaged() }
        #expect(daemon.runner.catalog.declared == DeclarativeState())
        #expect(daemon.applied("lab") == nil)
        #expect(daemon.runner.staged != nil, "kept, to be mended or discarded")
    }

    @Test func aCandidateOnAStateThatChangedIsRefused() throws {
        let daemon = try DaemonUnderTest()
        _ = try daemon.runner.stage(lab)
        _ = try daemon.runner.applyState(other)
        do {
            _ = try daemon.runner.commitStaged()
            Issue.record("a stale candidate was committed")
        } catch {
            #expect(error.name == "org.pvd1.Error.Stale")
            #expect(error.message.contains("add domain other"))
        }
        #expect(daemon.applied("lab") == nil)
    }

    @Test func aVerificationWaitsForTentativeAddressesAndKeepsItsResult() throws {
        let daemon = try DaemonUnderTest()
        daemon.host.tentative = [IPv6Address("2001:db8:9::5")!]
        _ = try daemon.runner.applyState(lab)
        var results: [(domain: String, check: HealthCheck)] = []
        try daemon.runner.verify(["lab"], wait: 10) { results = $0 }
        #expect(results.isEmpty, "not while an address is tentative")
        daemon.host.tentative = []
        daemon.loop.advance(by: 0.5)
        #expect(results.map(\.check.kind) == [.namespace, .addresses, .routes, .resolvConf])
        #expect(results.allSatisfy { $0.check.passed })
        #expect(daemon.runner.domainView(named: "lab")?.health.count == 4)
        daemon.host.tentative = [IPv6Address("2001:db8:9::5")!]
        try daemon.runner.verify(["lab"], wait: 2) { results = $0 }
        daemon.loop.advance(by: 2)
        #expect(results.first { $0.check.kind == .addresses }?.check.passed == false)
        #expect(daemon.runner.verifications.isEmpty)
    }
}
