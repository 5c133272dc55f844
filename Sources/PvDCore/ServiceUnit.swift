import PvDWire

/// A systemd service that runs in a domain (`pvd service UNIT DOMAIN`,
/// docs/services.md): two drop-ins, one for the service and one for the
/// domain's own unit `pvd-domain@DOMAIN.service`, whose process
/// (`pvd wait DOMAIN --stay`) is active exactly while the domain's namespace
/// exists and is the same one.
///
/// - The service joins the namespace by path, with the domain's resolv.conf
///   and nsswitch.conf bound over the host's and nscd out of sight, so its
///   names are resolved by the domain's DNS servers;
/// - it is bound to the domain's unit (`BindsTo=`, `After=`): started before
///   the domain exists, it waits for it (or fails with the domain unit's
///   reason), and it stops when the domain goes or is made anew;
/// - the domain's unit wants the service, so the service comes back when the
///   domain does.
public struct ServiceUnit: Equatable, Sendable {
    /// The service's unit name, with its `.service` suffix.
    public let unit: String
    public let domain: String

    /// The drop-in file's name, in both units' `.d` directories.
    public static let dropInName = "50-pvd-domain.conf"
    /// The template of the domain units.
    public static let domainTemplate = "pvd-domain@.service"

    /// `unit` (`.service` added when it has no suffix) in `domain`, both checked.
    public init(unit: String, domain: String) throws(ServiceUnitError) {
        let full = try ServiceUnit.unitName(unit)
        guard !full.hasPrefix("pvd-domain@"), !full.hasPrefix("pvd-announce@"), full != "pvdd.service" else { throw .pvdsOwn(full) }
        do { try DomainNaming.validate(domain) } catch { throw .domain(error) }
        self.unit = full
        self.domain = domain
    }

    /// The service's full unit name (`.service` added when there is no
    /// suffix), checked as systemd would.
    public static func unitName(_ unit: String) throws(ServiceUnitError) -> String {
        let full = unit.contains(text: ".") && !unit.hasSuffix(".") ? unit : unit + ".service"
        guard full.hasSuffix(".service") else { throw .notAService(unit) }
        try validate(unitName: full)
        return full
    }

    /// What systemd takes as a unit name: at most 255 bytes of
    /// `A-Z a-z 0-9 : - _ . \ @`, a name before the suffix, and a template
    /// only with its instance.
    static func validate(unitName: String) throws(ServiceUnitError) {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-_.\\@".utf8)
        let stem = unitName.dropLast(".service".count)
        guard unitName.utf8.count <= 255, !stem.isEmpty, unitName.utf8.allSatisfy(allowed.contains), !stem.hasSuffix("@"),
            !stem.hasPrefix("@"), !stem.hasPrefix("-"), !stem.hasPrefix(".")
        else { throw .unitName(unitName) }
    }

    /// The domain's unit: the template's instance, escaped as systemd-escape does
    /// (of a domain name's characters only `-` needs it).
    public var domainUnit: String { ServiceUnit.domainUnit(of: domain) }

    public static func domainUnit(of domain: String) -> String { "pvd-domain@\(domain.replacing(text: "-", with: "\\x2d")).service" }

    /// The service's drop-in; `namespace` the domain's namespace file.
    public func serviceDropIn(namespace: String, namespaceFiles: String) -> String {
        """
        # Written by `pvd service \(unit) \(domain)`: \(unit) runs in domain \(domain).
        # `pvd service \(unit) --remove` takes it away (docs/services.md).
        [Unit]
        BindsTo=\(domainUnit)
        After=\(domainUnit)

        [Service]
        NetworkNamespacePath=\(namespace)
        BindReadOnlyPaths=\(namespaceFiles)/resolv.conf:/etc/resolv.conf
        BindReadOnlyPaths=\(namespaceFiles)/nsswitch.conf:/etc/nsswitch.conf
        InaccessiblePaths=-/run/nscd

        """
    }

    /// The domain unit's drop-in: it wants the service, so that the service
    /// starts again when the domain comes back.
    public var domainDropIn: String {
        """
        # Written by `pvd service \(unit) \(domain)`: \(unit) starts again when \(domain) comes back.
        [Unit]
        Wants=\(unit)

        """
    }

    /// The domain drop-in's file name, one per service.
    public var domainDropInName: String { "50-pvd-service-\(unit).conf" }

    /// The domain a service drop-in written by pvd names (its `NetworkNamespacePath=`
    /// line's domain), or nil for any other file.
    public static func domain(inServiceDropIn text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("NetworkNamespacePath=") {
            let path = line.dropFirst("NetworkNamespacePath=".count)
            guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
            let name = path[path.utf8.index(after: slash)...]
            return name.hasPrefix(DomainNaming.namespacePrefix) ? String(name.dropFirst(DomainNaming.namespacePrefix.count)) : String(name)
        }
        return nil
    }
}

/// Why `pvd service` refuses a unit or a domain.
public enum ServiceUnitError: Error, Equatable, CustomStringConvertible {
    case notAService(String)
    case unitName(String)
    case pvdsOwn(String)
    case domain(DomainNameRuleError)

    public var description: String {
        switch self {
        case .notAService(let unit): "\(unit) is not a service: pvd service puts .service units in a domain"
        case .unitName(let unit): "\(unit) is not a unit name systemd takes (A-Z a-z 0-9 : - _ . \\ @, a template only with its instance)"
        case .pvdsOwn(let unit): "\(unit) is pvd's own unit and runs on the host"
        case .domain(let error): "\(error)"
        }
    }
}
