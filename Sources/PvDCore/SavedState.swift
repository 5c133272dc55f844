import PvDWire

/// pvdd's state file (`/run/pvd/state.json`) read back. The file is pvdd's
/// own and root's (the daemon checks that before reading it), but nothing in
/// it is trusted: every entry is checked as D-Bus input is, and a bad entry is
/// dropped with its path and reason. So no state file can crash pvdd, name a
/// path outside pvd's directories, or point it at a process it did not start.
public struct SavedState: Sendable {
    /// A VPN domain: its name, its client's configuration and the client's pid.
    public struct VPN: Equatable, Sendable {
        public var name: String
        public var client: VPNClient
        public var config: String
        public var options: [String: String] = [:]
        public var connectWithin: UInt32?
        public var pid: Int32?

        public init(name: String, client: VPNClient, config: String, options: [String: String] = [:], connectWithin: UInt32? = nil, pid: Int32? = nil) {
            self.name = name
            self.client = client
            self.config = config
            self.options = options
            self.connectWithin = connectWithin
            self.pid = pid
        }
    }

    /// A state file is small: domains are bounded, and so is this.
    public static let maximumBytes = 16 << 20
    /// Linux's largest pid (PID_MAX_LIMIT).
    public static let maximumPID: Int64 = 4_194_304

    public var table: DomainTable
    public var statics: [DomainSpec] = []
    public var namespaces: [String] = []
    public var vpns: [VPN] = []
    /// The names configuration files declared when the state was saved.
    public var fromFiles: [String] = []
    /// Learnt domains that lingered (programs inside) when the state was saved.
    public var lingering: [(name: String, key: PvDKey, since: Seconds)] = []
    /// The checkpoint pending when the state was saved (``Checkpoint``).
    public var checkpoint: Checkpoint?
    /// The number the last checkpoint had (numbers are not used twice).
    public var lastCheckpoint: UInt32 = 0
    /// What was dropped, each with where and why.
    public var dropped: [String] = []

    /// Reads the file's bytes into `empty` (the table the settings make:
    /// limits, secret, aliases); a document that cannot be read at all gives
    /// the empty table and one reason.
    public init(bytes: [UInt8], empty: DomainTable) {
        table = empty
        guard bytes.count <= SavedState.maximumBytes else {
            dropped.append("the file has \(bytes.count) bytes; at most \(SavedState.maximumBytes) are read")
            return
        }
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            dropped.append("not JSON: \(error)")
            return
        }
        var names: Set<String> = []
        func claim(_ name: String, at path: String) -> Bool {
            do { try DomainNaming.validateChosen(name) } catch {
                dropped.append("\(path): \(error)")
                return false
            }
            guard names.insert(name).inserted else {
                dropped.append("\(path): \(name) is named twice")
                return false
            }
            return true
        }
        for (index, item) in SavedState.items(document["static_domains"]).enumerated() {
            let path = "static_domains[\(index)]"
            do {
                let spec = try DomainSpec(json: item)
                if claim(spec.name, at: path) { statics.append(spec) }
            } catch {
                dropped.append(error.path.isEmpty ? "\(path): \(error.problem)" : "\(path).\(error)")
            }
        }
        for (index, item) in SavedState.items(document["namespaces"]).enumerated() {
            guard case .string(let name) = item else {
                dropped.append("namespaces[\(index)]: not a string")
                continue
            }
            if claim(name, at: "namespaces[\(index)]") { namespaces.append(name) }
        }
        for (index, item) in SavedState.items(document["vpn_domains"]).enumerated() {
            let path = "vpn_domains[\(index)]"
            let clients = VPNClient.allCases.filter { item[$0.rawValue] != nil }
            var config = ""
            var options: [String: String] = [:]
            if clients == [.openConnect], let value = item[VPNClient.openConnect.rawValue] {
                guard let read = try? OpenConnectSettings.read(value, at: path) else {
                    dropped.append("\(path).openconnect: not OpenConnect settings")
                    continue
                }
                (config, options) = (read.server, read.options)
            } else if clients.count == 1, case .string(let text)? = item[clients[0].rawValue] {
                config = text
            }
            guard case .string(let name) = item["name"], clients.count == 1, let client = clients.first, !config.isEmpty else {
                dropped.append("\(path): needs \"name\" and one client (\(VPNClient.allCases.map(\.rawValue).joined(separator: ", "))) as strings")
                continue
            }
            guard client == .openConnect || (config.hasPrefix("/") && !config.utf8.contains(0) && config.utf8.count <= 4096) else {
                dropped.append("\(path).\(client.rawValue): not an absolute path")
                continue
            }
            var pid: Int32?
            switch item["pid"] {
            case nil, .null?: break
            case .integer(let number)? where (2...SavedState.maximumPID).contains(number): pid = Int32(number)
            default:
                dropped.append("\(path).pid: not a process id (2 to \(SavedState.maximumPID))")
                continue
            }
            var connectWithin: UInt32?
            if case .integer(let seconds)? = item["connect_within"], DeclarativeState.connectWithinRange.contains(UInt32(clamping: seconds)) {
                connectWithin = UInt32(seconds)
            }
            if claim(name, at: path) { vpns.append(VPN(name: name, client: client, config: config, options: options, connectWithin: connectWithin, pid: pid)) }
        }
        for case .string(let name) in SavedState.items(document["declared_in_files"]) where names.contains(name) {
            fromFiles.append(name)
        }
        for (index, item) in SavedState.items(document["lingering"]).enumerated() {
            let path = "lingering[\(index)]"
            let reader = StateReader(item, path: path)
            do throws(StateError) {
                let name = try reader.string("name")
                do { try DomainNaming.validate(name) } catch { throw StateError("\(path).name: \(error)") }
                guard !names.contains(name) else { throw StateError("\(path): \(name) is named twice") }
                guard case .number(let since)? = item["since"], since.isFinite else { throw StateError("\(path).since: not a time") }
                lingering.append((name, try reader.pvdKey(), since))
                names.insert(name)
            } catch {
                dropped.append(error.description)
            }
        }
        if let value = document["checkpoint"], value != .null {
            do { checkpoint = try Checkpoint(json: value) } catch { dropped.append("\(error); it cannot be rolled back") }
        }
        if case .integer(let number)? = document["last_checkpoint"] { lastCheckpoint = UInt32(clamping: number) }
        lastCheckpoint = max(lastCheckpoint, checkpoint?.number ?? 0)
        do {
            var reasons: [String] = []
            table = try DomainTable(
                state: document, limits: empty.limits, secret: empty.secret, gracePeriod: empty.gracePeriod,
                aliases: empty.aliases, attachments: empty.attachments, addressProbeTime: empty.addressProbeTime,
                reservedNames: names
            ) { reasons.append($0.description) }
            dropped += reasons
        } catch {
            dropped.append("learnt domains: \(error)")
        }
    }

    /// The items of a list that may be absent; anything else counts as empty.
    private static func items(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }
}
