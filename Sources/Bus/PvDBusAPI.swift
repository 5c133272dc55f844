import PvDWire

/// pvd's D-Bus interfaces as sd-bus serves them. The introspection data
/// sd-bus makes from them is kept in `scripts/system/org.pvd1.xml` and
/// compared with the running daemon's.
extension PvDBusAPI {
    public static let manager = BusInterface(
        managerInterface,
        methods: [
            .init("ListDomains", out: [("domains", "a(sso)")]),
            .init("GetDomain", in: [("name", "s")], out: [("domain", "o")]),
            .init("AddDomain", in: [("name", "s"), ("settings", "a{sv}")], out: [("domain", "o")]),
            .init("RemoveDomain", in: [("name", "s")]),
            .init("ApplyState", in: [("state", "s"), ("dry_run", "b")], out: [("changes", "as")]),
            .init("GetState", out: [("state", "s")]),
            .init("OpenDomain", in: [("name", "s")], out: [("namespace", "h"), ("domain", "s"), ("namespace_name", "s")]),
            .init("AddNetworkNamespace", in: [("name", "s")], out: [("namespace", "o")]),
            .init("Reload"),
        ],
        signals: [
            .init("DomainAdded", [("name", "s"), ("domain", "o")]),
            .init("DomainRemoved", [("name", "s"), ("domain", "o")]),
        ])

    public static let domain = BusInterface(
        domainInterface,
        properties: [
            .init("Name", "s"), .init("Kind", "s"), .init("PvDId", "s"), .init("Sequence", "q"), .init("Flags", "a{sb}"),
            .init("Uplinks", "as"), .init("Addresses", "as"), .init("Routes", "as"), .init("DnsServers", "as"),
            .init("SearchDomains", "as"), .init("Routers", "as"), .init("Lifetime", "t"), .init("State", "s"),
            .init("StateReason", "s"), .init("Origin", "s"), .init("IPv4", "b"), .init("AdditionalInfo", "s"), .init("NamespacePath", "s"),
        ])
}
