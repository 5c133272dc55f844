import BusWire
import Glibc
import LinuxSystem
import PvDCore
import PvDWire
import Systemd
import UserDatabase

/// org.pvd1's OpenSocket and ResolveName: a socket made inside a domain's
/// namespace and handed over, and a name asked of the domain's own DNS
/// servers from inside it. The checks and budgets are PvDCore's
/// (``PvDAwareCalls``, ``CallerBudget``); a resolution waits on the loop,
/// never holds it.
final class PvDAwareService {
    private let loop: EventLoop
    var budget = CallerBudget()
    private var resolutions: [ObjectIdentifier: NameResolution] = [:]

    init(loop: EventLoop) { self.loop = loop }

    /// Counts what the calling process got, for `pvd ps`.
    func record(_ caller: BusCaller, uid: uid_t, domain: String, socket: Bool, at now: Double) {
        guard let pid = caller.pid(), let command = budget.usage[pid]?.command ?? ProcessTable.commandLine(of: pid) else { return }
        budget.record(pid: pid, uid: uid, command: command, domain: domain, socket: socket, at: now)
    }

    /// `pvd ps`'s lines for the processes that used OpenSocket or ResolveName in `domains`.
    func callers(in domains: [String]) -> [(domain: String, pid: Int32, uid: uid_t, user: String, command: String)] {
        budget.forget { kill($0, 0) == 0 || errno == EPERM }
        let wanted = Set(domains)
        return budget.usage.sorted { $0.key < $1.key }.flatMap { pid, usage in
            Set(usage.sockets.keys).union(usage.names.keys).intersection(wanted).sorted().map { domain in
                let counts = "\(usage.sockets[domain] ?? 0) sockets, \(usage.names[domain] ?? 0) names"
                return (domain, pid, usage.uid, UserAccount(uid: usage.uid)?.name ?? String(usage.uid), "\(usage.command) (org.pvd1: \(counts))")
            }
        }
    }

    /// A new socket in `namespace`, owned by `uid` as if the caller had made
    /// it: SOCK_CLOEXEC, and SOCK_NONBLOCK if asked.
    func openSocket(in namespace: String, _ request: PvDAwareCalls.SocketRequest, uid: uid_t) throws(SystemError) -> Int32 {
        try Namespaces.socket(inNamed: namespace, family: request.family.rawValue, type: request.type, protocol: request.socketProtocol, owner: uid)
    }

    /// Starts resolving `name` in the domain with its search list; `reply`
    /// gets `a(iay)` or an error. `name` was checked (``PvDAwareCalls/candidates(for:search:)``).
    func resolve(
        _ name: String, types: [DNSMessage.RecordType], domain: String, namespace: String,
        uid: uid_t, reply: BusPendingReply
    ) throws(BusError) {
        let configuration: (servers: [String], search: [DomainName])
        do {
            let bytes = try HostFiles.readOwnFile(Paths.files(ofNamespace: namespace) + "/resolv.conf", limit: 64 * 1024)
            configuration = PvDAwareCalls.resolverConfiguration(String(decoding: bytes ?? [], as: UTF8.self))
        } catch {
            throw BusError(PvDBusAPI.ErrorName.failed, "domain \(domain)'s resolv.conf: \(error)")
        }
        let candidates: [DomainName]
        do { candidates = try PvDAwareCalls.candidates(for: name, search: configuration.search) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
        }
        let resolution: NameResolution
        do {
            resolution = try NameResolution(
                candidates: candidates, types: types, servers: configuration.servers, domain: domain, namespace: namespace, reply: reply)
        } catch {
            throw BusError(PvDBusAPI.ErrorName.failed, "\(error)")
        }
        let id = ObjectIdentifier(resolution)
        resolution.finished = { [unowned self] in
            self.resolutions[id] = nil
            self.budget.resolved(uid: uid)
        }
        resolutions[id] = resolution
        resolution.start(on: loop)
    }
}

/// One ResolveName: A and/or AAAA queries for each candidate name, to each
/// server of the domain's resolv.conf in turn, from a UDP socket made inside
/// the domain. A server that does not answer within ``attemptSeconds`` is
/// left for the next (the first again after the last); the call fails after
/// ``deadlineSeconds`` in all.
/// A truncated answer is not retried over TCP: the next server is asked.
private final class NameResolution {
    static let attemptSeconds = 1.5
    static let deadlineSeconds = 5.0

    let candidates: [DomainName]
    let types: [DNSMessage.RecordType]
    let domain: String
    private var reply: BusPendingReply?
    private var socket: DatagramSocket?
    private weak var loop: EventLoop?
    private var watch: ObjectIdentifier?
    private var timer: ObjectIdentifier?
    private var deadline = 0.0
    private var candidate = 0
    private var server = 0
    /// The queries of this attempt still unanswered, by id.
    private var pending: [UInt16: DNSMessage.RecordType] = [:]
    private var found: [(DNSMessage.RecordType, [UInt8])] = []
    private var failedHere = false
    var finished: (() -> Void)?

    init(
        candidates: [DomainName], types: [DNSMessage.RecordType], servers: [String], domain: String, namespace: String,
        reply: BusPendingReply
    ) throws(SystemError) {
        self.candidates = candidates
        self.types = types
        self.domain = domain
        self.reply = reply
        socket = try DatagramSocket(inNamespace: namespace, peers: servers, port: 53)
    }

    func start(on loop: EventLoop) {
        self.loop = loop
        guard let socket else { return }
        guard socket.peerCount > 0 else { return fail("domain \(domain) has no DNS server (its resolv.conf names none pvd can use)") }
        deadline = loop.now + NameResolution.deadlineSeconds
        do {
            watch = try loop.watchUntilStopped(socket.descriptor, name: "a DNS answer for domain \(domain)") { [unowned self] in self.receive() }
        } catch {
            return fail("\(error)")
        }
        ask()
    }

    /// Sends this attempt's queries (candidate × types, to one server) and sets its timer.
    private func ask() {
        guard let loop, let socket else { return }
        pending = [:]
        failedHere = false
        for type in types {
            var id = UInt16.random(in: 0...UInt16.max)
            while pending[id] != nil { id &+= 1 }
            pending[id] = type
            socket.send(DNSMessage.query(id: id, name: candidates[candidate], type: type), toPeer: server)
        }
        if let timer { loop.stopWatching(timer) }
        do {
            timer = try loop.addTimer(at: min(deadline, loop.now + NameResolution.attemptSeconds), name: "a DNS query's timeout") {
                [unowned self] in
                self.timer = nil
                self.nextServer()
            }
        } catch {
            fail("\(error)")
        }
    }

    /// Reads every datagram waiting; one from elsewhere, or not an answer to a pending query, is dropped.
    private func receive() {
        while reply != nil, let (bytes, peer) = socket?.receive() {
            guard peer == server, bytes.count >= 2 else { continue }
            let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            guard let type = pending[id], let answer = try? DNSMessage.answer(bytes, id: id, name: candidates[candidate], type: type) else { continue }
            pending[id] = nil
            found += answer.addresses.map { (type, $0) }
            if !answer.nameHasNoAddress && !answer.succeeded { failedHere = true }
            if pending.isEmpty { return concludeAttempt() }
        }
    }

    /// Every query of the attempt answered: addresses end the call; none, the next candidate name; a server failure, the next server.
    private func concludeAttempt() {
        if !found.isEmpty { return succeed() }
        if failedHere { return nextServer() }
        candidate += 1
        guard candidate < candidates.count else {
            return fail("\(candidates.last?.description ?? "the name") has no address in domain \(domain)")
        }
        ask()
    }

    /// The next server, round the list again until the deadline (a lost datagram is asked again).
    private func nextServer() {
        guard let loop, let socket, loop.now < deadline else {
            return fail("no DNS server of domain \(domain) answered within \(Int(NameResolution.deadlineSeconds)) s")
        }
        server = (server + 1) % socket.peerCount
        ask()
    }

    private func succeed() {
        let values = found.map { BusValue.structure([.int32($0.0 == .a ? AF_INET : AF_INET6), .array(elementSignature: "y", $0.1.map(BusValue.byte))]) }
        reply?.send([.array(elementSignature: "(iay)", values)])
        end()
    }

    private func fail(_ message: String) {
        reply?.fail(BusError(PvDBusAPI.ErrorName.failed, message))
        end()
    }

    /// Answered: stops watching and forgets it (``finished``), this object kept alive to the end.
    private func end() {
        withExtendedLifetime(self) {
            reply = nil
            if let watch { loop?.stopWatching(watch) }
            if let timer { loop?.stopWatching(timer) }
            watch = nil
            timer = nil
            socket = nil
            let finished = finished
            self.finished = nil
            finished?()
        }
    }
}
