import BusWire
import PvDCore

/// What the D-Bus API shows of one domain.
struct DomainView {
    var name: String
    var kind: DomainKind
    var origin: DomainOrigin
    var state: DomainState
    /// The namespace's name under /run/netns.
    var namespace: String
    var pvdID = ""
    var sequence: UInt16 = 0
    var flags: [(String, Bool)] = []
    var spec: DomainSpec?
    var lifetime: Double = 0
    var additionalInformation = ""
    /// The zones the domain is chosen for (``DomainChoice/Claims/zones``).
    var claims: [String] = []
    /// What `pvd exec` adds to a program's environment (``ProxyEnvironment``).
    var environment: [String] = []
    /// A VPN domain's addresses, routes and DNS, read from its tunnel and resolv.conf.
    var tunnelAddresses: [String] = []
    var tunnelRoutes: [String] = []
    var tunnelDNS: [String] = []
    var tunnelSearch: [String] = []
    /// Its last verification.
    var health: [HealthCheck] = []

    init(name: String, kind: DomainKind, origin: DomainOrigin, state: DomainState, namespace: String) {
        self.name = name
        self.kind = kind
        self.origin = origin
        self.state = state
        self.namespace = namespace
    }

    /// The value of one of org.pvd1.Domain's properties.
    func value(of property: PvDBusAPI.Property) -> BusValue {
        let uplinks = spec.map { [$0.uplink] + $0.otherUplinks.map(\.uplink) } ?? []
        let routers = spec.map { $0.routers + $0.otherUplinks.flatMap(\.routers) } ?? []
        return switch property {
        case .name: .string(name)
        case .kind: .string(kind.rawValue)
        case .pvdID: .string(pvdID)
        case .sequence: .uint16(sequence)
        case .flags: .array(elementSignature: "{sb}", flags.map { .dictEntry(.string($0.0), .boolean($0.1)) })
        case .uplinks: .strings(uplinks)
        case .addresses: .strings((spec?.allAddresses ?? []).map(\.description) + tunnelAddresses)
        case .routes: .strings((spec?.routes ?? []).map(\.description) + tunnelRoutes)
        case .dnsServers: .strings((spec?.dnsServers ?? []).map(\.description) + tunnelDNS)
        case .searchDomains: .strings((spec?.searchDomains ?? []).map(\.description) + tunnelSearch)
        case .routers: .strings(routers.map(\.description))
        case .lifetime: .uint64(lifetime.isFinite ? UInt64(max(0, lifetime)) : .max)
        case .state: .string(state.name)
        case .stateReason: .string(state.reason)
        case .origin: .string(origin.rawValue)
        case .ipv4: .boolean(spec?.ipv4 ?? tunnelAddresses.contains { !$0.contains(":") })
        case .additionalInfo: .string(additionalInformation)
        case .namespacePath: .string(Paths.namespace(namespace))
        case .claims: .strings(claims)
        case .environment: .strings(environment)
        case .health: .array(elementSignature: "(sbsx)", health.map { .structure(DaemonBus.fields(of: $0)) })
        }
    }
}
