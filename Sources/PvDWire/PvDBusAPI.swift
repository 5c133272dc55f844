/// The names of pvd's D-Bus API, `org.pvd1`: bus name, object paths,
/// interfaces and errors, shared by the daemon, the command line and the
/// exec path that speaks the wire format itself. The interfaces' methods and
/// properties are in the `Bus` target (`PvDBusAPI.manager`, `.domain`).
public enum PvDBusAPI {
    public static let busName = "org.pvd1"
    public static let managerPath = "/org/pvd1"
    public static let domainPrefix = "/org/pvd1/domain"
    public static let managerInterface = "org.pvd1.Manager"
    public static let domainInterface = "org.pvd1.Domain"

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
