import BusWire
import Glibc
import HostNet
import LinuxSystem
import NDP
import PvDCore
import PvDWire
import Systemd

/// The event loop as the daemon uses it: the clock every decision reads,
/// one timer, descriptors, children, signals. sd-event's ``EventLoop`` on a
/// real host; a fake loop with a hand-moved clock in pvdd's unit tests.
protocol DaemonLoop: AnyObject {
    /// Seconds on CLOCK_BOOTTIME, as of the current loop iteration.
    var now: Double { get }
    /// Calls `handler` when `descriptor` is readable; `name` says what it serves in the log of a long turn.
    func watch(_ descriptor: Int32, name: String, _ handler: @escaping () -> Void) throws(SystemError)
    func watchUntilStopped(_ descriptor: Int32, name: String, _ handler: @escaping () -> Void) throws(SystemError) -> ObjectIdentifier
    func stopWatching(_ id: ObjectIdentifier)
    func onSignals(_ signals: [Int32], _ handler: @escaping (Int32) -> Void) throws(SystemError)
    /// Arms the one timer for `time` (nil: disarms it), replacing the last.
    func setTimer(at time: Double?, _ handler: @escaping () -> Void) throws(SystemError)
    /// A timer of its own that fires once at `time`; ``stopWatching(_:)`` cancels it.
    func addTimer(at time: Double, name: String, _ handler: @escaping () -> Void) throws(SystemError) -> ObjectIdentifier
    func onExit(of pid: pid_t, _ handler: @escaping (Int32) -> Void) throws(SystemError)
    func onExit(ofAdopted pid: pid_t, _ handler: @escaping () -> Void) throws(SystemError) -> Bool
    func run() throws(SystemError) -> Int32
    func exit(_ code: Int32)
}

extension EventLoop: DaemonLoop {}

/// Where Router Advertisements come from and solicitations go (libndp).
protocol RouterAdvertisementSource: AnyObject {
    var descriptor: Int32 { get }
    func receive() throws(SystemError) -> [ReceivedRouterAdvertisement]
    func solicit(on interface: String) throws(SystemError)
}

extension RouterAdvertisementListener: RouterAdvertisementSource {}

/// Link, address, route and netconf notifications of one namespace.
protocol LinkEventSource: AnyObject {
    var descriptor: Int32 { get }
    func receive() -> LinkMonitor.News
}

extension LinkMonitor: LinkEventSource {}

/// Duplicate address detection: solicitations out, other nodes' answers in.
protocol AddressProber: AnyObject {
    var descriptor: Int32 { get }
    func solicit(_ targets: [IPv6Address], on interface: String) throws(SystemError)
    func receive() throws(SystemError) -> [NeighborAnswer]
}

extension NeighborProber: AddressProber {}

/// The host as the daemon changes and reads it: HostNetworking and what
/// pvdd needs besides (repairs, firewalls, IPv4 uplinks, tunnels).
protocol DaemonHost: HostNetworking, AnyObject {
    var forwarding: ForwardingMode { get set }
    var solicitRouters: ((String) -> Void)? { get set }
    var willRemove: (([String]) -> Void)? { get set }
    /// Applies `spec`, returning what it had to put back.
    func repair(_ spec: DomainSpec) throws(SystemError) -> [String]
    func forwardDropChains() throws(SystemError) -> [ForwardDropChain]
    func ipv4Uplinks() throws(SystemError) -> Set<String>
    func restoreForwardFilter() throws(SystemError)
    func detachTunnel(from name: String) throws(SystemError)
    func tunnel(in name: String) -> TunnelReadback?
    /// A monitor of the domain's own namespace.
    func monitor(ofDomain name: String) throws(SystemError) -> any LinkEventSource
    /// What the kernel has in a namespace, for a verification.
    func observe(namespace: String) throws(SystemError) -> ObservedDomain
}

extension KernelHostNet: DaemonHost {
    func monitor(ofDomain name: String) throws(SystemError) -> any LinkEventSource {
        try KernelHostNet.monitor(ofDomain: name)
    }
}

/// Starts VPN clients, their output appended to a log.
protocol ProcessLauncher {
    /// Starts `program`; its pid.
    func launch(
        _ program: String, _ arguments: [String], log: String, input: String, environment: [String: String]
    ) throws(SystemError) -> pid_t
}

extension ProcessLauncher {
    func spawnLogging(
        _ program: String, _ arguments: [String], log: String, input: String = "/dev/null", environment: [String: String] = [:]
    ) throws(SystemError) -> pid_t {
        try launch(program, arguments, log: log, input: input, environment: environment)
    }
}

/// Children of pvdd, made by LinuxSystem.
struct ChildProcessLauncher: ProcessLauncher {
    func launch(
        _ program: String, _ arguments: [String], log: String, input: String, environment: [String: String]
    ) throws(SystemError) -> pid_t {
        try ChildProcess.spawnLogging(program, arguments, log: log, input: input, environment: environment)
    }
}

/// Everything the daemon talks to, made apart from it so that its decisions
/// are tested with fakes and a fake clock (Tests/pvddTests).
struct DaemonParts {
    var loop: any DaemonLoop
    var listener: any RouterAdvertisementSource
    var links: any LinkEventSource
    /// Nil when the settings turn duplicate address detection off.
    var prober: (any AddressProber)?
    var host: any DaemonHost
    var launcher: any ProcessLauncher
    /// The D-Bus service, made once the daemon is ready; nil: none.
    var connectBus: ((Runner) throws(BusError) -> DaemonBus)?

    /// The real ones: sd-event, libndp, netlink, the kernel, the system bus.
    static func kernel(_ settings: DaemonConfiguration) throws(SystemError) -> DaemonParts {
        EventLoop.blockChildSignal()  // before any thread starts, so that every thread has it blocked
        let loop = try EventLoop()
        loop.onLongTurn = reportLongTurn
        let host = try KernelHostNet()
        host.forwarding = settings.forwarding
        return DaemonParts(
            loop: loop, listener: try RouterAdvertisementListener(), links: try LinkMonitor(),
            prober: settings.duplicateAddressDetection ? try NeighborProber() : nil, host: host,
            launcher: ChildProcessLauncher(),
            connectBus: { runner throws(BusError) in try DaemonBus(runner: runner, loop: loop) })
    }
}
