extension RouterAdvertisement {
    /// Decodes an RA from the ICMPv6 type octet on, as libndp delivers it.
    /// The checksum is kept but not verified.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> RouterAdvertisement {
        var notes: [ParseNote] = []
        return try parse(bytes, notes: &notes)
    }

    /// Decodes an RA and appends to `notes` what it ignored as the RFCs direct
    /// (nested or repeated PvD options, non-zero PvD padding or reserved flags).
    public static func parse(_ bytes: [UInt8], notes: inout [ParseNote]) throws(ParseError) -> RouterAdvertisement {
        var reader = WireReader(bytes)
        try reader.require(headerLength, .body)
        let type = try reader.u8(.type)
        guard type == icmpType else { throw reader.error(.notRouterAdvertisement(type: type), .type, at: 0) }
        let code = try reader.u8(.code)
        guard code == 0 else { throw reader.error(.nonZeroCode(code), .code, at: 1) }
        let checksum = try reader.u16(.checksum)
        let header = try parseHeaderFields(&reader)
        let options = try parseOptions(&reader, nested: false, notes: &notes)
        return RouterAdvertisement(checksum: checksum, header: header, options: options)
    }

    /// Cur hop limit through retrans timer: the 12 octets after the checksum.
    private static func parseHeaderFields(_ reader: inout WireReader) throws(ParseError) -> RouterAdvertisementHeader {
        RouterAdvertisementHeader(
            curHopLimit: try reader.u8(.body), flags: try reader.u8(.flags),
            routerLifetime: try reader.u16(.body), reachableTime: try reader.u32(.body),
            retransTimer: try reader.u32(.body))
    }

    /// Options until the end of `reader`: the whole message, or the PvD option's body when `nested`.
    private static func parseOptions(
        _ reader: inout WireReader, nested: Bool,
        notes: inout [ParseNote]
    ) throws(ParseError) -> [NDOption] {
        var options: [NDOption] = []
        options.reserveCapacity(min(reader.remaining / 8, 16))
        var sawPvD = false
        while !reader.isAtEnd {
            let start = reader.offset
            let type = reader.peek()
            let part: MessagePart = nested ? .nestedOption(type) : .option(type)
            guard reader.remaining >= 2 else {
                throw ParseError(.truncated(needed: 2, available: reader.remaining), part: part, field: .length, offset: start)
            }
            let length = Int(reader.peek(at: 1))
            guard length > 0 else { throw ParseError(.zeroLength, part: part, field: .length, offset: start + 1) }
            guard length * 8 <= reader.remaining else {
                throw ParseError(
                    .truncated(needed: length * 8, available: reader.remaining),
                    part: part, field: .length, offset: start + 1)
            }
            let outer = reader.enter(length * 8, as: part)
            defer { reader.leave(outer) }
            reader.skip(2)
            switch type {
            case OptionType.provisioningDomain:
                if nested {
                    notes.append(ParseNote(kind: .nestedPvDOption, offset: start))
                } else if sawPvD {
                    notes.append(ParseNote(kind: .additionalPvDOption, offset: start))
                } else {
                    sawPvD = true
                    options.append(.provisioningDomain(try parsePvD(&reader, notes: &notes)))
                }
            case OptionType.sourceLinkLayerAddress:
                options.append(.sourceLinkLayerAddress(try reader.octets(reader.remaining, .body)))
            case OptionType.mtu:
                options.append(.mtu(try parseMTU(&reader, length: length)))
            case OptionType.prefixInformation:
                options.append(.prefixInformation(try parsePrefixInformation(&reader, length: length)))
            case OptionType.routeInformation:
                options.append(.routeInformation(try parseRouteInformation(&reader, length: length)))
            case OptionType.recursiveDNSServers:
                options.append(.recursiveDNSServers(try parseRDNSS(&reader, length: length)))
            case OptionType.dnsSearchList:
                options.append(.dnsSearchList(try parseDNSSL(&reader, length: length)))
            default:
                options.append(.unknown(type: type, body: try reader.octets(reader.remaining, .body)))
            }
        }
        return options
    }

    /// Throws `invalidLength` unless `isAllowed`; `allowed` is only built for the error.
    private static func checkLength(
        _ reader: WireReader, _ length: Int, _ allowed: @autoclosure () -> String,
        _ isAllowed: Bool
    ) throws(ParseError) {
        guard isAllowed else { throw reader.error(.invalidLength(length, allowed: allowed()), .length, at: reader.start + 1) }
    }

    /// RFC 4861 §4.6.4: length 1, two reserved octets, the MTU.
    private static func parseMTU(_ reader: inout WireReader, length: Int) throws(ParseError) -> UInt32 {
        try checkLength(reader, length, "1", length == 1)
        reader.skip(2)
        return try reader.u32(.body)
    }

    /// RFC 4861 §4.6.2: length 4; reserved octets ignored.
    private static func parsePrefixInformation(
        _ reader: inout WireReader,
        length: Int
    ) throws(ParseError) -> PrefixInformation {
        try checkLength(reader, length, "4", length == 4)
        let prefixLength = try reader.u8(.prefixLength)
        guard prefixLength <= 128 else {
            throw reader.error(.prefixLengthTooLong(Int(prefixLength)), .prefixLength, at: reader.offset - 1)
        }
        let flags = try reader.u8(.flags)
        let valid = try reader.u32(.body)
        let preferred = try reader.u32(.body)
        reader.skip(4)
        var option = PrefixInformation(
            prefix: IPv6Prefix(address: .unspecified, length: 0)!, flags: flags,
            validLifetime: valid, preferredLifetime: preferred)
        option.address = try reader.address(.prefix)
        option.prefixLength = prefixLength
        return option
    }

    /// RFC 4191 §2.3: length 1 to 3, large enough for the prefix length.
    private static func parseRouteInformation(
        _ reader: inout WireReader,
        length: Int
    ) throws(ParseError) -> RouteInformation {
        try checkLength(reader, length, "1, 2 or 3", (1...3).contains(length))
        let prefixLength = try reader.u8(.prefixLength)
        guard prefixLength <= 128 else {
            throw reader.error(.prefixLengthTooLong(Int(prefixLength)), .prefixLength, at: reader.offset - 1)
        }
        let minimum = Int(RouteInformation.minimumOptionLength(prefixLength: Int(prefixLength)))
        try checkLength(reader, length, "at least \(minimum) for prefix length \(prefixLength)", length >= minimum)
        let flags = try reader.u8(.flags)
        let lifetime = try reader.u32(.body)
        var option = RouteInformation(prefix: IPv6Prefix(address: .unspecified, length: 0)!, lifetime: lifetime)
        option.address = try reader.partialAddress(reader.remaining, .prefix)
        option.prefixLength = prefixLength
        option.flags = flags
        option.optionLength = UInt8(length)
        return option
    }

    /// RFC 8106 §5.1: odd length of at least 3, one address per two units.
    private static func parseRDNSS(_ reader: inout WireReader, length: Int) throws(ParseError) -> RecursiveDNSServers {
        try checkLength(reader, length, "odd and at least 3", length >= 3 && length % 2 == 1)
        reader.skip(2)
        let lifetime = try reader.u32(.body)
        return RecursiveDNSServers(lifetime: lifetime, serverOctets: try reader.octets(reader.remaining, .servers))
    }

    /// RFC 8106 §5.2: length of at least 2, names then zero padding.
    private static func parseDNSSL(_ reader: inout WireReader, length: Int) throws(ParseError) -> DNSSearchList {
        try checkLength(reader, length, "at least 2", length >= 2)
        reader.skip(2)
        let lifetime = try reader.u32(.body)
        let namesStart = reader.offset
        while !reader.isAtEnd, reader.peek() != 0 {
            _ = try reader.domainName(.domainName)
        }
        guard reader.offset > namesStart else { throw reader.error(.noDomainNames, .domainName, at: reader.start + 8) }
        let names = reader.bytes[namesStart..<reader.offset]
        try checkZeroPadding(&reader)
        return DNSSearchList(lifetime: lifetime, namesWire: names)
    }

    private static func checkZeroPadding(_ reader: inout WireReader) throws(ParseError) {
        if let offset = reader.firstNonZero() { throw reader.error(.nonZeroPadding, .padding, at: offset) }
    }

    /// RFC 8801 §3.1: flags, sequence, PvD ID, padding to 8 octets, the RA
    /// header when R is set, then nested options up to the end of the option.
    private static func parsePvD(_ reader: inout WireReader, notes: inout [ParseNote]) throws(ParseError) -> PvDOption {
        let optionStart = reader.start
        let flags = try reader.u16(.flags)
        let sequence = try reader.u16(.sequence)
        let idStart = reader.offset
        let id = try reader.domainName(.pvdID)
        guard !id.isRoot else { throw reader.error(.emptyName, .pvdID, at: idStart) }
        let padding = (8 - (reader.offset - optionStart) % 8) % 8
        try reader.require(padding, .padding)
        for index in 0..<padding where reader.peek(at: index) != 0 {
            notes.append(ParseNote(kind: .nonZeroPvDPadding, offset: reader.offset + index))
            break
        }
        reader.skip(padding)
        if flags & PvDOption.Flag.reserved != 0 {
            notes.append(ParseNote(kind: .reservedPvDFlags(flags & PvDOption.Flag.reserved), offset: optionStart + 2))
        }
        var header: RouterAdvertisementHeader?
        if flags & PvDOption.Flag.routerAdvertisement != 0 {
            try reader.require(headerLength, .raHeader)
            reader.skip(4)  // Type, Code and Checksum: the receiver ignores them.
            header = try parseHeaderFields(&reader)
        }
        let options = try parseOptions(&reader, nested: true, notes: &notes)
        return PvDOption(
            id: id, http: flags & PvDOption.Flag.http != 0, legacy: flags & PvDOption.Flag.legacy != 0,
            delay: UInt8(flags & PvDOption.Flag.delay), sequence: sequence,
            routerAdvertisementHeader: header, options: options)
    }
}
