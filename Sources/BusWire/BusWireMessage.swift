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

/// Reads one message, bounds checked; offsets count from its first byte,
/// which is also what alignment is relative to.
struct BusWireReader {
    private let bytes: ArraySlice<UInt8>
    private let bigEndian: Bool
    private var offset: Int
    private var end: Int
    private var depth = 0
    private var unixFDs: UInt32 = 0
    /// Containers and variants together (the specification's limit).
    static let maximumDepth = 64

    init(_ bytes: ArraySlice<UInt8>) throws(BusWireError) {
        self.bytes = bytes
        offset = 0
        end = bytes.count
        guard let order = bytes.first else { throw BusWireError("no bytes", at: 0) }
        switch order {
        case UInt8(ascii: "l"): bigEndian = false
        case UInt8(ascii: "B"): bigEndian = true
        default: throw BusWireError("byte order \(order), neither \"l\" nor \"B\"", at: 0)
        }
    }

    private func byte(at index: Int) -> UInt8 { bytes[bytes.startIndex + index] }

    private func require(_ count: Int, _ what: String) throws(BusWireError) {
        guard count <= end - offset else {
            throw BusWireError("\(what) needs \(count) bytes, \(max(0, end - offset)) left", at: offset)
        }
    }

    private mutating func align(_ alignment: Int) throws(BusWireError) {
        let padding = (alignment - offset % alignment) % alignment
        try require(padding, "padding")
        for index in offset..<(offset + padding) where byte(at: index) != 0 {
            throw BusWireError("padding that is not zero", at: index)
        }
        offset += padding
    }

    private mutating func unsigned(_ size: Int, _ what: String) throws(BusWireError) -> UInt64 {
        try align(size)
        try require(size, what)
        var value: UInt64 = 0
        for index in 0..<size {
            let shift = bigEndian ? 8 * (size - 1 - index) : 8 * index
            value |= UInt64(byte(at: offset + index)) << shift
        }
        offset += size
        return value
    }

    private mutating func u32(_ what: String) throws(BusWireError) -> UInt32 { UInt32(try unsigned(4, what)) }

    /// The fixed header: checks it and returns the whole message's length.
    mutating func messageLength() throws(BusWireError) -> Int {
        try require(BusWireMessage.fixedHeaderLength, "fixed header")
        guard byte(at: 3) == 1 else { throw BusWireError("protocol version \(byte(at: 3)), not 1", at: 3) }
        offset = 4
        let bodyLength = Int(try u32("body length"))
        _ = try u32("serial")
        let fieldsLength = Int(try u32("header fields length"))
        let headerLength = (BusWireMessage.fixedHeaderLength + fieldsLength + 7) / 8 * 8
        guard headerLength + bodyLength <= BusWireMessage.maximumLength else {
            throw BusWireError("message of \(headerLength + bodyLength) bytes, more than \(BusWireMessage.maximumLength)", at: 4)
        }
        return headerLength + bodyLength
    }

    mutating func message() throws(BusWireError) -> BusWireMessage {
        let length = try messageLength()
        guard bytes.count == length else {
            throw BusWireError("\(bytes.count) bytes for a message of \(length)", at: min(bytes.count, length))
        }
        guard let kind = BusWireMessage.Kind(rawValue: byte(at: 1)) else {
            throw BusWireError("message type \(byte(at: 1))", at: 1)
        }
        offset = 4
        let bodyLength = Int(try u32("body length"))
        let serial = try u32("serial")
        guard serial != 0 else { throw BusWireError("serial 0", at: 8) }
        var message = BusWireMessage(kind: kind, serial: serial)
        message.flags = byte(at: 2)

        let fieldsStart = offset
        let fieldsEnd = fieldsStart + 4 + Int(try u32("header fields length"))
        end = length - bodyLength
        guard fieldsEnd <= end else { throw BusWireError("header fields beyond the header", at: fieldsStart) }
        var seen: UInt16 = 0
        var bodySignature: [UInt8] = []
        while offset < fieldsEnd {
            try align(8)
            let fieldStart = offset
            let code = UInt8(try unsigned(1, "header field code"))
            let types = try BusWireType.parse(try signatureBytes(), at: offset)
            guard types.count == 1 else { throw BusWireError("header field \(code) of \(types.count) types, not 1", at: fieldStart) }
            let value = try value(of: types[0])
            guard offset <= fieldsEnd else { throw BusWireError("header field \(code) beyond the header fields", at: fieldStart) }
            if code < 16 {
                guard seen & (1 << code) == 0 else { throw BusWireError("header field \(code) given twice", at: fieldStart) }
                seen |= 1 << code
            }
            func text(_ expected: String) throws(BusWireError) -> String {
                guard value.signature == expected, let text = value.text else {
                    throw BusWireError("header field \(code) of type \(value.signature), not \(expected)", at: fieldStart)
                }
                return text
            }
            func number() throws(BusWireError) -> UInt32 {
                guard case .uint32(let number) = value else {
                    throw BusWireError("header field \(code) of type \(value.signature), not u", at: fieldStart)
                }
                return number
            }
            switch code {
            case 1: message.path = try text("o")
            case 2: message.interface = try text("s")
            case 3: message.member = try text("s")
            case 4: message.errorName = try text("s")
            case 5: message.replySerial = try number()
            case 6: message.destination = try text("s")
            case 7: message.sender = try text("s")
            case 8: bodySignature = Array(try text("g").utf8)
            case 9: message.unixFDs = try number()
            default: break  // unknown fields are ignored (specification)
            }
        }
        try requireFields(of: message, at: fieldsStart)
        try align(8)

        end = length
        unixFDs = message.unixFDs
        let bodyStart = offset
        for type in try BusWireType.parse(bodySignature, at: bodyStart) {
            message.body.append(try value(of: type))
        }
        guard offset == end else { throw BusWireError("\(end - offset) bytes after the body's values", at: offset) }
        return message
    }

    private func requireFields(of message: BusWireMessage, at offset: Int) throws(BusWireError) {
        let missing: String? =
            switch message.kind {
            case .methodCall: message.path == nil ? "path" : message.member == nil ? "member" : nil
            case .signal: message.path == nil ? "path" : message.interface == nil ? "interface" : message.member == nil ? "member" : nil
            case .error: message.errorName == nil ? "error name" : message.replySerial == nil ? "reply serial" : nil
            case .methodReturn: message.replySerial == nil ? "reply serial" : nil
            }
        if let missing { throw BusWireError("\(message.kind) without its \(missing) header field", at: offset) }
    }

    private mutating func value(of type: BusWireType) throws(BusWireError) -> BusValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw BusWireError("values nested deeper than \(Self.maximumDepth)", at: offset) }
        switch type {
        case .basic(let code): return try basic(code)
        case .array(let element):
            let start = offset
            let length = Int(try u32("array length"))
            guard length <= 1 << 26 else { throw BusWireError("array of \(length) bytes, more than 64 MiB", at: start) }
            try align(element.alignment)
            try require(length, "array")
            let outer = end
            end = offset + length
            defer { end = outer }
            var items: [BusValue] = []
            while offset < end { items.append(try value(of: element)) }
            return .array(elementSignature: element.signature, items)
        case .structure(let fields):
            try align(8)
            var values: [BusValue] = []
            for field in fields { values.append(try value(of: field)) }
            return .structure(values)
        case .dictEntry(let key, let item):
            try align(8)
            return .dictEntry(try value(of: key), try value(of: item))
        case .variant:
            let start = offset
            let types = try BusWireType.parse(try signatureBytes(), at: start)
            guard types.count == 1 else { throw BusWireError("variant signature of \(types.count) types, not 1", at: start) }
            return .variant(try value(of: types[0]))
        }
    }

    private mutating func basic(_ code: UInt8) throws(BusWireError) -> BusValue {
        let start = offset
        switch code {
        case UInt8(ascii: "y"): return .byte(UInt8(try unsigned(1, "byte")))
        case UInt8(ascii: "b"):
            let flag = try u32("boolean")
            guard flag <= 1 else { throw BusWireError("boolean \(flag), neither 0 nor 1", at: offset - 4) }
            return .boolean(flag == 1)
        case UInt8(ascii: "n"): return .int16(Int16(bitPattern: UInt16(try unsigned(2, "int16"))))
        case UInt8(ascii: "q"): return .uint16(UInt16(try unsigned(2, "uint16")))
        case UInt8(ascii: "i"): return .int32(Int32(bitPattern: try u32("int32")))
        case UInt8(ascii: "u"): return .uint32(try u32("uint32"))
        case UInt8(ascii: "x"): return .int64(Int64(bitPattern: try unsigned(8, "int64")))
        case UInt8(ascii: "t"): return .uint64(try unsigned(8, "uint64"))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try unsigned(8, "double")))
        case UInt8(ascii: "h"):
            let index = try u32("descriptor index")
            guard index < unixFDs else { throw BusWireError("descriptor \(index) of \(unixFDs)", at: offset - 4) }
            return .unixFD(Int32(bitPattern: index))
        case UInt8(ascii: "g"):
            let text = try signatureBytes()
            _ = try BusWireType.parse(text, at: start)
            return .typeSignature(String(decoding: text, as: UTF8.self))
        default:
            let length = Int(try u32("string length"))
            try require(length + 1, "string")
            let text = try utf8(length, nulAt: offset + length)
            if code == UInt8(ascii: "o"), !Self.isObjectPath(text) {
                throw BusWireError("\"\(text)\" is not an object path", at: start)
            }
            return code == UInt8(ascii: "o") ? .objectPath(text) : .string(text)
        }
    }

    private mutating func signatureBytes() throws(BusWireError) -> [UInt8] {
        let length = Int(try unsigned(1, "signature length"))
        try require(length + 1, "signature")
        return Array(try utf8(length, nulAt: offset + length).utf8)
    }

    /// `length` bytes of UTF-8 without NUL, then the NUL at `terminator`.
    private mutating func utf8(_ length: Int, nulAt terminator: Int) throws(BusWireError) -> String {
        let start = bytes.startIndex + offset
        let content = bytes[start..<(start + length)]
        if let nul = content.firstIndex(of: 0) { throw BusWireError("NUL inside a string", at: nul - bytes.startIndex) }
        guard byte(at: terminator) == 0 else { throw BusWireError("string not terminated by NUL", at: terminator) }
        guard let text = String(validating: content, as: UTF8.self) else { throw BusWireError("string that is not UTF-8", at: offset) }
        offset = terminator + 1
        return text
    }

    /// `/` or `/`-separated non-empty elements of `[A-Za-z0-9_]`.
    static func isObjectPath(_ text: String) -> Bool {
        guard text.first == "/" else { return false }
        if text == "/" { return true }
        return text.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).allSatisfy { element in
            !element.isEmpty
                && element.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
                }
        }
    }
}

/// Writes values little-endian with the specification's alignment.
struct BusWireWriter {
    var bytes: [UInt8] = []

    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    mutating func unsigned(_ value: UInt64, size: Int) {
        pad(to: size)
        for index in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    mutating func u32(_ value: UInt32) { unsigned(UInt64(value), size: 4) }

    /// Overwrites the 32-bit value at `offset` (a length written before it was known).
    mutating func set(_ value: UInt32, at offset: Int) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }

    /// A header field (a `(yv)` structure), when there is a value.
    mutating func field(_ code: UInt8, _ value: BusValue?) throws(BusWireError) {
        guard let value else { return }
        pad(to: 8)
        bytes.append(code)
        try write(.variant(value))
    }

    private mutating func text(_ text: String) {
        u32(UInt32(text.utf8.count))
        bytes += text.utf8
        bytes.append(0)
    }

    private mutating func signature(_ text: String) throws(BusWireError) {
        _ = try BusWireType.parse(Array(text.utf8), at: bytes.count)
        bytes.append(UInt8(text.utf8.count))
        bytes += text.utf8
        bytes.append(0)
    }

    mutating func write(_ value: BusValue) throws(BusWireError) {
        switch value {
        case .string(let string), .objectPath(let string):
            if string.utf8.contains(0) { throw BusWireError("NUL inside a string", at: bytes.count) }
            if case .objectPath = value, !BusWireReader.isObjectPath(string) {
                throw BusWireError("\"\(string)\" is not an object path", at: bytes.count)
            }
            text(string)
        case .typeSignature(let text): try signature(text)
        case .boolean(let flag): u32(flag ? 1 : 0)
        case .byte(let number): bytes.append(number)
        case .int16(let number): unsigned(UInt64(UInt16(bitPattern: number)), size: 2)
        case .uint16(let number): unsigned(UInt64(number), size: 2)
        case .int32(let number): u32(UInt32(bitPattern: number))
        case .uint32(let number): u32(number)
        case .int64(let number): unsigned(UInt64(bitPattern: number), size: 8)
        case .uint64(let number): unsigned(number, size: 8)
        case .double(let number): unsigned(number.bitPattern, size: 8)
        case .unixFD(let index): u32(UInt32(bitPattern: index))
        case .array(let elementSignature, let items):
            let types = try BusWireType.parse(Array(("a" + elementSignature).utf8), at: bytes.count)
            guard types.count == 1, case .array(let element) = types[0] else {
                throw BusWireError("array element signature \"\(elementSignature)\"", at: bytes.count)
            }
            pad(to: 4)
            let lengthAt = bytes.count
            u32(0)
            pad(to: element.alignment)
            let start = bytes.count
            for item in items {
                guard item.signature == elementSignature else {
                    throw BusWireError("a \(item.signature) in an array of \(elementSignature)", at: bytes.count)
                }
                try write(item)
            }
            set(UInt32(bytes.count - start), at: lengthAt)
        case .structure(let fields):
            pad(to: 8)
            for field in fields { try write(field) }
        case .dictEntry(let key, let item):
            pad(to: 8)
            try write(key)
            try write(item)
        case .variant(let inner):
            try signature(inner.signature)
            try write(inner)
        }
    }
}
