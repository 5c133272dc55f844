import PvDWire
import Testing

@testable import PvDCore

struct PvDAwareCallsTests {
    @Test func socketsAreTCPOrUDPOverIPv4OrIPv6AndAlwaysCloseOnExec() throws {
        let stream = try PvDAwareCalls.SocketRequest(family: 10, type: 1, protocol: 0)
        #expect(stream.type == 1 | 0o2_000_000)
        let datagram = try PvDAwareCalls.SocketRequest(family: 2, type: 2 | 0o4000, protocol: 17)
        #expect(datagram.type == 2 | 0o4000 | 0o2_000_000, "SOCK_NONBLOCK kept")
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.SocketRequest(family: 10, type: 3, protocol: 58) }  // raw
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.SocketRequest(family: 17, type: 2, protocol: 0) }  // packet
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.SocketRequest(family: 10, type: 2, protocol: 58) }  // ICMPv6 ping
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.SocketRequest(family: 10, type: 1, protocol: 17) }
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.SocketRequest(family: 0, type: 1, protocol: 0) }
    }

    @Test func familiesAskForRecordTypes() throws {
        #expect(try PvDAwareCalls.recordTypes(family: 0) == [.aaaa, .a])
        #expect(try PvDAwareCalls.recordTypes(family: 2) == [.a])
        #expect(try PvDAwareCalls.recordTypes(family: 10) == [.aaaa])
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.recordTypes(family: 1) }
    }

    @Test func theSearchListIsAppliedAsGlibcDoesWithOneDot() throws {
        let search = [try DomainName("corp.test"), try DomainName("lab.test")]
        func names(_ text: String) throws -> [String] { try PvDAwareCalls.candidates(for: text, search: search).map(\.description) }
        #expect(try names("intranet") == ["intranet.corp.test", "intranet.lab.test", "intranet"])
        #expect(try names("www.example.org") == ["www.example.org", "www.example.org.corp.test", "www.example.org.lab.test"])
        #expect(try names("www.example.org.") == ["www.example.org"])
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.candidates(for: "", search: []) }
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.candidates(for: ".", search: []) }
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.candidates(for: "a..b", search: []) }
        #expect(throws: PvDAwareCallError.self) { try PvDAwareCalls.candidates(for: String(repeating: "a", count: 64), search: []) }
    }

    @Test func resolvConfGivesServersAndTheLastSearchLine() {
        let text = "# pvd\nnameserver 2001:db8:2::53\nnameserver 10.0.0.53\nsearch a.test b.test\n; note\noptions edns0\nsearch c.test\n"
        let configuration = PvDAwareCalls.resolverConfiguration(text)
        #expect(configuration.servers == ["2001:db8:2::53", "10.0.0.53"])
        #expect(configuration.search.map(\.description) == ["c.test"])
        let many = PvDAwareCalls.resolverConfiguration((1...5).map { "nameserver 10.0.0.\($0)" }.joined(separator: "\n"))
        #expect(many.servers.count == 3, "glibc's MAXNS")
    }

    @Test func aUserIsSlowedDownAfterTheBurstAndRefilledWithTime() throws {
        var budget = CallerBudget()
        budget.rate = 10
        budget.burst = 20
        for _ in 0..<20 { try budget.admit(uid: 1000, resolves: false, at: 0) }
        #expect(throws: PvDAwareCallError.self) { try budget.admit(uid: 1000, resolves: false, at: 0) }
        try budget.admit(uid: 1001, resolves: false, at: 0)  // another user has a bucket of their own
        try budget.admit(uid: 1000, resolves: false, at: 0.1)  // one token back after 0.1 s at 10/s
        #expect(throws: PvDAwareCallError.self) { try budget.admit(uid: 1000, resolves: false, at: 0.1) }
        for _ in 0..<100 { try budget.admit(uid: 0, resolves: false, at: 0) }  // root is not rated
    }

    @Test func namesResolvingAtOnceAreBoundedPerUserAndInAll() throws {
        var budget = CallerBudget()
        budget.resolvingPerUser = 2
        budget.resolvingInAll = 3
        try budget.admit(uid: 1, resolves: true, at: 0)
        try budget.admit(uid: 1, resolves: true, at: 0)
        #expect(throws: PvDAwareCallError.self) { try budget.admit(uid: 1, resolves: true, at: 0) }
        try budget.admit(uid: 2, resolves: true, at: 0)
        #expect(throws: PvDAwareCallError.self) { try budget.admit(uid: 3, resolves: true, at: 0) }
        budget.resolved(uid: 1)
        try budget.admit(uid: 3, resolves: true, at: 0)
    }

    @Test func usageIsCountedPerProcessAndBounded() {
        var budget = CallerBudget()
        budget.record(pid: 10, uid: 1000, command: "app", domain: "corp", socket: true, at: 0)
        budget.record(pid: 10, uid: 1000, command: "app", domain: "corp", socket: false, at: 1)
        budget.record(pid: 10, uid: 1000, command: "app", domain: "other", socket: true, at: 2)
        #expect(budget.usage[10]?.sockets == ["corp": 1, "other": 1])
        #expect(budget.usage[10]?.names == ["corp": 1])
        budget.record(pid: 10, uid: 1001, command: "reused", domain: "corp", socket: true, at: 3)
        #expect(budget.usage[10]?.sockets == ["corp": 1], "a pid reused by another process starts again")
        for pid in 100..<(100 + Int32(CallerBudget.rememberedProcesses)) {
            budget.record(pid: pid, uid: 1, command: "x", domain: "corp", socket: true, at: Double(pid))
        }
        #expect(budget.usage.count == CallerBudget.rememberedProcesses)
        #expect(budget.usage[10] == nil, "the least recently seen went")
        budget.forget { $0 % 2 == 0 }
        #expect(budget.usage.keys.allSatisfy { $0 % 2 == 0 })
    }
}
