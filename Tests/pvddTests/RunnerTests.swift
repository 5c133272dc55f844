import Glibc
import HostNet
import LinuxSystem
import NDP
import PvDConfig
import PvDCore
import PvDWire
import Testing

@testable import pvdd

/// One pvdd built from fakes: RAs, link news and probe answers go in by
/// hand, the clock moves by hand, and what it asks of the host is read
/// back from memory. No root, no network, no sleeping.
final class DaemonUnderTest {
    let loop: FakeLoop
    let ras = FakeRouterAdvertisements()
    let links = FakeLinks()
    let prober = FakeProber()
    let host: FakeHost
    let launcher = FakeLauncher()
    let directory: String
    /// Whether this daemon made `directory` (and removes it when it goes).
    private let ownsDirectory: Bool
    let runner: Runner
    /// What readFiles returns at the next reload.
    var nextFiles: String

    /// A daemon on uplink eth0 with `yaml` added to its settings; `directory`:
    /// where its state is kept (a new one when nil); `host`: the host it
    /// finds (a new one when nil).
    init(_ yaml: String = "", directory: String? = nil, host: FakeHost? = nil, now: Double = 1000) throws {
        self.directory = try directory ?? DaemonUnderTest.temporaryDirectory()
        ownsDirectory = directory == nil
        self.host = host ?? FakeHost()
        loop = FakeLoop(now: now)
        let text = "uplinks: [eth0]\nstate: \(self.directory)/state.json\nadditional-information: {fetch: false}\n" + yaml
        nextFiles = text
        let files = try ConfigurationFiles(main: ("\(self.directory)/pvdd.yaml", text), dropIns: [])
        let parts = DaemonParts(loop: loop, listener: ras, links: links, prober: prober, host: self.host, launcher: launcher)
        var reread: () throws(ConfigurationError) -> ConfigurationFiles = { fatalError() }
        let dropIns = "\(self.directory)/domains.d"
        runner = Runner(files: files, readFiles: { () throws(ConfigurationError) in try reread() }, parts: parts, dropInDirectory: dropIns)
        reread = { [unowned self] () throws(ConfigurationError) in
            let files = HostFiles.entries(of: dropIns).filter(ConfigurationFiles.isDropIn).sorted()
            return try ConfigurationFiles(
                main: ("\(self.directory)/pvdd.yaml", self.nextFiles),
                dropIns: files.map { ("\(dropIns)/\($0)", HostFiles.read("\(dropIns)/\($0)") ?? "") })
        }
        try runner.start()
    }

    deinit {
        guard ownsDirectory else { return }
        for name in HostFiles.entries(of: "\(directory)/domains.d") { unlink("\(directory)/domains.d/\(name)") }
        rmdir("\(directory)/domains.d")
        for name in HostFiles.entries(of: directory) { unlink("\(directory)/\(name)") }
        rmdir(directory)
    }

    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/pvdd-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError(step: "mkdtemp", object: "/tmp", reason: "failed") }
        return String(cString: made)
    }

    /// An RA from fe80::`router` on eth0 arrives now.
    func hear(_ ra: RouterAdvertisement, from router: UInt16) throws {
        ras.queued.append(ReceivedRouterAdvertisement(message: try ra.encoded(), source: RA.router(router), interface: "eth0"))
        loop.ready(ras.descriptor)
    }

    /// The spec the host holds for `name`.
    func applied(_ name: String) -> DomainSpec? { host.memory.applied[name] }
}

/// RAs as values, encoded for the daemon.
enum RA {
    static func router(_ last: UInt16) -> IPv6Address { IPv6Address(high: 0xFE80_0000_0000_0000, low: UInt64(last)) }

    static func options(
        prefix: String? = "2001:db8:1::/64", valid: UInt32 = 3600, dns: String? = nil, dnsLifetime: UInt32 = 600,
        search: String? = nil, route: String? = nil, routeLifetime: UInt32 = 900
    ) -> [NDOption] {
        var options: [NDOption] = []
        if let prefix {
            options.append(.prefixInformation(PrefixInformation(prefix: IPv6Prefix(prefix)!, validLifetime: valid, preferredLifetime: min(valid, 1800))))
        }
        if let dns { options.append(.recursiveDNSServers(RecursiveDNSServers(lifetime: dnsLifetime, servers: [IPv6Address(dns)!]))) }
        if let search { options.append(.dnsSearchList(DNSSearchList(lifetime: dnsLifetime, domains: [try! DomainName(search)]))) }
        if let route { options.append(.routeInformation(RouteInformation(prefix: IPv6Prefix(route)!, lifetime: routeLifetime))) }
        return options
    }

    static func plain(lifetime: UInt16 = 1800, _ options: [NDOption] = options()) -> RouterAdvertisement {
        RouterAdvertisement(header: RouterAdvertisementHeader(routerLifetime: lifetime), options: options)
    }

    static func pvd(_ id: String, sequence: UInt16 = 1, lifetime: UInt16 = 1800, _ options: [NDOption] = options()) -> RouterAdvertisement {
        let pvd = PvDOption(id: try! DomainName(id), sequence: sequence, options: options)
        return RouterAdvertisement(header: RouterAdvertisementHeader(routerLifetime: lifetime), options: [.provisioningDomain(pvd)])
    }
}

/// pvdd's decisions, flow by flow, against the fakes.
struct RunnerTests {
    let implicit = "eth0-fe80-0-1"

    @Test func anRAMakesADomainWhoseAddressComesAfterItsProbe() throws {
        let daemon = try DaemonUnderTest()
        #expect(daemon.ras.solicited == ["eth0"], "routers are asked at start")
        try daemon.hear(RA.plain(RA.options(dns: "2001:db8:1::53")), from: 1)
        let tentative = try #require(daemon.applied(implicit))
        #expect(tentative.addresses.isEmpty, "no address before its probe ends")
        #expect(tentative.routers == [RA.router(1)])
        #expect(tentative.dnsServers == [IPv6Address("2001:db8:1::53")!])
        let probed = try #require(daemon.prober.solicited.first)
        daemon.loop.advance(by: 1)
        #expect(daemon.applied(implicit)?.addresses == [probed])
        #expect(daemon.runner.domainView(named: implicit)?.state.name == "active")
    }

    @Test func anAddressInUseMovesToTheNextOne() throws {
        let daemon = try DaemonUnderTest()
        try daemon.hear(RA.plain(), from: 1)
        let first = try #require(daemon.prober.solicited.first)
        daemon.prober.answers = [NeighborAnswer(target: first, interface: "eth0")]
        daemon.loop.ready(daemon.prober.descriptor)
        #expect(daemon.prober.solicited.count == 2, "the next address is probed")
        daemon.loop.advance(by: 1)
        #expect(daemon.applied(implicit)?.addresses == [daemon.prober.solicited[1]])
    }

    /// radvd's `AdvDefaultLifetime 0` with valid prefixes made pvdd re-arm its
    /// timer for the router's past end and spin at 100 % CPU.
    @Test func routerLifetimeZeroWithValidPrefixesDoesNotSpin() throws {
        let daemon = try DaemonUnderTest("grace-period: 30\n")
        try daemon.hear(RA.plain(lifetime: 0, RA.options(valid: 600)), from: 1)
        daemon.loop.advance(by: 700)
        #expect(!daemon.loop.spun, "the timer fired again and again at one time")
        let looks = Int(700 / Runner.firewallLookInterval)
        #expect(daemon.loop.firings <= looks + 4, "\(daemon.loop.firings) firings: the probe, the prefix, the grace period, \(looks) firewall looks")
        #expect(daemon.applied(implicit) == nil, "the prefix ran out at 600, the grace period at 630")
    }

    /// A probe that ends while other events keep the loop busy: its timer
    /// is re-armed after its time and must still fire.
    @Test func aProbeEndingWhileOtherEventsComeFirstStillEnds() throws {
        let daemon = try DaemonUnderTest()
        try daemon.hear(RA.plain(), from: 1)
        daemon.loop.jump(by: 1.5)
        try daemon.hear(RA.plain(RA.options(prefix: "2001:db8:2::/64")), from: 2)
        daemon.loop.advance(by: 0)
        #expect(daemon.applied(implicit)?.addresses.count == 1)
        daemon.loop.advance(by: 1)
        #expect(daemon.applied("eth0-fe80-0-2")?.addresses.count == 1)
    }

    @Test func everyLifetimeRunsOutOnTime() throws {
        let daemon = try DaemonUnderTest("grace-period: 30\nduplicate-address-detection: false\n")
        try daemon.hear(
            RA.plain(
                lifetime: 300,
                RA.options(valid: 100, dns: "2001:db8:1::53", dnsLifetime: 50, search: "example.org", route: "2001:db8:ff::/48", routeLifetime: 200)),
            from: 1)
        var spec = try #require(daemon.applied(implicit))
        #expect(spec.addresses.count == 1 && spec.dnsServers.count == 1 && spec.searchDomains.count == 1 && spec.routes.count == 1)
        daemon.loop.advance(by: 50)
        spec = try #require(daemon.applied(implicit))
        #expect(spec.dnsServers.isEmpty && spec.searchDomains.isEmpty, "DNS at 50")
        #expect(spec.addresses.count == 1)
        daemon.loop.advance(by: 50)
        spec = try #require(daemon.applied(implicit))
        #expect(spec.addresses.isEmpty && spec.onLinkPrefixes.isEmpty, "the prefix at 100")
        daemon.loop.advance(by: 100)
        #expect(daemon.applied(implicit)?.routes == [], "the route at 200")
        daemon.loop.advance(by: 100)
        #expect(daemon.applied(implicit)?.routers == [], "the router at 300")
        daemon.loop.advance(by: 29)
        #expect(daemon.applied(implicit) != nil, "kept for its grace period")
        daemon.loop.advance(by: 1)
        #expect(daemon.applied(implicit) == nil, "removed after it")
        daemon.loop.advance(by: Runner.firewallLookInterval)
        #expect(daemon.loop.timerTime == nil, "nothing left to wait for after the last firewall look")
        #expect(!daemon.loop.spun)
    }

    @Test func aNewSequenceNumberReplacesThePvD() throws {
        let daemon = try DaemonUnderTest("duplicate-address-detection: false\n")
        try daemon.hear(RA.pvd("corp.example.com", sequence: 1, RA.options(prefix: "2001:db8:1::/64")), from: 1)
        try daemon.hear(RA.pvd("corp.example.com", sequence: 2, RA.options(prefix: "2001:db8:2::/64")), from: 1)
        let spec = try #require(daemon.applied("corp.example.com"))
        #expect(spec.onLinkPrefixes == [IPv6Prefix("2001:db8:2::/64")!], "sequence 2 replaced sequence 1's prefix")
        try daemon.hear(RA.pvd("corp.example.com", sequence: 1, RA.options(prefix: "2001:db8:3::/64")), from: 1)
        #expect(daemon.applied("corp.example.com")?.onLinkPrefixes == [IPv6Prefix("2001:db8:2::/64")!], "an older sequence is ignored")
    }

    @Test func aDomainWithProgramsInsideLingersUntilTheyEnd() throws {
        let daemon = try DaemonUnderTest("grace-period: 10\nduplicate-address-detection: false\n")
        try daemon.hear(RA.plain(lifetime: 60, RA.options(valid: 60)), from: 1)
        daemon.host.memory.occupied.insert(implicit)
        daemon.loop.advance(by: 80)
        #expect(daemon.applied(implicit) != nil, "kept while a program runs inside")
        #expect(daemon.runner.catalog.lingering[implicit] != nil)
        #expect(daemon.runner.domainView(named: implicit)?.state.name == "lingering")
        daemon.host.memory.occupied.remove(implicit)
        daemon.loop.advance(by: Runner.lingerCheck)
        #expect(daemon.applied(implicit) == nil, "removed at the next look once the program ended")
        #expect(!daemon.loop.spun)
    }

    @Test func reloadRenamesWithNewAliases() throws {
        let daemon = try DaemonUnderTest("duplicate-address-detection: false\n")
        try daemon.hear(RA.pvd("corp.example.com"), from: 1)
        #expect(daemon.applied("corp.example.com") != nil)
        daemon.nextFiles += "aliases: {corp: corp.example.com}\n"
        try daemon.runner.reload()
        #expect(daemon.applied("corp") != nil)
        #expect(daemon.applied("corp.example.com") == nil)
        daemon.nextFiles += "uplinks: ["
        #expect(throws: ConfigurationError.self) { try daemon.runner.reload() }
        #expect(daemon.applied("corp") != nil, "a file that does not read changes nothing")
    }

    /// A restart: the next pvdd reads the state, finds the kernel as it
    /// left it, and changes nothing.
    @Test func aRestartAdoptsWithoutChanges() throws {
        let first = try DaemonUnderTest("duplicate-address-detection: false\n")
        try first.hear(RA.plain(RA.options(dns: "2001:db8:1::53")), from: 1)
        let before = try #require(first.applied(implicit))
        let changes = first.host.memory.changes
        try withExtendedLifetime(first) {  // it owns the state's directory
            let second = try DaemonUnderTest("duplicate-address-detection: false\n", directory: first.directory, host: first.host, now: first.loop.now + 5)
            #expect(second.applied(implicit) == before)
            #expect(second.host.memory.changes == changes, "nothing was changed")
            #expect(second.loop.timerTime != nil, "the adopted domain's lifetimes are followed")
        }
    }

    @Test func aRestartRemovesWhatNoDomainOwns() throws {
        let host = FakeHost()
        try host.apply(DomainSpec(name: "stale", uplink: "eth0", addresses: [], routers: []))
        let daemon = try DaemonUnderTest(host: host)
        #expect(daemon.applied("stale") == nil)
    }

    @Test func somethingTakenIsPutBackShortlyAfter() throws {
        let daemon = try DaemonUnderTest("duplicate-address-detection: false\n")
        try daemon.hear(RA.plain(), from: 1)
        let spec = try #require(daemon.applied(implicit))
        let inside = try #require(daemon.host.monitors[implicit], "the domain's namespace is watched")
        try daemon.host.memory.remove([implicit])  // another program deleted it
        inside.news = LinkMonitor.News(somethingTaken: true)
        daemon.loop.ready(inside.descriptor)
        #expect(daemon.applied(implicit) == nil, "not at once: changes come in bursts")
        daemon.loop.advance(by: Runner.repairDelay)
        #expect(daemon.applied(implicit) == spec)
    }

    @Test func aFloodIsLimitedAndReportedWithoutRAsAfterIt() throws {
        let daemon = try DaemonUnderTest()
        for _ in 0..<100 { try daemon.hear(RA.plain(), from: 1) }
        #expect(daemon.runner.catalog.table.counters.rateLimitedRAs > 0)
        let timer = try #require(daemon.loop.timerTime)
        #expect(timer <= daemon.loop.now + 10, "the report is due within 10 s, RAs or not")
        daemon.loop.advance(by: 10)
        #expect(daemon.runner.reportedCounters == daemon.runner.catalog.table.counters)
        #expect(!daemon.loop.spun)
    }

    /// A VPN client that ends is started again after 5 s, then 10 s after a
    /// second short run (the domain then `failed`), and after 5 s again once
    /// a run lasted longer than a minute.
    @Test func aVPNClientThatEndsIsStartedAgainWithBackOff() throws {
        let daemon = try DaemonUnderTest()
        daemon.runner.catalog.vpns["work"] = VPNEntry(client: .command, config: "/usr/local/bin/tunnel")
        daemon.runner.resumeVPN("work")
        #expect(daemon.host.memory.tunnelDomains == ["work"])
        #expect(daemon.launcher.record.launches.map(\.program) == ["/usr/local/bin/tunnel"])
        #expect(daemon.launcher.record.launches.first?.environment["PVD_DOMAIN"] == "work")
        /// The client runs for `seconds`, ends, and is started again `delay` seconds later, not before.
        func runs(for seconds: Double, thenRestartsAfter delay: Double, _ comment: Comment) {
            let launched = daemon.launcher.record.launches.count
            daemon.loop.advance(by: seconds)
            daemon.loop.childExits(daemon.launcher.record.nextPid, status: 1)
            #expect(daemon.runner.catalog.vpns["work"]?.pid == nil)
            daemon.loop.advance(by: delay - 0.1)
            #expect(daemon.launcher.record.launches.count == launched, comment)
            daemon.loop.advance(by: 0.1)
            #expect(daemon.launcher.record.launches.count == launched + 1, comment)
        }
        runs(for: 3, thenRestartsAfter: 5, "a first short run: 5 s")
        #expect(daemon.host.detached == ["work"], "its tunnel left the domain")
        #expect(daemon.runner.catalog.vpns["work"]?.failure == nil)
        runs(for: 1, thenRestartsAfter: 10, "a second short run in a row: 10 s")
        #expect(daemon.runner.catalog.vpns["work"]?.failure != nil, "failed after two short runs in a row")
        runs(for: 120, thenRestartsAfter: 5, "a long run starts the back-off again at 5 s")
        #expect(!daemon.loop.spun)
    }
}

/// Long turns of the loop are told at most once every 10 s for each thing that held it, the rest counted.
struct LongTurnLogTests {
    @Test func aFloodOfLongTurnsIsToldOncePerInterval() {
        let log = LongTurnLog()
        #expect(log.record("a Router Advertisement", seconds: 0.014, at: 100) == "a Router Advertisement held the loop for 14 ms")
        for second in 1...9 { #expect(log.record("a Router Advertisement", seconds: 0.012 + Double(second) / 1000, at: 100 + Double(second)) == nil) }
        #expect(log.record("D-Bus call ListDomains", seconds: 0.02, at: 105) == "D-Bus call ListDomains held the loop for 20 ms")
        #expect(
            log.record("a Router Advertisement", seconds: 0.030, at: 110)
                == "a Router Advertisement held the loop for 30 ms (and 9 more time(s) since the last report, at worst 21 ms)")
    }

    @Test func theKindsAreBounded() {
        let log = LongTurnLog()
        for index in 0..<LongTurnLog.maximumKinds { #expect(log.record("D-Bus call M\(index)", seconds: 0.02, at: 0) != nil) }
        #expect(log.record("D-Bus call Another", seconds: 0.02, at: 0) != nil)
        #expect(log.record("D-Bus call YetAnother", seconds: 0.02, at: 1) == nil)
    }
}
