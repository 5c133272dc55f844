import PvDWire

/// The effectful seam between the domain model and the kernel. HostNet's
/// kernel implementation and the tests' InMemoryHostNet (Tests/Support) both conform, so the model's
/// reconciliation is tested without root against the fake.
public protocol HostNetworking {
    /// Makes `spec` real, creating or changing whatever differs. All or nothing:
    /// on failure, whatever this call changed is undone and the error names the step.
    func apply(_ spec: DomainSpec) throws(SystemError)
    /// Removes domains and everything pvd made for them, together (the kernel
    /// tears their links down in one batch); an absent domain is not an error.
    func remove(_ names: [String]) throws(SystemError)
    /// The domains that exist on the host, read back from the kernel.
    func domains() throws(SystemError) -> [DomainSpec]
    /// Removes domains (and stray pvd objects) whose names are not in `keeping`;
    /// returns the names removed.
    func removeLeftovers(keeping: Set<String>) throws(SystemError) -> [String]
    /// A bare namespace /run/netns/NAME with `lo` up; refuses one that exists.
    func createBareNamespace(_ name: String) throws(SystemError)
    /// Removes /run/netns/NAME.
    func deleteNamespace(_ name: String) throws(SystemError)
    /// Whether /run/netns/NAME exists.
    func namespaceExists(_ name: String) -> Bool
    /// A VPN domain's namespace (`lo` only) until its tunnel arrives.
    func createTunnelDomain(_ name: String) throws(SystemError)
    /// Whether a live program (not a zombie) runs inside the domain's namespace.
    func hasProcesses(inDomain name: String) -> Bool
}

/// How HostNet has the kernel forward for routed domains.
public enum ForwardingMode: String, Equatable, Sendable {
    /// Per interface (`force_forwarding`) where the kernel has it, otherwise
    /// the whole namespace (`all.forwarding`).
    case automatic = "auto"
    /// Always `all.forwarding`, as on kernels without `force_forwarding`
    /// (Debian 12's 6.1): for such hosts, and to test that path on any kernel.
    case global
}
