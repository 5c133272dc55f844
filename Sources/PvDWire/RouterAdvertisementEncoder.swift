/// A value that has no valid wire form.
public struct EncodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The part of the message, as in ``ParseError``.
    public var part: MessagePart
    /// What is wrong with it.
    public var problem: String

    public init(part: MessagePart, problem: String) {
        self.part = part
        self.problem = problem
    }

    public var description: String { "cannot encode \(part): \(problem)" }
}

extension RouterAdvertisement {
    /// The RA in wire form from the ICMPv6 type octet on, with the stored checksum
    /// (the kernel fills it in on send). `parse(encoded())` gives back this value,
    /// and for a valid message `encoded(parse(x)) == x`.
    public func encoded() throws(EncodeError) -> [UInt8] {
        var writer = WireWriter()
        writer.u8(RouterAdvertisement.icmpType)
        writer.u8(0)
        writer.u16(checksum)
        writer.headerFields(header)
        let pvdCount = options.count { if case .provisioningDomain = $0 { true } else { false } }
        guard pvdCount <= 1 else {
            throw EncodeError(part: .option(OptionType.provisioningDomain), problem: "an RA carries at most one PvD option")
        }
        for option in options { try writer.option(option, nested: false) }
        return writer.bytes
    }
}

extension WireWriter {
    mutating func headerFields(_ header: RouterAdvertisementHeader) {
        u8(header.curHopLimit)
        u8(header.flags)
        u16(header.routerLifetime)
        u32(header.reachableTime)
        u32(header.retransTimer)
    }

    /// Type, length, `body`, then zero padding to a multiple of 8 octets.
    mutating func withOption(
        _ type: UInt8, nested: Bool,
        _ body: (inout WireWriter) throws(EncodeError) -> Void
    ) throws(EncodeError) {
        let start = bytes.count
        u8(type)
        u8(0)
        try body(&self)
        zeros((8 - (bytes.count - start) % 8) % 8)
        let units = (bytes.count - start) / 8
        guard units <= 255 else {
            throw EncodeError(
                part: nested ? .nestedOption(type) : .option(type),
                problem: "\(units * 8) octets is longer than an option can be (2040)")
        }
        bytes[start + 1] = UInt8(units)
    }

    mutating func option(_ option: NDOption, nested: Bool) throws(EncodeError) {
        func fail(_ type: UInt8, _ problem: String) -> EncodeError {
            EncodeError(part: nested ? .nestedOption(type) : .option(type), problem: problem)
        }
        switch option {
        case .sourceLinkLayerAddress(let body):
            try raw(OptionType.sourceLinkLayerAddress, body, nested: nested)
        case .unknown(let type, let body):
            guard
                ![
                    OptionType.sourceLinkLayerAddress, OptionType.prefixInformation, OptionType.mtu,
                    OptionType.provisioningDomain, OptionType.routeInformation, OptionType.recursiveDNSServers,
                    OptionType.dnsSearchList,
                ].contains(type)
            else {
                throw fail(type, "type \(type) has its own case; an unknown option cannot use it")
            }
            try raw(type, body, nested: nested)
        case .mtu(let mtu):
            try withOption(OptionType.mtu, nested: nested) { writer throws(EncodeError) in
                writer.u16(0)
                writer.u32(mtu)
            }
        case .prefixInformation(let pio):
            guard pio.prefixLength <= 128 else { throw fail(OptionType.prefixInformation, "prefix length above 128") }
            try withOption(OptionType.prefixInformation, nested: nested) { writer throws(EncodeError) in
                writer.u8(pio.prefixLength)
                writer.u8(pio.flags)
                writer.u32(pio.validLifetime)
                writer.u32(pio.preferredLifetime)
                writer.u32(0)
                writer.address(pio.address)
            }
        case .routeInformation(let rio):
            let minimum = RouteInformation.minimumOptionLength(prefixLength: Int(rio.prefixLength))
            guard rio.prefixLength <= 128, (minimum...3).contains(rio.optionLength) else {
                throw fail(
                    OptionType.routeInformation,
                    "option length \(rio.optionLength) does not fit prefix length \(rio.prefixLength)")
            }
            try withOption(OptionType.routeInformation, nested: nested) { writer throws(EncodeError) in
                writer.u8(rio.prefixLength)
                writer.u8(rio.flags)
                writer.u32(rio.lifetime)
                writer.append(rio.address.octets.prefix(Int(rio.optionLength - 1) * 8))
            }
        case .recursiveDNSServers(let rdnss):
            guard !rdnss.serverOctets.isEmpty else { throw fail(OptionType.recursiveDNSServers, "no server address") }
            try withOption(OptionType.recursiveDNSServers, nested: nested) { writer throws(EncodeError) in
                writer.u16(0)
                writer.u32(rdnss.lifetime)
                writer.append(rdnss.serverOctets)
            }
        case .dnsSearchList(let dnssl):
            let domains = dnssl.domains
            guard !domains.isEmpty, !domains.contains(where: \.isRoot) else {
                throw fail(OptionType.dnsSearchList, "needs at least one domain, and the root name is not one")
            }
            try withOption(OptionType.dnsSearchList, nested: nested) { writer throws(EncodeError) in
                writer.u16(0)
                writer.u32(dnssl.lifetime)
                writer.append(dnssl.namesWire)
            }
        case .provisioningDomain(let pvd):
            guard !nested else { throw fail(OptionType.provisioningDomain, "a PvD option cannot be nested") }
            try provisioningDomain(pvd)
        }
    }

    private mutating func raw(_ type: UInt8, _ body: ArraySlice<UInt8>, nested: Bool) throws(EncodeError) {
        guard (body.count + 2) % 8 == 0 else {
            throw EncodeError(
                part: nested ? .nestedOption(type) : .option(type),
                problem: "body of \(body.count) octets; type, length and body must fill whole 8-octet units")
        }
        try withOption(type, nested: nested) { writer throws(EncodeError) in writer.append(body) }
    }

    private mutating func provisioningDomain(_ pvd: PvDOption) throws(EncodeError) {
        let part = MessagePart.option(OptionType.provisioningDomain)
        guard pvd.delay <= 15 else { throw EncodeError(part: part, problem: "delay \(pvd.delay) is above 15") }
        guard !pvd.id.isRoot else { throw EncodeError(part: part, problem: "the PvD ID is empty") }
        try withOption(OptionType.provisioningDomain, nested: false) { writer throws(EncodeError) in
            var flags = UInt16(pvd.delay)
            if pvd.http { flags |= PvDOption.Flag.http }
            if pvd.legacy { flags |= PvDOption.Flag.legacy }
            if pvd.routerAdvertisementHeader != nil { flags |= PvDOption.Flag.routerAdvertisement }
            writer.u16(flags)
            writer.u16(pvd.sequence)
            writer.append(pvd.id.wire)
            writer.zeros((8 - (pvd.id.wire.count + 6) % 8) % 8)
            if let header = pvd.routerAdvertisementHeader {
                writer.u8(RouterAdvertisement.icmpType)
                writer.u8(0)
                writer.u16(0)
                writer.headerFields(header)
            }
            for option in pvd.options { try writer.option(option, nested: true) }
        }
    }
}
