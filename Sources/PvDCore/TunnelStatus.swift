import PvDWire

/// What a VPN client says of its tunnel: OpenVPN through its management
/// interface, WireGuard through its latest handshake. A VPN domain's state
/// comes from here, never from the tunnel device being there.
public struct TunnelStatus: Equatable, Sendable {
    public enum Phase: String, Sendable {
        case connecting, connected, reconnecting
    }

    public var phase: Phase = .connecting
    /// The client's word for what it is doing (`wait`, `auth`, `ping-restart` …).
    public var detail = ""
    /// The server, as `address:port`.
    public var server = ""
    /// When the phase began, in Unix seconds (the client's clock).
    public var since: Int64?
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// The client's last fatal message, for a failure's reason.
    public var fatal: String?

    public init() {}

    /// The longest management line pvdd reads (OpenVPN's are far shorter).
    public static let maximumLineBytes = 4096

    /// Takes one line of OpenVPN's management interface: real-time
    /// `>STATE:`, `>BYTECOUNT:` and `>FATAL:` notifications, and the answer to
    /// the `state` command (the same fields without the prefix). Other lines
    /// change nothing.
    public mutating func apply(openVPNManagementLine line: String) {
        if line.hasPrefix(">STATE:") {
            applyState(line.dropFirst(">STATE:".count))
        } else if line.hasPrefix(">BYTECOUNT:") {
            let fields = line.dropFirst(">BYTECOUNT:".count).split(separator: ",")
            if fields.count == 2, let bytesIn = UInt64(fields[0]), let bytesOut = UInt64(fields[1]) {
                self.bytesIn = bytesIn
                self.bytesOut = bytesOut
            }
        } else if line.hasPrefix(">FATAL:") {
            fatal = String(line.dropFirst(">FATAL:".count).prefix(512))
        } else if let first = line.utf8.first, first >= 0x30, first <= 0x39 {
            applyState(Substring(line))
        }
    }

    /// `TIME,STATE,DETAIL,LOCAL_IPV4,REMOTE_ADDRESS,REMOTE_PORT,…`
    private mutating func applyState(_ text: Substring) {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 2, let time = Int64(fields[0]) else { return }
        let word = fields[1]
        let detail = fields.count > 2 ? fields[2].lowercased() : ""
        switch word {
        case "CONNECTED":
            phase = .connected
            server = fields.count > 5 && !fields[4].isEmpty ? "\(fields[4]):\(fields[5])" : server
            self.detail = ""
        case "RECONNECTING":
            phase = .reconnecting
            self.detail = detail
        case "EXITING":
            self.detail = "exiting (\(detail))"
        default:
            phase = .connecting
            self.detail = word.lowercased()
        }
        since = time
    }

    /// WireGuard has no connection, only handshakes: after one within
    /// three minutes (Reject-After-Time) the tunnel is connected; before the
    /// first it is connecting; after that it is reconnecting.
    public static let handshakeLifetime: Int64 = 180

    /// The status from `wg show DEV dump` (the interface's line, then a line
    /// per peer: key, preshared key, endpoint, allowed IPs, latest handshake,
    /// bytes received, bytes sent, keepalive), at Unix time `now`.
    public init(wireGuardStatus text: String, now: Int64) {
        var latest: Int64 = 0
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 8, let handshake = Int64(fields[4]), let received = UInt64(fields[5]), let sent = UInt64(fields[6]) else { continue }
            bytesIn += received
            bytesOut += sent
            if handshake > latest {
                latest = handshake
                server = fields[2] == "(none)" ? "" : String(fields[2])
            }
        }
        if latest == 0 {
            phase = .connecting
            detail = "no handshake yet"
        } else if now - latest <= TunnelStatus.handshakeLifetime {
            phase = .connected
            since = latest
            detail = "latest handshake"
        } else {
            phase = .reconnecting
            since = latest
            detail = "no handshake for \(now - latest) s"
        }
    }

    /// The status `pvdd vpn-hook` writes for a client without a management
    /// interface (OpenConnect): `PHASE UNIX-TIME SERVER`.
    public init(hookStatus text: String) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        guard words.count >= 2, let phase = Phase(rawValue: words[0]), let time = Int64(words[1]) else {
            detail = "starting"
            return
        }
        self.phase = phase
        since = time
        server = words.count > 2 ? words[2] : ""
        detail = phase == .reconnecting ? "the connection dropped" : ""
    }

    /// The line ``init(hookStatus:)`` reads.
    public static func hookStatusLine(_ phase: Phase, at time: Int64, server: String) -> String { "\(phase.rawValue) \(time) \(server)\n" }

    /// The sentence for the domain's StateReason.
    public var reason: String {
        let when = since.map { " since \(RFC3339.format($0))" } ?? ""
        let traffic = "\(TunnelStatus.bytes(bytesIn)) in, \(TunnelStatus.bytes(bytesOut)) out"
        let peer = server.isEmpty ? "the server" : server
        switch phase {
        case .connected where detail == "latest handshake":
            return "latest handshake with \(peer) at \(since.map(RFC3339.format) ?? "?"); \(traffic)"
        case .connected: return "connected to \(peer)\(when); \(traffic)"
        case .reconnecting: return "reconnecting (\(detail.isEmpty ? "the connection dropped" : detail))\(when); no way out meanwhile"
        case .connecting: return "connecting (\(detail.isEmpty ? "starting" : detail))\(when)"
        }
    }

    static func bytes(_ count: UInt64) -> String {
        count < 10_000 ? "\(count) B" : count < 10_000_000 ? "\(count / 1000) kB" : "\(count / 1_000_000) MB"
    }
}
