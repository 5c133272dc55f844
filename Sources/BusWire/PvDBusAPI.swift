/// pvd's D-Bus API, `org.pvd1`: the bus name, object paths, interfaces,
/// their methods, properties and signals, and the errors — one contract for
/// the daemon, the command line and the exec path that speaks the wire format
/// itself. Every name is typed here; no other file spells one.
public enum PvDBusAPI {
    public static let busName = "org.pvd1"
    public static let managerPath = "/org/pvd1"
    public static let domainPrefix = "/org/pvd1/domain"
    public static let managerInterface = "org.pvd1.Manager"
    public static let domainInterface = "org.pvd1.Domain"
    public static let checkpointPrefix = "/org/pvd1/checkpoint"
    public static let checkpointInterface = "org.pvd1.Checkpoint"

    /// The object path of checkpoint `number`.
    public static func path(ofCheckpoint number: UInt32) -> String { "\(checkpointPrefix)/\(number)" }

    /// The number in a checkpoint's object path.
    public static func checkpointNumber(ofPath path: String) -> UInt32? {
        guard path.hasPrefix(checkpointPrefix + "/") else { return nil }
        let digits = path.dropFirst(checkpointPrefix.count + 1)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy(\.isASCII), !digits.hasPrefix("0") else { return nil }
        return UInt32(digits)
    }

    /// The object path of a domain: its name with every byte that is not a
    /// letter or digit written `_xx` (hex), as systemd escapes path labels.
    public static func path(ofDomain name: String) -> String {
        guard !name.isEmpty else { return domainPrefix + "/_" }
        var label = ""
        for byte in name.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) {
                label.append(Character(UnicodeScalar(byte)))
            } else {
                let hex = String(byte, radix: 16)
                label += "_" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return domainPrefix + "/" + label
    }

    /// The domain name in an object path made by ``path(ofDomain:)``.
    public static func domainName(ofPath path: String) -> String? {
        guard path.hasPrefix(domainPrefix + "/") else { return nil }
        let label = Array(path.utf8.dropFirst(domainPrefix.utf8.count + 1))
        guard !label.isEmpty, !label.contains(UInt8(ascii: "/")) else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < label.count {
            if label[index] == UInt8(ascii: "_") {
                guard index + 2 < label.count, let byte = UInt8(String(decoding: label[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) else {
                    return nil
                }
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(label[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The manager's methods (`org.pvd1.Manager`).
    public enum Method: String, CaseIterable, Sendable {
        case listDomains = "ListDomains"
        case getDomain = "GetDomain"
        case addDomain = "AddDomain"
        case removeDomain = "RemoveDomain"
        case applyState = "ApplyState"
        case getState = "GetState"
        case openDomain = "OpenDomain"
        case addNetworkNamespace = "AddNetworkNamespace"
        case reload = "Reload"
        case listPrograms = "ListPrograms"
        case openSocket = "OpenSocket"
        case resolveName = "ResolveName"
        case chooseDomain = "ChooseDomain"
        case checkpointCreate = "CheckpointCreate"
        case checkpointRollback = "CheckpointRollback"
        case checkpointDestroy = "CheckpointDestroy"
        case listCheckpoints = "ListCheckpoints"
        case verify = "Verify"
        case stageState = "StageState"
        case stageRemove = "StageRemove"
        case getStagedState = "GetStagedState"
        case commitStagedState = "CommitStagedState"
        case discardStagedState = "DiscardStagedState"

        /// The polkit action a caller other than root needs: the methods
        /// that change domains, and ApplyState, which parses a caller's document.
        public var action: String? {
            switch self {
            case .addDomain, .removeDomain, .applyState, .addNetworkNamespace, .reload, .checkpointCreate, .checkpointRollback,
                .checkpointDestroy, .verify, .stageState, .stageRemove, .commitStagedState, .discardStagedState:
                PvDBusAPI.manageDomainsAction
            case .listDomains, .getDomain, .getState, .openDomain, .listPrograms, .openSocket, .resolveName, .chooseDomain,
                .listCheckpoints, .getStagedState:
                nil
            }
        }
    }

    /// polkit's action for changing domains (scripts/system/org.pvd1.policy).
    public static let manageDomainsAction = "org.pvd1.manage-domains"

    /// The manager's signals.
    public enum Signal: String, CaseIterable, Sendable {
        case domainAdded = "DomainAdded"
        case domainRemoved = "DomainRemoved"
        /// A checkpoint was rolled back: by CheckpointRollback, a failed
        /// verification or its timeout; why, and what the rollback changed.
        case checkpointRolledBack = "CheckpointRolledBack"
        /// A checkpoint was confirmed (CheckpointDestroy): its changes stay.
        case checkpointConfirmed = "CheckpointConfirmed"

        public var arguments: [(String, String)] {
            switch self {
            case .domainAdded, .domainRemoved: [("name", "s"), ("domain", "o")]
            case .checkpointRolledBack: [("checkpoint", "o"), ("reason", "s"), ("changes", "as")]
            case .checkpointConfirmed: [("checkpoint", "o")]
            }
        }
    }

    /// A checkpoint object's properties (`org.pvd1.Checkpoint`).
    public enum CheckpointProperty: String, CaseIterable, Sendable {
        /// When it was made and when it is rolled back, seconds since the epoch.
        case created = "Created"
        case expires = "Expires"
        case timeout = "Timeout"
        /// The declared state it brings back (YAML).
        case declaredState = "DeclaredState"
        /// The drop-in files it brings back.
        case dropIns = "DropIns"

        public var signature: String {
            switch self {
            case .created, .expires: "t"
            case .timeout: "u"
            case .declaredState: "s"
            case .dropIns: "as"
            }
        }
    }

    /// A domain object's properties (`org.pvd1.Domain`), with their signatures.
    public enum Property: String, CaseIterable, Sendable {
        case name = "Name"
        case kind = "Kind"
        case pvdID = "PvDId"
        case sequence = "Sequence"
        case flags = "Flags"
        case uplinks = "Uplinks"
        case addresses = "Addresses"
        case routes = "Routes"
        case dnsServers = "DnsServers"
        case searchDomains = "SearchDomains"
        case routers = "Routers"
        case lifetime = "Lifetime"
        case state = "State"
        case stateReason = "StateReason"
        case origin = "Origin"
        case ipv4 = "IPv4"
        case additionalInfo = "AdditionalInfo"
        case namespacePath = "NamespacePath"
        case claims = "Claims"
        case environment = "Environment"
        case health = "Health"

        /// The key the command line's JSON uses (snake_case, as everywhere in pvd's JSON).
        public var jsonKey: String {
            switch self {
            case .pvdID: "pvd_id"
            case .dnsServers: "dns_servers"
            case .searchDomains: "search_domains"
            case .lifetime: "lifetime_seconds"
            case .stateReason: "state_reason"
            case .ipv4: "ipv4"
            case .additionalInfo: "additional_info"
            case .namespacePath: "namespace_path"
            default: rawValue.lowercased()
            }
        }

        /// The label people read in `pvd show` and `pvd status`.
        public var label: String {
            switch self {
            case .pvdID: "PvD ID"
            case .dnsServers: "DNS servers"
            case .searchDomains: "Search"
            case .stateReason: "Why"
            case .origin: "From"
            case .additionalInfo: "Additional info"
            case .namespacePath: "Namespace"
            case .claims: "Claims"
            case .environment: "Environment"
            case .health: "Health"
            default: rawValue
            }
        }

        public var signature: String {
            switch self {
            case .sequence: "q"
            case .flags: "a{sb}"
            case .uplinks, .addresses, .routes, .dnsServers, .searchDomains, .routers, .claims, .environment: "as"
            case .lifetime: "t"
            case .ipv4: "b"
            case .health: "a(sbsx)"
            default: "s"
            }
        }
    }

    /// The manager interface as sd-bus serves it. Its introspection data is
    /// kept in `scripts/system/org.pvd1.xml` and compared with the running daemon's.
    public static let manager = BusInterface(
        managerInterface,
        methods: Method.allCases.map { method in
            switch method {
            case .listDomains: .init(method.rawValue, out: [("domains", "a(sso)")])
            case .getDomain: .init(method.rawValue, in: [("name", "s")], out: [("domain", "o")])
            case .addDomain: .init(method.rawValue, in: [("name", "s"), ("settings", "a{sv}")], out: [("domain", "o")])
            case .removeDomain: .init(method.rawValue, in: [("name", "s")])
            case .applyState: .init(method.rawValue, in: [("state", "s"), ("dry_run", "b")], out: [("changes", "as")])
            case .getState: .init(method.rawValue, out: [("state", "s")])
            case .openDomain:
                .init(method.rawValue, in: [("name", "s")], out: [("namespace", "h"), ("domain", "s"), ("namespace_name", "s")])
            case .addNetworkNamespace: .init(method.rawValue, in: [("name", "s")], out: [("namespace", "o")])
            case .reload: .init(method.rawValue)
            case .listPrograms: .init(method.rawValue, in: [("name", "s")], out: [("programs", "a(suss)")])
            case .openSocket:
                .init(method.rawValue, in: [("domain", "s"), ("family", "i"), ("type", "i"), ("protocol", "i")], out: [("socket", "h")])
            case .resolveName:
                .init(method.rawValue, in: [("domain", "s"), ("name", "s"), ("family", "i")], out: [("addresses", "a(iay)")])
            case .chooseDomain:
                .init(method.rawValue, in: [("destination", "s")], out: [("domain", "s"), ("candidates", "as"), ("explanation", "s")])
            case .checkpointCreate: .init(method.rawValue, in: [("timeout", "u")], out: [("checkpoint", "o")])
            case .checkpointRollback: .init(method.rawValue, in: [("checkpoint", "o")], out: [("changes", "as")])
            case .checkpointDestroy: .init(method.rawValue, in: [("checkpoint", "o")])
            case .listCheckpoints: .init(method.rawValue, out: [("checkpoints", "ao")])
            case .verify:
                .init(method.rawValue, in: [("domains", "as"), ("wait_seconds", "u")], out: [("results", "a(ssbsx)")])
            case .stageState: .init(method.rawValue, in: [("state", "s")], out: [("changes", "as")])
            case .stageRemove: .init(method.rawValue, in: [("name", "s")], out: [("changes", "as")])
            case .getStagedState: .init(method.rawValue, out: [("candidate", "s"), ("changes", "as")])
            case .commitStagedState: .init(method.rawValue, out: [("changes", "as")])
            case .discardStagedState: .init(method.rawValue)
            }
        },
        signals: Signal.allCases.map { .init($0.rawValue, $0.arguments) })

    /// The interface of the pending checkpoint's object.
    public static let checkpoint = BusInterface(
        checkpointInterface, properties: CheckpointProperty.allCases.map { .init($0.rawValue, $0.signature) })

    /// The interface of every domain object.
    public static let domain = BusInterface(domainInterface, properties: Property.allCases.map { .init($0.rawValue, $0.signature) })

    /// Named errors, each with a message a person can act on.
    public enum ErrorName {
        public static let unknownDomain = "org.pvd1.Error.UnknownDomain"
        public static let ambiguousName = "org.pvd1.Error.AmbiguousName"
        public static let invalidName = "org.pvd1.Error.InvalidName"
        public static let invalidArguments = "org.pvd1.Error.InvalidArguments"
        public static let accessDenied = "org.pvd1.Error.AccessDenied"
        public static let exists = "org.pvd1.Error.Exists"
        public static let notRemovable = "org.pvd1.Error.NotRemovable"
        public static let failed = "org.pvd1.Error.Failed"
        /// A caller's OpenSocket or ResolveName over its budget: try again later.
        public static let busy = "org.pvd1.Error.Busy"
        /// A checkpoint or staged candidate that is not (or no longer) there.
        public static let notFound = "org.pvd1.Error.NotFound"
        /// A staged candidate made against a declared state that changed since.
        public static let stale = "org.pvd1.Error.Stale"
    }

    /// What a client says when it cannot connect to the bus at all.
    public static func busUnreachable(_ error: BusError) -> BusError {
        BusError(error.name, "cannot reach the system bus (\(error.message)); is D-Bus running?")
    }

    /// "pvdd is not running" for the errors the bus gives when nobody owns
    /// `org.pvd1`; nil for any other error.
    public static func daemonNotRunning(_ error: BusError) -> BusError? {
        guard error.name == "org.freedesktop.DBus.Error.ServiceUnknown" || error.name == "org.freedesktop.DBus.Error.NameHasNoOwner" else {
            return nil
        }
        return BusError(error.name, "pvdd is not running (nothing owns \(busName) on the system bus)")
    }
}
