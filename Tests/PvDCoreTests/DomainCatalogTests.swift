import PvDWire
import TestSupport
import Testing

@testable import PvDCore

/// Every kind of domain and every transition the catalog makes, against the
/// in-memory host.
struct DomainCatalogTests {
    let secret: [UInt8] = [9]

    func spec(_ name: String, uplink: String = "eth0", address: String = "2001:db8::5") -> DomainSpec {
        DomainSpec(name: name, uplink: uplink, addresses: [IPv6Address(address)!], routers: [IPv6Address("fe80::1")!])
    }

    func catalogWithEveryKind(host: InMemoryHostNet) throws -> DomainCatalog {
        var catalog = DomainCatalog(table: DomainTable(secret: secret))
        _ = catalog.table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2), on: "eth0", at: 0)
        _ = catalog.table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        _ = try catalog.apply(
            DeclarativeState(
                domains: [spec("lab")], vpns: [.init(name: "home", client: .openVPN, config: "/etc/pvd/home.conf")],
                namespaces: ["scratch"]), host: host)
        return catalog
    }

    @Test func everyKindHasItsNameKindAndOrigin() throws {
        let host = InMemoryHostNet()
        let catalog = try catalogWithEveryKind(host: host)
        #expect(catalog.names == ["corp.example.com", "eth0-fe80-0-1", "home", "lab", "scratch"])
        #expect(catalog.names.map { catalog.kind(of: $0)?.rawValue } == ["explicit", "implicit", "vpn", "static", "namespace"])
        #expect(catalog.origin(of: "corp.example.com") == .routerAdvertisement)
        #expect(catalog.origin(of: "lab") == .runtime)
        #expect(catalog.isTaken("scratch") && !catalog.isTaken("other"))
        #expect(host.applied.keys.sorted() == ["lab"])
        #expect(host.tunnelDomains == ["home"] && host.namespaces == ["scratch"])
        #expect(catalog.table.reservedNames == ["home", "lab", "scratch"], "no PvD may take a declared name")
    }

    @Test func removalsGoInOneBatch() throws {
        let host = InMemoryHostNet()
        var catalog = DomainCatalog(table: DomainTable(secret: secret))
        let many = (0..<20).map { spec("d\($0)", address: "2001:db8::\($0 + 1)") }
        _ = try catalog.apply(DeclarativeState(domains: many), host: host)
        let before = host.removeCalls
        let changes = try catalog.apply(DeclarativeState(), host: host)
        #expect(changes.count == 20)
        #expect(host.removeCalls - before == 1, "twenty domains, one remove call")
        #expect(host.applied.isEmpty && catalog.statics.isEmpty)
    }

    @Test func aFailedStepUndoesTheStepsBeforeIt() throws {
        let host = InMemoryHostNet()
        var catalog = try catalogWithEveryKind(host: host)
        let before = catalog.declared
        host.failNextApply = ["z-new"]
        let target = DeclarativeState(domains: [spec("a-new", address: "2001:db8::7"), spec("z-new", address: "2001:db8::8")], namespaces: [])
        #expect(throws: CatalogError.self) { _ = try catalog.apply(target, host: host) }
        #expect(catalog.declared == before, "nothing changed in the catalog")
        #expect(host.applied.keys.sorted() == ["lab"], "the domain added before the failure was removed again")
        #expect(host.namespaces == ["scratch"] && host.tunnelDomains == ["home"], "what the failed apply removed came back")
    }

    @Test func learntNamesCannotBeDeclared() throws {
        let host = InMemoryHostNet()
        var catalog = try catalogWithEveryKind(host: host)
        var target = catalog.declared
        target.namespaces.append("corp.example.com")
        #expect(throws: CatalogError.self) { _ = try catalog.apply(target, host: host) }
        do { _ = try catalog.apply(target, host: host) } catch { #expect(error.exists) }
    }

    @Test func filesAndRuntimeAreKeptApart() throws {
        let host = InMemoryHostNet()
        var catalog = DomainCatalog(table: DomainTable(secret: secret))
        _ = try catalog.apply(DeclarativeState(domains: [spec("runtime1")]), host: host)
        let files = DeclarativeState(domains: [spec("filed", address: "2001:db8::9")], namespaces: ["filed-ns"])
        _ = try catalog.apply(catalog.replacingFileDeclared(with: files), files: ["filed", "filed-ns"], host: host)
        #expect(catalog.origin(of: "filed") == .file && catalog.origin(of: "filed-ns") == .file)
        #expect(catalog.origin(of: "runtime1") == .runtime)
        // A reload whose files no longer declare filed-ns: it goes, the runtime domain stays.
        let fewer = DeclarativeState(domains: [spec("filed", address: "2001:db8::9")])
        _ = try catalog.apply(catalog.replacingFileDeclared(with: fewer), files: ["filed"], host: host)
        #expect(catalog.names == ["filed", "runtime1"])
        #expect(catalog.state(of: "filed", at: 0)?.reason == "declared in a configuration file")
    }

    @Test func theDocumentRoundTripsEveryKind() throws {
        let host = InMemoryHostNet()
        var catalog = try catalogWithEveryKind(host: host)
        catalog.vpns["home"]?.pid = 4242
        catalog.rememberLearntKeys()
        let saved = SavedState(bytes: Array(catalog.document.serialized.utf8), empty: DomainTable(secret: secret))
        #expect(saved.dropped.isEmpty, "\(saved.dropped)")
        let restored = DomainCatalog(saved: saved) { host.namespaceExists($0) }
        #expect(restored.names == catalog.names)
        #expect(restored.statics == catalog.statics)
        #expect(restored.vpns["home"]?.pid == 4242)
        #expect(restored.namespaces == ["scratch"])
        let gone = DomainCatalog(saved: saved) { _ in false }
        #expect(gone.namespaces.isEmpty, "a namespace that is gone is not restored")
    }

    @Test func statesTellWhatIsGoingOn() throws {
        let host = InMemoryHostNet()
        var catalog = try catalogWithEveryKind(host: host)
        #expect(catalog.state(of: "corp.example.com", at: 1)?.name == "active")
        // The implicit router withdraws: the domain says so, and when it goes.
        _ = catalog.table.observe(RA.plain(lifetime: 0, RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 10)
        let withdrawn = try #require(catalog.state(of: "eth0-fe80-0-1", at: 10))
        #expect(withdrawn.name == "withdrawn")
        #expect(withdrawn.reason.contains("it goes in") && withdrawn.reason.hasSuffix("unless one does again"), "\(withdrawn.reason)")
        // It goes from the table while a program runs inside: it lingers, keeping its kind.
        catalog.rememberLearntKeys()
        _ = catalog.table.expire(at: 1e6 - 60)
        _ = catalog.table.expire(at: 1e6)
        #expect(catalog.table.domains.values.allSatisfy { $0.name != "eth0-fe80-0-1" })
        let lingers = catalog.linger("eth0-fe80-0-1", at: 1e6)
        #expect(lingers)
        #expect(catalog.kind(of: "eth0-fe80-0-1") == .implicit)
        #expect(catalog.state(of: "eth0-fe80-0-1", at: 1e6 + 3)?.name == "lingering")
        catalog.stopLingering("eth0-fe80-0-1")
        #expect(catalog.kind(of: "eth0-fe80-0-1") == nil)
        // VPN domains.
        #expect(catalog.state(of: "home", at: 0)?.name == "connecting")
        catalog.vpns["home"]?.tunnel = TunnelStatus()
        catalog.vpns["home"]?.tunnel?.apply(openVPNManagementLine: ">STATE:1764500001,CONNECTED,SUCCESS,10.9.0.2,192.0.2.1,1194,,")
        #expect(catalog.state(of: "home", at: 0)?.name == "connected", "from the client's word, not from the device")
        catalog.vpns["home"]?.failure = "OpenVPN exited 3 times"
        #expect(catalog.state(of: "home", at: 0) == DomainState(name: "failed", reason: "OpenVPN exited 3 times"))
        #expect(catalog.state(of: "lab", at: 0)?.name == "active")
        #expect(catalog.state(of: "nothing", at: 0) == nil)
    }

    @Test func anExplicitDomainLingersWithItsPvDID() throws {
        var catalog = DomainCatalog(table: DomainTable(secret: secret, gracePeriod: 0))
        _ = catalog.table.observe(
            RA.pvd("corp.example.com", lifetime: 10, RA.options(prefix: "2001:db8:2::/64", valid: 10)),
            from: RA.router(2), on: "eth0", at: 0)
        catalog.rememberLearntKeys()
        #expect(catalog.table.expire(at: 20).contains("corp.example.com"))
        let lingers = catalog.linger("corp.example.com", at: 20)
        #expect(lingers)
        #expect(catalog.kind(of: "corp.example.com") == .explicit)
        #expect(catalog.key(of: "corp.example.com") == .explicit(try DomainName("corp.example.com")))
    }
}
