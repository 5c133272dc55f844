/// Reads big-endian fields from one part of a message, checking every length
/// first. Offsets are absolute (from the start of the message) so that errors
/// can name them; `end` bounds the part being read (an option, the PvD option).
struct WireReader {
    let bytes: [UInt8]
    /// Where the current part begins (an option's type octet).
    private(set) var start: Int
    private(set) var offset: Int
    private(set) var end: Int
    private(set) var part: MessagePart

    init(_ bytes: [UInt8]) {
        self.init(bytes, from: 0, to: bytes.count, part: .header)
    }

    private init(_ bytes: [UInt8], from offset: Int, to end: Int, part: MessagePart) {
        self.bytes = bytes
        self.start = offset
        self.offset = offset
        self.end = end
        self.part = part
    }

    @inline(__always)
    var remaining: Int { end - offset }
    @inline(__always)
    var isAtEnd: Bool { offset >= end }

    /// The bounds of the part being read, to restore after reading a part inside it.
    struct Bounds {
        fileprivate let start: Int, end: Int, part: MessagePart
    }

    /// Narrows reading to the next `count` octets, read as `part`; returns the
    /// outer bounds for `leave`. (Narrowing in place, rather than reading
    /// through a copy, keeps the decoder free of reference counting per option.)
    mutating func enter(_ count: Int, as part: MessagePart) -> Bounds {
        let outer = Bounds(start: start, end: end, part: self.part)
        start = offset
        end = offset + count
        self.part = part
        return outer
    }

    /// Moves past the part entered last, whatever of it was read, and restores `outer`.
    mutating func leave(_ outer: Bounds) {
        offset = end
        start = outer.start
        end = outer.end
        part = outer.part
    }

    func error(_ reason: ParseError.Reason, _ field: MessageField, at offset: Int? = nil) -> ParseError {
        ParseError(reason, part: part, field: field, offset: offset ?? self.offset)
    }

    /// Throws `truncated` unless `count` octets remain.
    @inline(__always)
    func require(_ count: Int, _ field: MessageField) throws(ParseError) {
        guard count <= remaining else {
            throw error(.truncated(needed: count, available: remaining), field)
        }
    }

    @inline(__always)
    func peek(at index: Int = 0) -> UInt8 { bytes[offset + index] }

    @inline(__always)
    mutating func skip(_ count: Int) { offset += count }

    @inline(__always)
    mutating func u8(_ field: MessageField) throws(ParseError) -> UInt8 {
        try require(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    mutating func u16(_ field: MessageField) throws(ParseError) -> UInt16 {
        try require(2, field)
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    @inline(__always)
    mutating func u32(_ field: MessageField) throws(ParseError) -> UInt32 {
        try require(4, field)
        var value: UInt32 = 0
        for index in offset..<offset + 4 { value = value << 8 | UInt32(bytes[index]) }
        offset += 4
        return value
    }

    @inline(__always)
    mutating func u64(_ field: MessageField) throws(ParseError) -> UInt64 {
        try require(8, field)
        var value: UInt64 = 0
        for index in offset..<offset + 8 { value = value << 8 | UInt64(bytes[index]) }
        offset += 8
        return value
    }

    mutating func address(_ field: MessageField) throws(ParseError) -> IPv6Address {
        try require(16, field)
        let high = try u64(field)
        return IPv6Address(high: high, low: try u64(field))
    }

    /// The first `count` (0, 8 or 16) octets of an address, the rest zero (a route's prefix).
    mutating func partialAddress(_ count: Int, _ field: MessageField) throws(ParseError) -> IPv6Address {
        try require(count, field)
        let high = count >= 8 ? try u64(field) : 0
        let low = count >= 16 ? try u64(field) : 0
        return IPv6Address(high: high, low: low)
    }

    /// The offset of the first non-zero octet left in this part, if any.
    func firstNonZero() -> Int? {
        (offset..<end).first { bytes[$0] != 0 }
    }

    /// The next `count` octets, sharing the message's buffer.
    mutating func octets(_ count: Int, _ field: MessageField) throws(ParseError) -> ArraySlice<UInt8> {
        try require(count, field)
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// An uncompressed domain name (RFC 1035 §3.1) that must end inside this part.
    mutating func domainName(_ field: MessageField) throws(ParseError) -> DomainName {
        let start = offset
        var length = 0
        while true {
            guard !isAtEnd else { throw error(.missingRootLabel, field, at: start) }
            let labelLength = Int(bytes[offset])
            if labelLength & 0xC0 == 0xC0 { throw error(.compressionPointer, field) }
            // 0x40 and 0x80 prefixes (extended and reserved label types) land here too.
            if labelLength > DomainName.maximumLabelLength { throw error(.labelTooLong(labelLength), field) }
            length += labelLength + 1
            guard length <= DomainName.maximumWireLength else {
                throw error(.nameTooLong(length), field, at: start)
            }
            if labelLength == 0 {
                offset += 1
                return DomainName(validatedWire: bytes[start..<offset])
            }
            guard labelLength + 1 <= remaining else { throw error(.missingRootLabel, field, at: start) }
            offset += labelLength + 1
        }
    }
}

/// Appends big-endian fields to a growing message.
struct WireWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)] }
    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
    mutating func address(_ address: IPv6Address) {
        for half in [address.high, address.low] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: half >> UInt64(shift))) }
        }
    }
    mutating func append(_ octets: some Sequence<UInt8>) { bytes += octets }
    mutating func zeros(_ count: Int) { bytes += repeatElement(0, count: count) }
}
