/// A D-Bus message in its wire format (D-Bus specification, "Message
/// Protocol"), for the one program that talks to the bus without libsystemd:
/// `pvd`'s exec path, which must start in about a millisecond. Encodes
/// little-endian; decodes either byte order, checking every length, padding
/// and nesting limit before reading, and names the byte offset of what is wrong.
public struct BusWireMessage: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        case methodCall = 1
        case methodReturn = 2
        case error = 3
        case signal = 4
    }

    public var kind: Kind
    public var flags: UInt8 = 0
    /// Nonzero; a reply names it as its `replySerial`.
    public var serial: UInt32
    public var path: String?
    public var interface: String?
    public var member: String?
    public var errorName: String?
    public var replySerial: UInt32?
    public var destination: String?
    public var sender: String?
    /// How many descriptors travel with the message (SCM_RIGHTS); a
    /// `.unixFD` value in the body is an index among them.
    public var unixFDs: UInt32 = 0
    public var body: [BusValue] = []

    /// The fixed part of the header, which holds the lengths of the rest.
    public static let fixedHeaderLength = 16
    /// pvd's own limit (the specification allows 128 MiB): the messages it
    /// exchanges this way are a few hundred bytes.
    public static let maximumLength = 1 << 20

    public init(kind: Kind, serial: UInt32) {
        self.kind = kind
        self.serial = serial
    }

    /// A method call of `member` with `arguments`.
    public static func methodCall(
        serial: UInt32, destination: String, path: String, interface: String, member: String,
        arguments: [BusValue] = []
    ) -> BusWireMessage {
        var message = BusWireMessage(kind: .methodCall, serial: serial)
        message.destination = destination
        message.path = path
        message.interface = interface
        message.member = member
        message.body = arguments
        return message
    }

    /// The length of the whole message that starts with `header` (at least
    /// its first ``fixedHeaderLength`` bytes).
    public static func length(ofMessageStartingWith header: ArraySlice<UInt8>) throws(BusWireError) -> Int {
        var reader = try BusWireReader(header)
        return try reader.messageLength()
    }

    /// Decodes exactly one message.
    public init(decoding bytes: [UInt8]) throws(BusWireError) {
        var reader = try BusWireReader(bytes[...])
        self = try reader.message()
    }

    /// The message in the wire format, little-endian.
    public func encoded() throws(BusWireError) -> [UInt8] {
        var body = BusWireWriter()
        for value in self.body { try body.write(value) }

        var writer = BusWireWriter()
        writer.bytes = [UInt8(ascii: "l"), kind.rawValue, flags, 1]
        writer.u32(UInt32(body.bytes.count))
        writer.u32(serial)
        writer.u32(0)  // the header fields' length, set below
        try writer.field(1, path.map(BusValue.objectPath))
        try writer.field(2, interface.map(BusValue.string))
        try writer.field(3, member.map(BusValue.string))
        try writer.field(4, errorName.map(BusValue.string))
        try writer.field(5, replySerial.map(BusValue.uint32))
        try writer.field(6, destination.map(BusValue.string))
        try writer.field(7, sender.map(BusValue.string))
        try writer.field(8, self.body.isEmpty ? nil : .typeSignature(BusValue.signature(of: self.body)))
        try writer.field(9, unixFDs == 0 ? nil : .uint32(unixFDs))
        writer.set(UInt32(writer.bytes.count - Self.fixedHeaderLength), at: 12)
        writer.pad(to: 8)
        let message = writer.bytes + body.bytes
        guard message.count <= Self.maximumLength else {
            throw BusWireError("message of \(message.count) bytes, more than \(Self.maximumLength)", at: 0)
        }
        return message
    }
}

/// A D-Bus message that cannot be decoded or encoded: what is wrong and at
/// which byte offset from the start of the message.
public struct BusWireError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public var offset: Int

    public init(_ reason: String, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "D-Bus message: \(reason) at byte \(offset)" }
}

/// One complete D-Bus type, parsed from a signature.
indirect enum BusWireType: Equatable {
    case basic(UInt8)
    case array(BusWireType)
    case structure([BusWireType])
    case dictEntry(BusWireType, BusWireType)
    case variant

    static let basicCodes = Array("ybnqiuxtdsogh".utf8)
    /// The specification's limits on nesting.
    static let maximumArrayDepth = 32, maximumStructureDepth = 32, maximumSignatureLength = 255

    var alignment: Int {
        switch self {
        case .basic(let code):
            switch code {
            case UInt8(ascii: "y"), UInt8(ascii: "g"): 1
            case UInt8(ascii: "n"), UInt8(ascii: "q"): 2
            case UInt8(ascii: "x"), UInt8(ascii: "t"), UInt8(ascii: "d"): 8
            default: 4
            }
        case .array: 4
        case .structure, .dictEntry: 8
        case .variant: 1
        }
    }

    var signature: String {
        switch self {
        case .basic(let code): return String(UnicodeScalar(code))
        case .array(let element): return "a" + element.signature
        case .structure(let fields):
            var text = "("
            for field in fields { text += field.signature }
            return text + ")"
        case .dictEntry(let key, let value): return "{" + key.signature + value.signature + "}"
        case .variant: return "v"
        }
    }

    /// The complete types of a signature, in order; `offset` is where the
    /// signature sits in the message, for errors.
    static func parse(_ signature: [UInt8], at offset: Int) throws(BusWireError) -> [BusWireType] {
        guard signature.count <= maximumSignatureLength else {
            throw BusWireError("signature of \(signature.count) characters, more than 255", at: offset)
        }
        var parser = SignatureParser(codes: signature, offset: offset)
        var types: [BusWireType] = []
        while parser.index < signature.count { types.append(try parser.completeType()) }
        return types
    }

    private struct SignatureParser {
        let codes: [UInt8]
        let offset: Int
        var index = 0
        var arrays = 0, structures = 0

        func error(_ reason: String) -> BusWireError {
            BusWireError("signature \"\(String(decoding: codes, as: UTF8.self))\": \(reason)", at: offset)
        }

        mutating func completeType() throws(BusWireError) -> BusWireType {
            guard index < codes.count else { throw error("ends inside a type") }
            let code = codes[index]
            index += 1
            switch code {
            case _ where BusWireType.basicCodes.contains(code):
                return .basic(code)
            case UInt8(ascii: "v"):
                return .variant
            case UInt8(ascii: "a"):
                arrays += 1
                defer { arrays -= 1 }
                guard arrays <= BusWireType.maximumArrayDepth else { throw error("arrays nested deeper than 32") }
                if index < codes.count, codes[index] == UInt8(ascii: "{") {
                    index += 1
                    return try dictEntry()
                }
                return .array(try completeType())
            case UInt8(ascii: "("):
                structures += 1
                defer { structures -= 1 }
                guard structures <= BusWireType.maximumStructureDepth else { throw error("structures nested deeper than 32") }
                var fields: [BusWireType] = []
                while index < codes.count, codes[index] != UInt8(ascii: ")") { fields.append(try completeType()) }
                guard index < codes.count else { throw error("a structure is not closed") }
                index += 1
                guard !fields.isEmpty else { throw error("an empty structure") }
                return .structure(fields)
            default:
                throw error("unexpected \"\(String(UnicodeScalar(code)))\"")
            }
        }

        /// `{KV}` after `a`: a basic key, one value.
        private mutating func dictEntry() throws(BusWireError) -> BusWireType {
            structures += 1
            defer { structures -= 1 }
            guard structures <= BusWireType.maximumStructureDepth else { throw error("structures nested deeper than 32") }
            let key = try completeType()
            guard case .basic = key else { throw error("a dictionary key that is not a basic type") }
            let value = try completeType()
            guard index < codes.count, codes[index] == UInt8(ascii: "}") else { throw error("a dictionary entry without exactly two types") }
            index += 1
            return .array(.dictEntry(key, value))
        }
    }
}
