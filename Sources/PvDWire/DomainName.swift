/// A fully qualified domain name held in uncompressed DNS wire format
/// (RFC 1035 §3.1): length-prefixed labels ending with the root label.
///
/// Comparison and hashing ignore ASCII case, as RFC 8801 requires for PvD IDs.
public struct DomainName: Hashable, Sendable, CustomStringConvertible {
    /// The longest label, in octets.
    public static let maximumLabelLength = 63
    /// The longest name in wire format, length octets and root label included.
    public static let maximumWireLength = 255

    /// The wire form, root label included; never empty, never compressed.
    /// A decoded name shares the message's buffer rather than copying it.
    public let wire: ArraySlice<UInt8>

    /// Builds a name from validated wire bytes (labels ≤ 63, total ≤ 255, root last).
    init(validatedWire: ArraySlice<UInt8>) {
        wire = validatedWire
    }

    /// The labels as raw octets, root label excluded.
    public var labels: [ArraySlice<UInt8>] {
        var labels: [ArraySlice<UInt8>] = []
        var index = wire.startIndex
        while wire[index] != 0 {
            let length = Int(wire[index])
            labels.append(wire[(index + 1)...(index + length)])
            index += length + 1
        }
        return labels
    }

    /// True for the root name alone (`.`).
    public var isRoot: Bool { wire.count == 1 }

    /// Parses dotted text such as `corp.example.com` or `corp.example.com.`;
    /// `\.` and `\\` escape a dot or backslash inside a label, and `\DDD`
    /// (three decimal digits, RFC 1035 §5.1) any octet, as ``description`` writes them.
    /// Throws ``DomainNameError`` when a label is empty or too long or the name is too long.
    public init(_ text: some StringProtocol) throws(DomainNameError) {
        var wire: [UInt8] = []
        var label: [UInt8] = []
        var escaped = false
        var sawAny = false
        var skip = 0
        func closeLabel() throws(DomainNameError) {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= DomainName.maximumLabelLength else { throw .labelTooLong(label.count) }
            wire.append(UInt8(label.count))
            wire += label
            label.removeAll(keepingCapacity: true)
        }
        let bytes = Array(text.utf8)
        if bytes == [UInt8(ascii: ".")] {
            self.init(validatedWire: [0][...])
            return
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        for (index, byte) in bytes.enumerated() {
            sawAny = true
            if skip > 0 {
                skip -= 1
            } else if escaped, index + 2 < bytes.count, isDigit(byte), isDigit(bytes[index + 1]), isDigit(bytes[index + 2]),
                case let value = Int(byte - 48) * 100 + Int(bytes[index + 1] - 48) * 10 + Int(bytes[index + 2] - 48), value <= 255
            {
                label.append(UInt8(value))
                escaped = false
                skip = 2
            } else if escaped {
                label.append(byte)
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: ".") {
                try closeLabel()
                if index == bytes.count - 1 { break }
            } else {
                label.append(byte)
            }
        }
        guard sawAny else { throw .emptyLabel }
        if escaped { throw .danglingEscape }
        if !label.isEmpty { try closeLabel() }
        wire.append(0)
        guard wire.count <= DomainName.maximumWireLength else { throw .nameTooLong(wire.count) }
        self.init(validatedWire: wire[...])
    }

    /// Dotted text without the final dot; `.` for the root. Dots and backslashes
    /// inside labels are escaped, other non-printable octets written as `\DDD`.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        for (position, label) in labels.enumerated() {
            if position > 0 { text += "." }
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    text += "\\" + String(UnicodeScalar(byte))
                case 0x21...0x7E:
                    text.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
        }
        return text
    }

    public static func == (a: DomainName, b: DomainName) -> Bool {
        guard a.wire.count == b.wire.count else { return false }
        return zip(a.wire, b.wire).allSatisfy { lowered($0) == lowered($1) }
    }

    public func hash(into hasher: inout Hasher) {
        for byte in wire { hasher.combine(DomainName.lowered(byte)) }
    }

    /// ASCII lower case; length octets are < 64 and so never change.
    private static func lowered(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }
}

/// Why dotted text is not a valid domain name.
public enum DomainNameError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyLabel
    case labelTooLong(Int)
    case nameTooLong(Int)
    case danglingEscape

    public var description: String {
        switch self {
        case .emptyLabel: "empty label"
        case .labelTooLong(let length): "label of \(length) octets is longer than 63"
        case .nameTooLong(let length): "name of \(length) octets is longer than 255"
        case .danglingEscape: "backslash at the end of the name"
        }
    }
}
