/// Where in a Router Advertisement a parse error or note arose.
public enum MessagePart: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The fixed RA header (RFC 4861 §4.2).
    case header
    /// A top-level ND option of this type.
    case option(UInt8)
    /// An option of this type nested inside the PvD option.
    case nestedOption(UInt8)

    public var description: String {
        switch self {
        case .header: "RA header"
        case .option(let type): OptionType.name(type)
        case .nestedOption(let type): "\(OptionType.name(type)) inside the PvD option"
        }
    }
}

/// The field of a message part that a parse error names.
public enum MessageField: String, Equatable, Hashable, Sendable {
    case type, code, checksum, length, flags, body, sequence
    case prefixLength = "prefix length"
    case prefix
    case servers
    case domainName = "domain name"
    case pvdID = "PvD ID"
    case padding
    case raHeader = "RA header"
}

/// A Router Advertisement that cannot be decoded: what was wrong, in which
/// part and field, and at which byte offset from the start of the ICMPv6 message.
public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The field needs `needed` octets but only `available` remain in its enclosing part.
        case truncated(needed: Int, available: Int)
        /// The ICMPv6 type is not 134.
        case notRouterAdvertisement(type: UInt8)
        /// The ICMPv6 code is not 0 (RFC 4861 §6.1.2).
        case nonZeroCode(UInt8)
        /// An option length of zero (RFC 4861 §4.6).
        case zeroLength
        /// An option length (in units of 8 octets) that its type does not allow.
        case invalidLength(Int, allowed: String)
        /// A prefix length above 128.
        case prefixLengthTooLong(Int)
        /// A domain-name label longer than 63 octets.
        case labelTooLong(Int)
        /// A domain name longer than 255 octets.
        case nameTooLong(Int)
        /// A DNS compression pointer, which ND options must not use.
        case compressionPointer
        /// The name runs to the end of its field without a root label.
        case missingRootLabel
        /// The PvD ID is the root name alone.
        case emptyName
        /// Octets after the last domain name of a DNSSL option that are not zero.
        case nonZeroPadding
        /// A DNSSL option that holds no domain name.
        case noDomainNames
    }

    public var reason: Reason
    public var part: MessagePart
    public var field: MessageField
    /// Offset from the ICMPv6 type octet.
    public var offset: Int

    public init(_ reason: Reason, part: MessagePart, field: MessageField, offset: Int) {
        self.reason = reason
        self.part = part
        self.field = field
        self.offset = offset
    }

    public var description: String {
        "\(part), field \(field.rawValue), offset \(offset): \(reasonText)"
    }

    private var reasonText: String {
        switch reason {
        case .truncated(let needed, let available):
            "needs \(needed) octets, only \(available) left"
        case .notRouterAdvertisement(let type): "ICMPv6 type \(type) is not a Router Advertisement (134)"
        case .nonZeroCode(let code): "ICMPv6 code \(code) is not 0"
        case .zeroLength: "option length 0"
        case .invalidLength(let length, let allowed): "length \(length) (×8 octets) is invalid, must be \(allowed)"
        case .prefixLengthTooLong(let length): "prefix length \(length) is longer than 128"
        case .labelTooLong(let length): "label of \(length) octets is longer than 63"
        case .nameTooLong(let length): "name of \(length) octets is longer than 255"
        case .compressionPointer: "compression pointer in a domain name"
        case .missingRootLabel: "domain name has no root label"
        case .emptyName: "the name is empty (root only)"
        case .nonZeroPadding: "padding is not zero"
        case .noDomainNames: "no domain name"
        }
    }
}

/// Something in a valid RA that was ignored, as the RFCs tell a receiver to.
public struct ParseNote: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// A PvD option inside a PvD option (RFC 8801 §3.1: ignored).
        case nestedPvDOption
        /// A second or later PvD option in one RA (RFC 8801 §3.4: all but the first ignored).
        case additionalPvDOption
        /// Non-zero octets in the PvD option's padding (RFC 8801: ignored by the receiver).
        case nonZeroPvDPadding
        /// Non-zero bits in the PvD option's reserved flags (ignored).
        case reservedPvDFlags(UInt16)
    }

    public var kind: Kind
    public var offset: Int

    public var description: String {
        switch kind {
        case .nestedPvDOption: "offset \(offset): PvD option inside a PvD option ignored"
        case .additionalPvDOption: "offset \(offset): second PvD option in one RA ignored"
        case .nonZeroPvDPadding: "offset \(offset): non-zero PvD option padding ignored"
        case .reservedPvDFlags(let bits): "offset \(offset): reserved PvD flags 0x\(String(bits, radix: 16)) ignored"
        }
    }
}
