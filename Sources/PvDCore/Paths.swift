/// Where pvd keeps things on the host, in one place.
public enum Paths {
    /// Named network namespaces (iproute2's convention, shared with `ip netns`).
    public static let namespaces = "/run/netns"
    /// Each namespace's own files (resolv.conf, nsswitch.conf), bound over /etc inside it.
    public static let namespaceFiles = "/etc/netns"
    /// pvd's configuration: `pvdd.yaml` and the drop-in directory `domains.d`.
    public static let configuration = "/etc/pvd"
    /// pvdd's configuration file.
    public static let configurationFile = "\(configuration)/pvdd.yaml"
    /// pvd's runtime directory: the lock, the state file, the host and uplink records.
    public static let runtime = "/run/pvd"
    /// `pvd lab`'s labs, a directory each: configurations, certificates, logs.
    public static let labs = "/run/pvd-lab"
    /// `pvd announce`'s information servers: `<interface>/<netns inode>-<PvD ID>/`.
    public static let announcements = "/run/pvd-announce"
    /// The word after `pvd` that runs pvdd's helper for additional information (PvDExec's `InformationFetch`).
    public static let fetchInformationCommand = "fetch-information"

    /// The file of the named network namespace `name`.
    public static func namespace(_ name: String) -> String { "\(namespaces)/\(name)" }

    /// The directory of namespace `name`'s own files.
    public static func files(ofNamespace name: String) -> String { "\(namespaceFiles)/\(name)" }
}
