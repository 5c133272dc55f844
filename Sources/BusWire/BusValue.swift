/// A D-Bus value as pvd sends and receives it: through sd-bus in the `Bus`
/// target, through ``BusWireMessage`` where libsystemd is not linked.
public indirect enum BusValue: Equatable, Sendable {
    case string(String)
    case objectPath(String)
    case typeSignature(String)
    case boolean(Bool)
    case byte(UInt8)
    case int16(Int16)
    case uint16(UInt16)
    case uint32(UInt32)
    case uint64(UInt64)
    case int32(Int32)
    case int64(Int64)
    case double(Double)
    /// A file descriptor (sd-bus duplicates it when sending; a received one
    /// is pvd's own copy).
    case unixFD(Int32)
    /// An array of values of `elementSignature` (which an empty array needs).
    case array(elementSignature: String, [BusValue])
    case structure([BusValue])
    case dictEntry(BusValue, BusValue)
    case variant(BusValue)

    /// Every file descriptor in the value, nested ones included.
    public var descriptors: [Int32] {
        switch self {
        case .unixFD(let fd): [fd]
        case .array(_, let items), .structure(let items): items.flatMap(\.descriptors)
        case .dictEntry(let key, let value): key.descriptors + value.descriptors
        case .variant(let value): value.descriptors
        default: []
        }
    }

    /// The value's D-Bus type signature.
    public var signature: String {
        switch self {
        case .string: "s"
        case .objectPath: "o"
        case .typeSignature: "g"
        case .boolean: "b"
        case .byte: "y"
        case .int16: "n"
        case .uint16: "q"
        case .uint32: "u"
        case .uint64: "t"
        case .int32: "i"
        case .int64: "x"
        case .double: "d"
        case .unixFD: "h"
        case .array(let element, _): "a" + element
        case .structure(let fields): "(" + BusValue.signature(of: fields) + ")"
        case .dictEntry(let key, let value): "{" + key.signature + value.signature + "}"
        case .variant: "v"
        }
    }

    /// The signature of `values` in a row, as a message body's or a structure's.
    public static func signature(of values: [BusValue]) -> String {
        var text = ""
        for value in values { text += value.signature }
        return text
    }

    /// An `a{sv}` dictionary.
    public static func dictionary(_ entries: [(String, BusValue)]) -> BusValue {
        .array(elementSignature: "{sv}", entries.map { .dictEntry(.string($0.0), .variant($0.1)) })
    }

    /// An `as` list.
    public static func strings(_ items: [String]) -> BusValue {
        .array(elementSignature: "s", items.map(BusValue.string))
    }

    /// The text of a string, object path or signature.
    public var text: String? {
        switch self {
        case .string(let text), .objectPath(let text), .typeSignature(let text): text
        default: nil
        }
    }
}

/// A D-Bus error: its name (`org.pvd1.Error.UnknownDomain`) and a message a
/// person can act on; also what a failed sd-bus call turns into.
public struct BusError: Error, Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var message: String

    public init(_ name: String, _ message: String) {
        self.name = name
        self.message = message
    }

    public var description: String { "\(message) (\(name))" }
}
