/// pvd's D-Bus API, `org.pvd1`: what the daemon serves and the command line
/// calls. The introspection data sd-bus makes from it is kept in
/// `scripts/system/org.pvd1.*.xml` and compared with the running daemon's.
public enum PvDBusAPI {
    public static let busName = "org.pvd1"
    public static let managerPath = "/org/pvd1"
    public static let domainPrefix = "/org/pvd1/domain"
    public static let managerInterface = "org.pvd1.Manager"
    public static let domainInterface = "org.pvd1.Domain"

    public static let manager = BusInterface(managerInterface, methods: [
        .init("ListDomains", out: [("domains", "a(sso)")]),
        .init("GetDomain", in: [("name", "s")], out: [("domain", "o")]),
        .init("AddDomain", in: [("name", "s"), ("settings", "a{sv}")], out: [("domain", "o")]),
        .init("RemoveDomain", in: [("name", "s")]),
        .init("ApplyState", in: [("state", "s"), ("dry_run", "b")], out: [("changes", "as")]),
        .init("GetState", out: [("state", "s")]),
        .init("OpenDomain", in: [("name", "s")], out: [("namespace", "h"), ("domain", "s"), ("namespace_name", "s")]),
        .init("AddNetworkNamespace", in: [("name", "s")], out: [("namespace", "o")]),
    ], signals: [
        .init("DomainAdded", [("name", "s"), ("domain", "o")]),
        .init("DomainRemoved", [("name", "s"), ("domain", "o")]),
    ])

    public static let domain = BusInterface(domainInterface, properties: [
        .init("Name", "s"), .init("Kind", "s"), .init("PvDId", "s"), .init("Sequence", "q"), .init("Flags", "a{sb}"),
        .init("Uplinks", "as"), .init("Addresses", "as"), .init("Routes", "as"), .init("DnsServers", "as"),
        .init("SearchDomains", "as"), .init("Routers", "as"), .init("Lifetime", "t"), .init("State", "s"),
        .init("IPv4", "b"), .init("AdditionalInfo", "s"), .init("NamespacePath", "s"),
    ])

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
                guard index + 2 < label.count, let byte = UInt8(String(decoding: label[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(label[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

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
    }
}
