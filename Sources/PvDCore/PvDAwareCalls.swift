import PvDWire

/// What an application may ask of pvdd directly (org.pvd1's OpenSocket and
/// ResolveName): the checks of each request and the budget of each caller.
/// Pure: pvdd makes the socket and asks the DNS servers.
public enum PvDAwareCalls {
    /// Linux's numbers, which the bus carries as they are.
    public enum Family: Int32, Sendable {
        case unspecified = 0
        case ipv4 = 2
        case ipv6 = 10
    }

    /// A socket pvdd may make for a caller: IPv4 or IPv6, TCP or UDP. Raw,
    /// packet and ICMP sockets are refused: pvdd would make them with
    /// capabilities the caller does not have.
    public struct SocketRequest: Equatable, Sendable {
        public let family: Family
        /// SOCK_STREAM or SOCK_DGRAM, with SOCK_NONBLOCK if asked; SOCK_CLOEXEC always.
        public let type: Int32
        public let socketProtocol: Int32

        static let stream: Int32 = 1
        static let datagram: Int32 = 2
        static let nonBlocking: Int32 = 0o4000
        static let closeOnExec: Int32 = 0o2_000_000

        public init(family: Int32, type: Int32, protocol socketProtocol: Int32) throws(PvDAwareCallError) {
            guard let known = Family(rawValue: family), known != .unspecified else {
                throw .invalid("family \(family): only AF_INET (2) and AF_INET6 (10)")
            }
            let base = type & ~(SocketRequest.nonBlocking | SocketRequest.closeOnExec)
            let wanted: Int32
            switch base {
            case SocketRequest.stream: wanted = 6
            case SocketRequest.datagram: wanted = 17
            default: throw .invalid("type \(type): only SOCK_STREAM (1) and SOCK_DGRAM (2)")
            }
            guard socketProtocol == 0 || socketProtocol == wanted else {
                throw .invalid("protocol \(socketProtocol): only 0 or \(wanted == 6 ? "IPPROTO_TCP (6)" : "IPPROTO_UDP (17)") with type \(base)")
            }
            self.family = known
            self.type = base | (type & SocketRequest.nonBlocking) | SocketRequest.closeOnExec
            self.socketProtocol = socketProtocol
        }
    }

    /// The record types a ResolveName family asks for: AF_UNSPEC both, IPv6 first.
    public static func recordTypes(family: Int32) throws(PvDAwareCallError) -> [DNSMessage.RecordType] {
        switch Family(rawValue: family) {
        case .unspecified: [.aaaa, .a]
        case .ipv4: [.a]
        case .ipv6: [.aaaa]
        case nil: throw .invalid("family \(family): only AF_UNSPEC (0), AF_INET (2) and AF_INET6 (10)")
        }
    }

    /// The names to ask, in order, for `text` with a domain's search list, as
    /// glibc's resolver does with `ndots:1`: a name with a dot is asked as it
    /// is first, a single label with each search domain first; a name ending
    /// in a dot only as it is.
    public static func candidates(for text: String, search: [DomainName]) throws(PvDAwareCallError) -> [DomainName] {
        guard !text.isEmpty, text.utf8.count <= 253 + 1 else { throw .invalid("the name must have 1 to 253 characters") }
        let name: DomainName
        do { name = try DomainName(text) } catch { throw .invalid("\(text) is not a domain name: \(error)") }
        guard !name.isRoot else { throw .invalid("the root is not a name to resolve") }
        if text.hasSuffix(".") { return [name] }
        var searched: [DomainName] = []
        for domain in search.prefix(maximumSearchDomains) {
            if let joined = try? DomainName(name.description + "." + domain.description) { searched.append(joined) }
        }
        return name.labels.count > 1 ? [name] + searched : searched + [name]
    }

    /// Search domains tried at most (glibc's limit).
    public static let maximumSearchDomains = 6

    /// The DNS servers and search list of a resolv.conf (`nameserver`,
    /// `search`, `domain`); what is not understood is skipped, as glibc does.
    public static func resolverConfiguration(_ text: String) -> (servers: [String], search: [DomainName]) {
        var servers: [String] = []
        var search: [DomainName] = []
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            switch keyword {
            case "nameserver" where words.count >= 2 && servers.count < 3: servers.append(String(words[1]))
            case "search", "domain": search = words.dropFirst().compactMap { try? DomainName($0) }
            default: continue
            }
        }
        return (servers, search)
    }
}

/// A request pvdd refuses, with what a caller can act on.
public enum PvDAwareCallError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)
    case busy(String)

    public var description: String {
        switch self {
        case .invalid(let text), .busy(let text): text
        }
    }
}

/// Each caller's share of OpenSocket and ResolveName: a rate per user other
/// than root (a token bucket), names resolving at once per user and in all,
/// and what each process got, for `pvd ps`. The clock is the caller's (seconds).
public struct CallerBudget: Sendable {
    /// Calls per second a user may make, on average, and at once.
    public var rate: Double = 500
    public var burst: Double = 1000
    /// Names one user, and all users, may have resolving at once.
    public var resolvingPerUser = 16
    public var resolvingInAll = 128
    /// Processes remembered for `pvd ps`; the least recently seen goes first.
    public static let rememberedProcesses = 256

    /// What a process got: sockets made, names resolved, per domain.
    public struct Usage: Equatable, Sendable {
        public var uid: UInt32
        public var command: String
        public var sockets: [String: Int] = [:]
        public var names: [String: Int] = [:]
        public var lastSeen: Double
    }

    private var tokens: [UInt32: (count: Double, at: Double)] = [:]
    private var resolving: [UInt32: Int] = [:]
    public private(set) var usage: [Int32: Usage] = [:]

    public init() {}

    /// Takes one call from `uid`'s bucket; `resolves`: the call starts a resolution.
    public mutating func admit(uid: UInt32, resolves: Bool, at now: Double) throws(PvDAwareCallError) {
        if resolves {
            guard resolving.values.reduce(0, +) < resolvingInAll else { throw .busy("pvdd is resolving \(resolvingInAll) names; try again") }
            guard resolving[uid, default: 0] < resolvingPerUser else {
                throw .busy("uid \(uid) has \(resolvingPerUser) names resolving; wait for one")
            }
        }
        if uid == 0 {
            if resolves { resolving[uid, default: 0] += 1 }
            return
        }
        let bucket = tokens[uid].map { (min(burst, $0.count + (now - $0.at) * rate), now) } ?? (burst, now)
        guard bucket.0 >= 1 else {
            tokens[uid] = bucket
            throw .busy("uid \(uid) makes more than \(Int(rate)) calls a second; slow down")
        }
        tokens[uid] = (bucket.0 - 1, now)
        if resolves { resolving[uid, default: 0] += 1 }
        // Full buckets need not be remembered: a user who stopped costs nothing.
        if tokens.count > CallerBudget.rememberedProcesses {
            tokens = tokens.filter { min(burst, $0.value.count + (now - $0.value.at) * rate) < burst }
        }
    }

    /// A resolution `admit(uid:resolves: true …)` allowed has ended.
    public mutating func resolved(uid: UInt32) {
        guard let count = resolving[uid] else { return }
        resolving[uid] = count > 1 ? count - 1 : nil
    }

    /// Counts what process `pid` got in `domain`.
    public mutating func record(pid: Int32, uid: UInt32, command: String, domain: String, socket: Bool, at now: Double) {
        var entry = usage[pid].flatMap { $0.uid == uid && $0.command == command ? $0 : nil } ?? Usage(uid: uid, command: command, lastSeen: now)
        if socket { entry.sockets[domain, default: 0] += 1 } else { entry.names[domain, default: 0] += 1 }
        entry.lastSeen = now
        usage[pid] = entry
        if usage.count > CallerBudget.rememberedProcesses, let oldest = usage.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            usage[oldest] = nil
        }
    }

    /// Forgets the processes `isRunning` says are gone.
    public mutating func forget(unless isRunning: (Int32) -> Bool) {
        usage = usage.filter { isRunning($0.key) }
    }
}
