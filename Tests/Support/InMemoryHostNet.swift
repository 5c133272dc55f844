import PvDCore

/// HostNetworking in memory: keeps specs in a dictionary and can be told to
/// fail, for tests of code that drives HostNet.
public final class InMemoryHostNet: HostNetworking, @unchecked Sendable {
    public private(set) var applied: [String: DomainSpec] = [:]
    /// Bare namespaces and VPN domains' (empty) namespaces.
    public private(set) var namespaces: Set<String> = []
    public private(set) var tunnelDomains: Set<String> = []
    /// Domains that have a program inside.
    public var occupied: Set<String> = []
    /// How many remove calls there were (removals go in batches).
    public private(set) var removeCalls = 0
    /// Names of the domains whose next apply fails (once).
    public var failNextApply: Set<String> = []
    /// How many apply calls changed something.
    public private(set) var changes = 0

    public init() {}

    public func apply(_ spec: DomainSpec) throws(SystemError) {
        if failNextApply.remove(spec.name) != nil {
            throw SystemError(step: "apply", object: spec.name, reason: "injected failure")
        }
        if applied[spec.name] != spec { changes += 1 }
        applied[spec.name] = spec
    }

    public func remove(_ names: [String]) throws(SystemError) {
        removeCalls += 1
        for name in names {
            if applied.removeValue(forKey: name) != nil || tunnelDomains.remove(name) != nil { changes += 1 }
        }
    }

    public func createBareNamespace(_ name: String) throws(SystemError) {
        guard namespaces.insert(name).inserted else {
            throw SystemError(step: "create namespace", object: name, reason: "it exists already")
        }
        changes += 1
    }

    public func deleteNamespace(_ name: String) throws(SystemError) {
        if namespaces.remove(name) != nil { changes += 1 }
    }

    public func namespaceExists(_ name: String) -> Bool { namespaces.contains(name) }

    public func createTunnelDomain(_ name: String) throws(SystemError) {
        if failNextApply.remove(name) != nil { throw SystemError(step: "create namespace", object: name, reason: "injected failure") }
        if tunnelDomains.insert(name).inserted { changes += 1 }
    }

    public func hasProcesses(inDomain name: String) -> Bool { occupied.contains(name) }

    public func domains() throws(SystemError) -> [DomainSpec] {
        applied.values.sorted { $0.name < $1.name }
    }

    public func removeLeftovers(keeping: Set<String>) throws(SystemError) -> [String] {
        let stale = applied.keys.filter { !keeping.contains($0) }.sorted()
        try remove(stale)
        return stale
    }
}
