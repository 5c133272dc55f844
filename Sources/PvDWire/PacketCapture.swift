/// A Router Advertisement found in a capture file.
public struct CapturedRouterAdvertisement: Sendable {
    /// 1-based packet number in the file.
    public var packet: Int
    /// The IPv6 source address (the router's link-local address).
    public var source: IPv6Address
    /// The ICMPv6 message from its type octet on.
    public var message: [UInt8]
}

/// A capture file that cannot be read, with the byte offset in the file.
public struct CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    public var problem: String
    public var offset: Int

    public var description: String { "capture file, offset \(offset): \(problem)" }
}

/// Reads pcap and pcapng files and picks out the ICMPv6 Router Advertisements.
/// Link types: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2, raw IP.
public enum PacketCapture {
    /// Largest packet record accepted; anything larger means a corrupt file.
    public static let maximumRecordLength = 262_144

    public static func routerAdvertisements(in file: [UInt8]) throws(CaptureError) -> [CapturedRouterAdvertisement] {
        guard file.count >= 4 else { throw CaptureError(problem: "too short for a capture file", offset: 0) }
        let magic = Array(file[0..<4])
        if magic == [0x0A, 0x0D, 0x0D, 0x0A] { return try pcapng(file) }
        return try pcap(file)
    }

    /// Bounds-checked unsigned integers in either byte order.
    private struct Fields {
        let file: [UInt8]
        let bigEndian: Bool

        func uint(_ offset: Int, _ size: Int) throws(CaptureError) -> Int {
            guard offset >= 0, size <= file.count - offset else {
                throw CaptureError(problem: "truncated: needs \(size) octets", offset: offset)
            }
            var value = 0
            for index in 0..<size {
                let byte = Int(file[bigEndian ? offset + index : offset + size - 1 - index])
                value = value << 8 | byte
            }
            return value
        }
    }

    private static func pcap(_ file: [UInt8]) throws(CaptureError) -> [CapturedRouterAdvertisement] {
        let magic = try Fields(file: file, bigEndian: true).uint(0, 4)
        let bigEndian: Bool
        switch magic {
        case 0xA1B2_C3D4, 0xA1B2_3C4D: bigEndian = true
        case 0xD4C3_B2A1, 0x4D3C_B2A1: bigEndian = false
        default: throw CaptureError(problem: "not a pcap or pcapng file (magic 0x\(String(magic, radix: 16)))", offset: 0)
        }
        let fields = Fields(file: file, bigEndian: bigEndian)
        let linkType = try fields.uint(20, 4) & 0xFFFF
        var found: [CapturedRouterAdvertisement] = []
        var offset = 24
        var packet = 0
        while offset < file.count {
            let captured = try fields.uint(offset + 8, 4)
            guard captured <= maximumRecordLength, captured <= file.count - offset - 16 else {
                throw CaptureError(problem: "record of \(captured) octets runs past the end of the file", offset: offset + 8)
            }
            packet += 1
            let data = Array(file[offset + 16..<offset + 16 + captured])
            if let ra = routerAdvertisement(in: data, linkType: linkType, packet: packet) { found.append(ra) }
            offset += 16 + captured
        }
        return found
    }

    private static func pcapng(_ file: [UInt8]) throws(CaptureError) -> [CapturedRouterAdvertisement] {
        var found: [CapturedRouterAdvertisement] = []
        var fields = Fields(file: file, bigEndian: true)
        var linkTypes: [Int] = []
        var offset = 0
        var packet = 0
        while offset < file.count {
            let type = try fields.uint(offset, 4)
            if type == 0x0A0D_0D0A {
                let byteOrder = try fields.uint(offset + 8, 4)
                guard byteOrder == 0x1A2B_3C4D || byteOrder == 0x4D3C_2B1A else {
                    throw CaptureError(problem: "bad byte-order magic in section header", offset: offset + 8)
                }
                fields = Fields(file: file, bigEndian: byteOrder == 0x1A2B_3C4D)
                linkTypes = []
            }
            let length = try fields.uint(offset + 4, 4)
            guard length >= 12, length % 4 == 0, length <= maximumRecordLength + 64, length <= file.count - offset else {
                throw CaptureError(problem: "block length \(length) is invalid", offset: offset + 4)
            }
            switch type {
            case 1:
                linkTypes.append(try fields.uint(offset + 8, 2))
            case 6:
                let interface = try fields.uint(offset + 8, 4)
                let captured = try fields.uint(offset + 20, 4)
                guard interface < linkTypes.count else {
                    throw CaptureError(problem: "packet names interface \(interface), which is not described", offset: offset + 8)
                }
                guard captured <= length - 32 else {
                    throw CaptureError(problem: "packet data runs past its block", offset: offset + 20)
                }
                packet += 1
                let data = Array(file[offset + 28..<offset + 28 + captured])
                if let ra = routerAdvertisement(in: data, linkType: linkTypes[interface], packet: packet) { found.append(ra) }
            case 3:
                guard let linkType = linkTypes.first else {
                    throw CaptureError(problem: "simple packet before any interface description", offset: offset)
                }
                packet += 1
                let original = try fields.uint(offset + 8, 4)
                let data = Array(file[offset + 12..<offset + 12 + min(original, length - 16)])
                if let ra = routerAdvertisement(in: data, linkType: linkType, packet: packet) { found.append(ra) }
            default:
                break
            }
            offset += length
        }
        return found
    }

    /// The RA inside one captured frame, or nil when the frame is something else.
    static func routerAdvertisement(in frame: [UInt8], linkType: Int, packet: Int) -> CapturedRouterAdvertisement? {
        func u16(_ offset: Int) -> Int? {
            offset + 2 <= frame.count ? Int(frame[offset]) << 8 | Int(frame[offset + 1]) : nil
        }
        var ipStart: Int
        switch linkType {
        case 1:  // Ethernet, possibly with VLAN tags
            ipStart = 14
            var etherTypeAt = 12
            while let tag = u16(etherTypeAt), tag == 0x8100 || tag == 0x88A8 {
                etherTypeAt += 4
                ipStart += 4
            }
            guard u16(etherTypeAt) == 0x86DD else { return nil }
        case 113:  // Linux cooked capture v1
            guard u16(14) == 0x86DD else { return nil }
            ipStart = 16
        case 276:  // Linux cooked capture v2
            guard u16(0) == 0x86DD else { return nil }
            ipStart = 20
        case 101, 229:  // raw IP, raw IPv6
            ipStart = 0
        default:
            return nil
        }
        guard frame.count >= ipStart + 40, frame[ipStart] >> 4 == 6,
            let payloadLength = u16(ipStart + 4)
        else { return nil }
        let source = IPv6Address(octets: frame[ipStart + 8..<ipStart + 24])!
        let end = min(frame.count, ipStart + 40 + payloadLength)
        var next = Int(frame[ipStart + 6])
        var offset = ipStart + 40
        // Hop-by-hop, routing and destination options headers may precede ICMPv6.
        while [0, 43, 60].contains(next) {
            guard offset + 2 <= end else { return nil }
            next = Int(frame[offset])
            offset += (Int(frame[offset + 1]) + 1) * 8
        }
        guard next == 58, offset < end, frame[offset] == RouterAdvertisement.icmpType else { return nil }
        return CapturedRouterAdvertisement(packet: packet, source: source, message: Array(frame[offset..<end]))
    }
}
