import PvDCore
import PvDWire
import Testing

/// Checkpoints as the state file keeps them, staged candidates, and the
/// kernel half of a verification: decided without a daemon or a kernel.
struct CheckpointTests {
    func spec(_ name: String, _ address: String, routers: [String] = ["fe80::1"], dns: [String] = []) -> DomainSpec {
        DomainSpec(
            name: name, uplink: "eth0", addresses: [IPv6Address(address)!], routers: routers.map { IPv6Address($0)! },
            dnsServers: dns.map { IPv6Address($0)! })
    }

    @Test func aCheckpointReadsBackAsItWasSaved() throws {
        let observed = ObservedDomain(
            namespaceExists: true, addresses: [IPv6Address("2001:db8::5")!: true, IPv6Address("2001:db8::6")!: false],
            routes: [IPv6Prefix("::/0")!], nameservers: ["2001:db8::53"])
        let made = Checkpoint(
            number: 7, declared: "domains: []\n", fromFiles: ["b", "a"], dropIns: ["site.yaml": "namespaces: [x]\n"],
            kernel: ["a": observed, "b": ObservedDomain()], timeout: 60, at: 1000.25)
        let read = try Checkpoint(json: try JSONValue.parse(Array(made.json.serialized.utf8)))
        #expect(read == made)
        #expect(read.fromFiles == ["a", "b"])
        #expect(read.expires == 1060.25)
        #expect(!read.isDue(at: 1060) && read.isDue(at: 1060.25))
        var moved = observed
        moved.addresses[IPv6Address("2001:db8::5")!] = nil
        moved.routes = []
        #expect(moved.differences(from: observed) == ["addresses gone: 2001:db8::5", "routes gone: ::/0"])
        #expect(ObservedDomain().differences(from: observed) == ["its namespace is gone"])
        #expect(observed.differences(from: observed).isEmpty)
    }

    @Test func aHostileCheckpointIsRefusedWithWhere() throws {
        let good = Checkpoint(number: 1, declared: "", fromFiles: [], dropIns: [:], timeout: 5, at: 10).json
        func with(_ key: String, _ value: JSONValue) -> JSONValue {
            guard case .object(let members) = good else { return good }
            return .object(members.map { $0.key == key ? JSONMember(key, value) : $0 })
        }
        let cases: [(JSONValue, String)] = [
            (with("drop_ins", .object([JSONMember("../../etc/passwd", .string(""))])), "drop-in"),
            (with("drop_ins", .object([JSONMember(".hidden.yaml", .string(""))])), "drop-in"),
            (with("timeout", .integer(0)), "timeout"),
            (with("timeout", .integer(100_000)), "timeout"),
            (with("created", .null), "created"),
            (with("declared_in_files", .array([.string("../x")])), "declared_in_files"),
            (with("number", .integer(0)), "number"),
            (with("declared", .integer(3)), "declared"),
            (with("kernel", .object([JSONMember("../x", ObservedDomain().json)])), "kernel"),
            (with("kernel", .object([JSONMember("a", .object([JSONMember("namespace", .bool(true))]))])), "kernel"),
        ]
        for (document, word) in cases {
            #expect(throws: StateError.self) { try Checkpoint(json: document) }
            do { _ = try Checkpoint(json: document) } catch {
                #expect(error.description.contains(word) || error.description.contains("checkpoint"), "\(error)")
            }
        }
        #expect(Checkpoint.refusal(ofTimeout: 0) != nil)
        #expect(Checkpoint.refusal(ofTimeout: 60) == nil)
    }

    @Test func aSavedStateKeepsItsCheckpointAndDropsABadOne() throws {
        let checkpoint = Checkpoint(number: 3, declared: "namespaces: [a]\n", fromFiles: [], dropIns: [:], timeout: 30, at: 5)
        let empty = DomainTable(secret: [UInt8](repeating: 1, count: 32))
        let good = JSONValue.object([JSONMember("checkpoint", checkpoint.json), JSONMember("last_checkpoint", .integer(2))])
        let saved = SavedState(bytes: Array(good.serialized.utf8), empty: empty)
        #expect(saved.checkpoint == checkpoint)
        #expect(saved.lastCheckpoint == 3, "never below the pending checkpoint's number")
        let bad = JSONValue.object([JSONMember("checkpoint", .object([JSONMember("number", .string("x"))]))])
        let dropped = SavedState(bytes: Array(bad.serialized.utf8), empty: empty)
        #expect(dropped.checkpoint == nil)
        #expect(dropped.dropped.contains { $0.contains("cannot be rolled back") })
    }

    @Test func stagedChangesAccumulateAndKnowTheirBase() throws {
        let base = DeclarativeState(domains: [spec("a", "2001:db8::1")], namespaces: ["n"])
        var staged = StagedState(base: base)
        try staged.put(DeclarativeState(domains: [spec("b", "2001:db8::2")]))
        try staged.put(DeclarativeState(domains: [spec("a", "2001:db8::9")]))
        try staged.remove("n")
        #expect(staged.changes.map(\.description) == ["remove namespace n", "change domain a", "add domain b"])
        #expect(throws: StagingError.self) { try staged.remove("nothing") }
        let many = DeclarativeState(namespaces: (0..<StagedState.maximumEntries).map { "n\($0)" })
        #expect(throws: StagingError.self) { try staged.put(many) }
        // An entry of another kind replaces one of the same name.
        try staged.put(DeclarativeState(namespaces: ["b"]))
        #expect(staged.candidate.domains.map(\.name) == ["a"] && staged.candidate.namespaces == ["b"])
        #expect(staged.changedMeanwhile(current: base).isEmpty)
        let moved = DeclarativeState(domains: [spec("a", "2001:db8::1")])
        #expect(staged.changedMeanwhile(current: moved).map(\.description) == ["remove namespace n"])
    }

    @Test func theKernelHalfOfAVerification() throws {
        let wanted = spec("a", "2001:db8::5", dns: ["2001:db8::53"])
        let address = IPv6Address("2001:db8::5")!
        let fine = ObservedDomain(namespaceExists: true, addresses: [address: true], routes: [IPv6Prefix("::/0")!], nameservers: ["2001:db8::53"])
        #expect(KernelVerification.checks(wanted: wanted, observed: fine).allSatisfy { $0.passed })
        #expect(KernelVerification.checks(wanted: wanted, observed: fine).map(\.kind) == [.namespace, .addresses, .routes, .resolvConf])
        var tentative = fine
        tentative.addresses[address] = false
        #expect(KernelVerification.checks(wanted: wanted, observed: tentative)[1].detail.contains("tentative"))
        var bare = fine
        bare.routes = []
        bare.nameservers = []
        let checks = KernelVerification.checks(wanted: wanted, observed: bare)
        #expect(checks[2] == HealthCheck(.routes, passed: false, "missing ::/0"))
        #expect(checks[3] == HealthCheck(.resolvConf, passed: false, "does not name 2001:db8::53"))
        let gone = KernelVerification.checks(wanted: wanted, observed: ObservedDomain())
        #expect(gone == [HealthCheck(.namespace, passed: false, "the namespace does not exist")])
        #expect(KernelVerification.checks(wanted: nil, observed: fine) == [HealthCheck(.namespace, passed: true, "exists")])
    }
}
