import Testing

@testable import PvDWire

/// Capture files assembled here octet by octet, in the layouts of libpcap and
/// pcapng, with Ethernet (and a VLAN tag), Linux cooked v1 and v2 framing.
struct PacketCaptureTests {
    static let routerLL = IPv6Address("fe80::1")!
    static let ra = Build.ra(Build.pvd(tail: Build.rdnss()))

    static func ipv6(_ icmp: [UInt8], nextHeader: UInt8 = 58, extensionHeader: [UInt8] = []) -> [UInt8] {
        let payload = extensionHeader + icmp
        return [0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF), nextHeader, 255]
            + routerLL.octets + IPv6Address("ff02::1")!.octets + payload
    }

    static func ethernet(_ packet: [UInt8], vlan: Bool = false) -> [UInt8] {
        [0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1] + (vlan ? [0x81, 0x00, 0, 5] : []) + [0x86, 0xDD] + packet
    }

    static func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    static func be32(_ value: Int) -> [UInt8] { le32(value).reversed() }

    static func pcap(linkType: Int, frames: [[UInt8]], bigEndian: Bool = false) -> [UInt8] {
        let u32 = bigEndian ? be32 : le32
        var file = u32(0xA1B2_C3D4) + (bigEndian ? [0, 2, 0, 4] : [2, 0, 4, 0]) + u32(0) + u32(0) + u32(65535) + u32(linkType)
        for frame in frames { file += u32(1) + u32(0) + u32(frame.count) + u32(frame.count) + frame }
        return file
    }

    static func pcapng(linkType: Int, frames: [[UInt8]]) -> [UInt8] {
        var file = le32(0x0A0D_0D0A) + le32(28) + le32(0x1A2B_3C4D) + [1, 0, 0, 0] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + le32(28)
        file += le32(1) + le32(20) + [UInt8(linkType & 0xFF), UInt8(linkType >> 8), 0, 0] + le32(65535) + le32(20)
        for frame in frames {
            let padded = frame + Array(repeating: 0, count: (4 - frame.count % 4) % 4)
            let length = 32 + padded.count
            file += le32(6) + le32(length) + le32(0) + le32(0) + le32(0) + le32(frame.count) + le32(frame.count) + padded + le32(length)
        }
        return file
    }

    @Test func findsRAsInEthernetPcap() throws {
        let other = Self.ethernet(Self.ipv6([135, 0, 0, 0] + Array(repeating: 0, count: 20)))
        let file = Self.pcap(
            linkType: 1,
            frames: [
                other, Self.ethernet(Self.ipv6(Self.ra)),
                Self.ethernet(Self.ipv6(Self.ra), vlan: true),
            ])
        let found = try PacketCapture.routerAdvertisements(in: file)
        #expect(found.map(\.packet) == [2, 3])
        #expect(found.allSatisfy { $0.message == Self.ra && $0.source == Self.routerLL })
    }

    @Test func findsRAsInBigEndianPcapAfterHopByHop() throws {
        let hopByHop: [UInt8] = [58, 0, 5, 2, 0, 0, 1, 0]
        let frame = Self.ethernet(Self.ipv6(Self.ra, nextHeader: 0, extensionHeader: hopByHop))
        let found = try PacketCapture.routerAdvertisements(in: Self.pcap(linkType: 1, frames: [frame], bigEndian: true))
        #expect(found.map(\.message) == [Self.ra])
    }

    @Test func findsRAsInLinuxCookedCaptures() throws {
        let sll: [UInt8] = [0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xDD] + Self.ipv6(Self.ra)
        let sll2: [UInt8] = [0x86, 0xDD, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + Self.ipv6(Self.ra)
        #expect(try PacketCapture.routerAdvertisements(in: Self.pcap(linkType: 113, frames: [sll])).count == 1)
        #expect(try PacketCapture.routerAdvertisements(in: Self.pcap(linkType: 276, frames: [sll2])).count == 1)
    }

    @Test func findsRAsInPcapng() throws {
        let found = try PacketCapture.routerAdvertisements(in: Self.pcapng(linkType: 1, frames: [Self.ethernet(Self.ipv6(Self.ra))]))
        #expect(found.map(\.message) == [Self.ra])
    }

    @Test func rejectsDamagedFiles() throws {
        let good = Self.pcap(linkType: 1, frames: [Self.ethernet(Self.ipv6(Self.ra))])
        #expect(throws: CaptureError.self) { try PacketCapture.routerAdvertisements(in: Array(good.dropLast(3))) }
        #expect(throws: CaptureError.self) { try PacketCapture.routerAdvertisements(in: Array("hello, world".utf8)) }
        #expect(throws: CaptureError.self) { try PacketCapture.routerAdvertisements(in: [0xD4, 0xC3]) }
        let ng = Self.pcapng(linkType: 1, frames: [Self.ethernet(Self.ipv6(Self.ra))])
        #expect(throws: CaptureError.self) { try PacketCapture.routerAdvertisements(in: Array(ng.dropLast(8))) }
    }
}
