/// A 128-bit IPv6 address, stored as two big-endian halves.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first 64 bits (network half), most significant bit first.
    public var high: UInt64
    /// The last 64 bits (interface identifier half).
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The unspecified address `::`.
    public static let unspecified = IPv6Address(high: 0, low: 0)

    /// Builds an address from exactly 16 octets in network order.
    public init?(octets: ArraySlice<UInt8>) {
        guard octets.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var index = octets.startIndex
        for _ in 0..<8 {
            high = high << 8 | UInt64(octets[index])
            index += 1
        }
        for _ in 0..<8 {
            low = low << 8 | UInt64(octets[index])
            index += 1
        }
        self.init(high: high, low: low)
    }

    /// Builds an address from exactly 16 octets in network order.
    public init?(octets: [UInt8]) {
        self.init(octets: octets[...])
    }

    /// The 16 octets in network order.
    public var octets: [UInt8] {
        (0..<16).map { index in
            let half = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: half >> (UInt64(7 - index % 8) * 8))
        }
    }

    /// The eight 16-bit groups, most significant first.
    public var groups: [UInt16] {
        (0..<8).map { index in
            let half = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (UInt64(3 - index % 4) * 16))
        }
    }

    /// True for fe80::/10.
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    /// ff00::/8.
    public var isMulticast: Bool { high >> 56 == 0xFF }
    /// ::1.
    public var isLoopback: Bool { high == 0 && low == 1 }

    /// This address with every bit after the first `length` bits cleared.
    public func masked(to length: Int) -> IPv6Address {
        let length = max(0, min(128, length))
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~(~0 >> UInt64(bits)) }
        return IPv6Address(high: high & mask(length), low: low & mask(length - 64))
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    /// RFC 5952 text: lower-case hex, no leading zeros, the longest run of two or
    /// more zero groups (the first of equal runs) written as `::`.
    public var description: String {
        let groups = self.groups
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart
                }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }

    /// Parses RFC 4291 text (`2001:db8::1`, `::ffff:192.0.2.1`); nil when malformed.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        let gap = text.range(ofText: "::")
        if let gap, text[gap.upperBound...].contains(text: "::") { return nil }
        let headText = gap.map { text[..<$0.lowerBound] } ?? text[...]
        let tailText = gap.map { text[$0.upperBound...] } ?? ""
        guard let head = IPv6Address.groups(headText, allowIPv4: gap == nil),
            let tail = IPv6Address.groups(tailText, allowIPv4: true)
        else { return nil }
        let total = head.count + tail.count
        guard gap == nil ? total == 8 : total <= 7 else { return nil }
        let all = head + Array(repeating: 0, count: 8 - total) + tail
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (position, group) in all.enumerated() {
            if position < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        self.init(high: high, low: low)
    }

    /// Colon-separated hex groups; the last may be dotted IPv4 when `allowIPv4`.
    private static func groups(_ text: Substring, allowIPv4: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if allowIPv4, index == parts.count - 1, part.contains(".") {
                guard let v4 = ipv4Groups(part) else { return nil }
                groups += v4
            } else {
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit),
                    let group = UInt16(part, radix: 16)
                else { return nil }
                groups.append(group)
            }
        }
        return groups
    }

    private static func ipv4Groups(_ text: some StringProtocol) -> [UInt16]? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var bytes: [UInt16] = []
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy(\.isASCII),
                let value = UInt8(octet)
            else { return nil }
            bytes.append(UInt16(value))
        }
        return [bytes[0] << 8 | bytes[1], bytes[2] << 8 | bytes[3]]
    }
}

/// An IPv6 prefix: an address whose bits after `length` are zero, and a length 0...128.
public struct IPv6Prefix: Hashable, Sendable, CustomStringConvertible {
    /// The network address; bits after `length` are always zero.
    public let address: IPv6Address
    /// Number of leading bits, 0...128.
    public let length: Int

    /// Clears the bits of `address` after `length`; nil when `length` is not in 0...128.
    public init?(address: IPv6Address, length: Int) {
        guard (0...128).contains(length) else { return nil }
        self.address = address.masked(to: length)
        self.length = length
    }

    /// Parses `addr/len`; nil when malformed or when bits are set after the length.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(parts[0]),
            parts[1].allSatisfy(\.isASCII), parts[1].count <= 3,
            let length = Int(parts[1]), (0...128).contains(length),
            address.masked(to: length) == address
        else { return nil }
        self.address = address
        self.length = length
    }

    /// True when `other` lies inside this prefix (equal or longer, same leading bits).
    public func contains(_ other: IPv6Prefix) -> Bool {
        other.length >= length && other.address.masked(to: length) == address
    }

    /// True when `address` lies inside this prefix.
    public func contains(_ address: IPv6Address) -> Bool {
        address.masked(to: length) == self.address
    }

    public var description: String { "\(address)/\(length)" }
}
