/// The little of DNS (RFC 1035) that pvdd needs to resolve a name through a
/// domain's own servers: a recursive query for one name and type, and the
/// addresses of an answer. Every length is checked; a bad answer is a
/// ``DNSMessageError`` with the offset where it went wrong.
public enum DNSMessage {
    /// Record types asked for.
    public enum RecordType: UInt16, Sendable {
        case a = 1
        case aaaa = 28

        /// Octets of the record's address.
        public var addressLength: Int { self == .a ? 4 : 16 }
    }

    /// The answer's response code (RFC 1035 §4.1.1) and the addresses of the
    /// asked type found in its answer section (a CNAME chain's end included).
    public struct Answer: Equatable, Sendable {
        public var responseCode: UInt8
        public var addresses: [[UInt8]]

        /// NOERROR.
        public var succeeded: Bool { responseCode == 0 }
        /// NXDOMAIN, or NOERROR without an address: the name has no such address here.
        public var nameHasNoAddress: Bool { responseCode == 3 || (responseCode == 0 && addresses.isEmpty) }
    }

    /// A standard query with recursion desired, class IN.
    public static func query(id: UInt16, name: DomainName, type: RecordType) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        bytes += name.wire
        bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        return bytes
    }

    /// Reads the answer to ``query(id:name:type:)``: the id, the QR bit and the
    /// question must match it; at most ``maximumRecords`` answer records are read.
    public static func answer(_ bytes: [UInt8], id: UInt16, name: DomainName, type: RecordType) throws(DNSMessageError) -> Answer {
        var reader = DNSReader(bytes)
        guard try reader.u16("id") == id else { throw DNSMessageError(.unexpected("another query's id"), at: 0) }
        let flags = try reader.u16("flags")
        guard flags & 0x8000 != 0 else { throw DNSMessageError(.unexpected("a query, not a response"), at: 2) }
        guard flags & 0x0200 == 0 else { throw DNSMessageError(.unexpected("a truncated response"), at: 2) }
        let questions = try reader.u16("question count")
        let answers = try reader.u16("answer count")
        _ = try reader.u16("authority count")
        _ = try reader.u16("additional count")
        guard questions == 1 else { throw DNSMessageError(.unexpected("\(questions) questions"), at: 4) }
        let questionStart = reader.offset
        guard try reader.name() == name.lowercasedWire else { throw DNSMessageError(.unexpected("another question"), at: questionStart) }
        guard try reader.u16("question type") == type.rawValue, try reader.u16("question class") == 1 else {
            throw DNSMessageError(.unexpected("another question"), at: questionStart)
        }
        guard answers <= maximumRecords else { throw DNSMessageError(.unexpected("\(answers) answers"), at: 6) }
        var addresses: [[UInt8]] = []
        for _ in 0..<answers {
            _ = try reader.name()
            let recordType = try reader.u16("record type")
            let recordClass = try reader.u16("record class")
            _ = try reader.u16("time to live")
            _ = try reader.u16("time to live")
            let length = Int(try reader.u16("data length"))
            let data = try reader.bytes(length, "record data")
            if recordType == type.rawValue, recordClass == 1 {
                guard length == type.addressLength else {
                    throw DNSMessageError(.unexpected("an address of \(length) octets"), at: reader.offset - length)
                }
                addresses.append(data)
            }
        }
        return Answer(responseCode: UInt8(flags & 0x000F), addresses: addresses)
    }

    /// Answer records read at most (a 512-octet answer holds fewer).
    public static let maximumRecords: UInt16 = 64
}

/// A DNS answer pvdd cannot use, and where it stopped reading.
public struct DNSMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case truncated(String)
        case badName(String)
        case unexpected(String)
    }
    public let reason: Reason
    public let offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        switch reason {
        case .truncated(let field): "the DNS answer ends inside its \(field) at offset \(offset)"
        case .badName(let why): "a name in the DNS answer at offset \(offset): \(why)"
        case .unexpected(let what): "the DNS answer is \(what) (offset \(offset))"
        }
    }
}

extension DomainName {
    /// The wire form with ASCII letters in lower case, to compare names as DNS does.
    var lowercasedWire: [UInt8] { wire.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } }
}

/// Big-endian fields and (compressed) names of one DNS message.
private struct DNSReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func u16(_ field: String) throws(DNSMessageError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw DNSMessageError(.truncated(field), at: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func bytes(_ count: Int, _ field: String) throws(DNSMessageError) -> [UInt8] {
        guard offset + count <= bytes.count else { throw DNSMessageError(.truncated(field), at: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// The name at the offset in lower-case wire form, pointers followed
    /// (each before where the last one led, so that none loops); the
    /// offset moves past the name as it is written here.
    mutating func name() throws(DNSMessageError) -> [UInt8] {
        var wire: [UInt8] = []
        var position = offset
        var limit = offset
        var jumped = false
        while true {
            guard position < bytes.count else { throw DNSMessageError(.truncated("name"), at: position) }
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0xC0:
                guard position + 1 < bytes.count else { throw DNSMessageError(.truncated("name"), at: position) }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < limit else { throw DNSMessageError(.badName("a pointer that does not lead backwards"), at: position) }
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
                limit = target
            case 0:
                guard position + 1 + length <= bytes.count else { throw DNSMessageError(.truncated("name"), at: position) }
                wire += bytes[position...(position + length)].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
                guard wire.count <= DomainName.maximumWireLength else { throw DNSMessageError(.badName("longer than 255 octets"), at: position) }
                position += 1 + length
                if length == 0 {
                    if !jumped { offset = position }
                    return wire
                }
            default:
                throw DNSMessageError(.badName("label type \(length >> 6)"), at: position)
            }
        }
    }
}
