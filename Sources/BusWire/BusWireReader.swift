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
