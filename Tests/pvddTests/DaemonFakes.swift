import Glibc
import HostNet
import LinuxSystem
import NDP
import PvDCore
import PvDWire
import TestSupport

@testable import pvdd

/// An event loop whose clock moves only when a test says so. Descriptors
/// are numbers the fakes hand out; a test makes one "readable" with
/// ``ready(_:)``. The one timer fires from ``advance(to:)``.
final class FakeLoop: DaemonLoop {
    private(set) var now: Double
    private var timer: (time: Double, handler: () -> Void)?
    /// Timers of their own (``addTimer(at:name:_:)``), by identifier.
    private var extraTimers: [ObjectIdentifier: (time: Double, handler: () -> Void)] = [:]
    private var watches: [Int32: () -> Void] = [:]
    private var stoppable: [ObjectIdentifier: Int32] = [:]
    private var exits: [pid_t: (Int32) -> Void] = [:]
    private var tokens: [Token] = []
    /// Set when the timer fired again and again without the clock moving:
    /// the daemon armed it for a time already past (the 100 % CPU spin).
    private(set) var spun = false
    /// How often the timer fired.
    private(set) var firings = 0

    init(now: Double = 1000) { self.now = now }

    /// When the timer is armed for; nil: disarmed.
    var timerTime: Double? { timer?.time }

    func watch(_ descriptor: Int32, name: String, _ handler: @escaping () -> Void) throws(SystemError) { watches[descriptor] = handler }

    func watchUntilStopped(_ descriptor: Int32, name: String, _ handler: @escaping () -> Void) throws(SystemError) -> ObjectIdentifier {
        watches[descriptor] = handler
        let token = Token()
        tokens.append(token)  // kept, so that no later watch gets its identifier
        let id = ObjectIdentifier(token)
        stoppable[id] = descriptor
        return id
    }

    func stopWatching(_ id: ObjectIdentifier) {
        extraTimers[id] = nil
        if let descriptor = stoppable.removeValue(forKey: id) { watches.removeValue(forKey: descriptor) }
    }

    func onSignals(_ signals: [Int32], _ handler: @escaping (Int32) -> Void) throws(SystemError) {}

    func setTimer(at time: Double?, _ handler: @escaping () -> Void) throws(SystemError) {
        timer = time.map { ($0, handler) }
    }

    func addTimer(at time: Double, name: String, _ handler: @escaping () -> Void) throws(SystemError) -> ObjectIdentifier {
        let token = Token()
        tokens.append(token)
        extraTimers[ObjectIdentifier(token)] = (time, handler)
        return ObjectIdentifier(token)
    }

    func onExit(of pid: pid_t, _ handler: @escaping (Int32) -> Void) throws(SystemError) { exits[pid] = handler }

    func onExit(ofAdopted pid: pid_t, _ handler: @escaping () -> Void) throws(SystemError) -> Bool {
        exits[pid] = { _ in handler() }
        return true
    }

    func run() throws(SystemError) -> Int32 { 0 }
    func exit(_ code: Int32) {}

    /// Calls the handler of `descriptor`, as sd-event does when it is readable.
    func ready(_ descriptor: Int32) {
        watches[descriptor]?()
    }

    /// Whether something watches `descriptor`.
    func watches(_ descriptor: Int32) -> Bool { watches[descriptor] != nil }

    /// The child `pid` ends with `status`.
    func childExits(_ pid: pid_t, status: Int32) {
        exits.removeValue(forKey: pid)?(status)
    }

    /// Moves the clock to `time`, firing the timer whenever it is due on the
    /// way (at its own time, or at once when armed for the past). Stops,
    /// setting ``spun``, when it fires 20 times without the clock moving.
    func advance(to time: Double) {
        var firingsNow = 0
        while true {
            // The extra timers first, when due no later than the one timer.
            if let (id, extra) = extraTimers.min(by: { $0.value.time < $1.value.time }), extra.time <= time, extra.time <= timer?.time ?? .infinity {
                now = max(now, extra.time)
                extraTimers[id] = nil
                extra.handler()
                continue
            }
            guard let due = timer, due.time <= time else { break }
            let at = max(now, due.time)
            firingsNow = at == now ? firingsNow + 1 : 0
            if firingsNow >= 20 {
                spun = true
                break
            }
            now = at
            timer = nil
            firings += 1
            due.handler()
        }
        now = max(now, time)
    }

    /// Moves the clock without firing the timer: the loop was busy with
    /// other events first (sd-event runs them before a due timer of lower priority).
    func jump(by seconds: Double) { now += seconds }

    /// ``advance(to:)`` by `seconds`.
    func advance(by seconds: Double) { advance(to: now + seconds) }

    private final class Token {}
}

/// RAs a test queues; solicitations the daemon sent.
final class FakeRouterAdvertisements: RouterAdvertisementSource {
    /// A number no real file has here: the fake loop only matches it.
    let descriptor: Int32 = 1
    var queued: [ReceivedRouterAdvertisement] = []
    private(set) var solicited: [String] = []

    func receive() throws(SystemError) -> [ReceivedRouterAdvertisement] {
        defer { queued = [] }
        return queued
    }

    func solicit(on interface: String) throws(SystemError) { solicited.append(interface) }
}

/// Link news a test queues.
final class FakeLinks: LinkEventSource {
    let descriptor: Int32

    init(descriptor: Int32 = 2) { self.descriptor = descriptor }
    var news = LinkMonitor.News()

    func receive() -> LinkMonitor.News {
        defer { news = LinkMonitor.News() }
        return news
    }
}

/// Probes the daemon sent; answers a test queues (another node has the address).
final class FakeProber: AddressProber {
    let descriptor: Int32 = 3
    private(set) var solicited: [IPv6Address] = []
    var answers: [NeighborAnswer] = []

    func solicit(_ targets: [IPv6Address], on interface: String) throws(SystemError) { solicited += targets }

    func receive() throws(SystemError) -> [NeighborAnswer] {
        defer { answers = [] }
        return answers
    }
}

/// The host in memory (InMemoryHostNet), with what pvdd needs besides.
final class FakeHost: DaemonHost {
    let memory = InMemoryHostNet()
    var forwarding = ForwardingMode.automatic
    var solicitRouters: ((String) -> Void)?
    var willRemove: (([String]) -> Void)?
    /// Tunnels detached from VPN domains whose client ended, in order.
    private(set) var detached: [String] = []
    /// The monitors made inside domains, by domain.
    private(set) var monitors: [String: FakeLinks] = [:]
    private var nextMonitor: Int32 = 100

    func apply(_ spec: DomainSpec) throws(SystemError) { try memory.apply(spec) }

    func remove(_ names: [String]) throws(SystemError) {
        willRemove?(names)
        try memory.remove(names)
    }

    func domains() throws(SystemError) -> [DomainSpec] { try memory.domains() }
    func removeLeftovers(keeping: Set<String>) throws(SystemError) -> [String] { try memory.removeLeftovers(keeping: keeping) }
    func createBareNamespace(_ name: String) throws(SystemError) { try memory.createBareNamespace(name) }
    func deleteNamespace(_ name: String) throws(SystemError) { try memory.deleteNamespace(name) }

    func namespaceExists(_ name: String) -> Bool {
        memory.namespaceExists(name) || memory.applied.keys.contains { DomainNaming.namespace(ofDomain: $0) == name }
    }

    func createTunnelDomain(_ name: String) throws(SystemError) { try memory.createTunnelDomain(name) }
    func hasProcesses(inDomain name: String) -> Bool { memory.hasProcesses(inDomain: name) }

    func repair(_ spec: DomainSpec) throws(SystemError) -> [String] {
        let before = memory.applied[spec.name]
        try memory.apply(spec)
        return before == spec ? [] : ["apply \(spec.name)"]
    }

    func forwardDropChains() throws(SystemError) -> [ForwardDropChain] { [] }
    func ipv4Uplinks() throws(SystemError) -> Set<String> { [] }
    func restoreForwardFilter() throws(SystemError) {}
    func detachTunnel(from name: String) throws(SystemError) { detached.append(name) }
    func tunnel(in name: String) -> TunnelReadback? { nil }

    /// What the kernel would have: every applied spec's addresses (usable
    /// unless ``tentative``), routes and DNS servers.
    var tentative: Set<IPv6Address> = []
    func observe(namespace: String) throws(SystemError) -> ObservedDomain {
        guard let spec = memory.applied.values.first(where: { DomainNaming.namespace(ofDomain: $0.name) == namespace }) else {
            return ObservedDomain(namespaceExists: namespaceExists(namespace))
        }
        var routes = Set(spec.routes)
        if !spec.routers.isEmpty { routes.insert(IPv6Prefix("::/0")!) }
        return ObservedDomain(
            namespaceExists: true, addresses: Dictionary(uniqueKeysWithValues: spec.allAddresses.map { ($0, !tentative.contains($0)) }),
            routes: routes, nameservers: spec.dnsServers.map(\.description))
    }

    func monitor(ofDomain name: String) throws(SystemError) -> any LinkEventSource {
        nextMonitor += 1
        let monitor = FakeLinks(descriptor: nextMonitor)
        monitors[name] = monitor
        return monitor
    }
}

/// Records the clients the daemon starts; each gets the next pid.
final class FakeLauncher: ProcessLauncher {
    final class Record {
        var launches: [(program: String, arguments: [String], environment: [String: String])] = []
        var nextPid: pid_t = 40_000
    }
    let record = Record()

    func launch(
        _ program: String, _ arguments: [String], log: String, input: String, environment: [String: String]
    ) throws(SystemError) -> pid_t {
        record.launches.append((program, arguments, environment))
        record.nextPid += 1
        return record.nextPid
    }
}
