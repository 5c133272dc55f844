/// A D-Bus server address (specification, "Server Addresses") reduced to
/// what pvd connects to: a Unix socket by path or in the abstract namespace.
/// Read byte by byte: `pvd exec` parses one on every run.
public struct BusAddress: Equatable, Sendable {
    /// The system bus, where pvdd is; privileged callers never take another from the environment.
    public static let system = "unix:path=/run/dbus/system_bus_socket"

    /// The socket's address: a path, or for an abstract socket a leading NUL and its name.
    public var socketPath: [UInt8]

    /// The first `unix:path=` or `unix:abstract=` entry of `address`
    /// (entries separated by `;`, values %-escaped); nil when there is none.
    public init?(_ address: String) {
        let bytes = Array(address.utf8)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            if let path = Self.socketPath(inEntry: bytes[start..<end]) {
                socketPath = path
                return
            }
            start = end + 1
        }
        return nil
    }

    /// The socket of one `unix:key=value,…` entry.
    static func socketPath(inEntry entry: ArraySlice<UInt8>) -> [UInt8]? {
        let method = Array("unix:".utf8)
        guard entry.starts(with: method) else { return nil }
        var start = entry.startIndex + method.count
        while start < entry.endIndex {
            let end = entry[start...].firstIndex(of: UInt8(ascii: ",")) ?? entry.endIndex
            let pair = entry[start..<end]
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")), let value = unescape(pair[(equals + 1)...]), !value.isEmpty {
                let key = Array(pair[..<equals])
                if key == Array("path".utf8) { return value }
                if key == Array("abstract".utf8) { return [0] + value }
            }
            start = end + 1
        }
        return nil
    }

    /// `%XX` escapes decoded; nil when one is malformed.
    static func unescape(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            guard text[index] == UInt8(ascii: "%") else {
                bytes.append(text[index])
                index += 1
                continue
            }
            guard index + 2 < text.endIndex, let high = hexDigit(text[index + 1]), let low = hexDigit(text[index + 2]) else { return nil }
            bytes.append(high << 4 | low)
            index += 3
        }
        return bytes
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
