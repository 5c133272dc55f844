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
