/// A D-Bus server address (specification, "Server Addresses") reduced to
/// what pvd connects to: a Unix socket by path or in the abstract namespace.
public struct BusAddress: Equatable, Sendable {
    /// The system bus, where pvdd is; privileged callers never take another from the environment.
    public static let system = "unix:path=/run/dbus/system_bus_socket"

    /// The socket's address: a path, or for an abstract socket a leading NUL and its name.
    public var socketPath: [UInt8]

    /// The first `unix:path=` or `unix:abstract=` entry of `address`
    /// (entries separated by `;`, values %-escaped); nil when there is none.
    public init?(_ address: String) {
        for entry in address.split(separator: ";") {
            guard entry.hasPrefix("unix:") else { continue }
            for pair in entry.dropFirst(5).split(separator: ",") {
                guard let equals = pair.firstIndex(of: "="), let value = Self.unescape(pair[pair.index(after: equals)...]),
                      !value.isEmpty else { continue }
                switch pair[..<equals] {
                case "path": socketPath = value
                case "abstract": socketPath = [0] + value
                default: continue
                }
                return
            }
        }
        return nil
    }

    /// `%XX` escapes decoded; nil when one is malformed.
    static func unescape(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            rest = rest.dropFirst(2)
        }
        return bytes
    }
}
