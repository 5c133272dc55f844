import PvDCore
import PvDWire
import Testing

@testable import HostNet

/// What HostNet asks the kernel for, without root: NetlinkSocket's change
/// requests go to a recording transport and are read back field by field;
/// a route dump recorded from a real kernel is replayed through the parser
/// the daemon uses.
struct NetlinkRequestTests {
    /// One netlink message read back: header, the family header's bytes, and
    /// the attributes (type → payload).
    struct Message {
        var type: UInt16
        var flags: UInt16
        var family: [UInt8]
        var attributes: [(type: UInt16, payload: [UInt8])]

        init(_ bytes: [UInt8], familyHeader: Int) throws {
            func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
            func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
            try #require(bytes.count >= 16 + familyHeader && Int(u32(0)) == bytes.count, "one whole message")
            type = u16(4)
            flags = u16(6)
            family = Array(bytes[16..<16 + familyHeader])
            attributes = []
            var offset = 16 + familyHeader
            while offset + 4 <= bytes.count {
                let length = Int(u16(offset))
                try #require(length >= 4 && offset + length <= bytes.count, "attribute at \(offset) fits")
                attributes.append((u16(offset) == 0 ? 0 : u16(offset + 2) & 0x3FFF, Array(bytes[offset + 4..<offset + length])))
                offset += (length + 3) & ~3
            }
        }

        func attribute(_ type: UInt16) -> [UInt8]? { attributes.first { $0.type == type }?.payload }
    }

    static let newAddress: UInt16 = 20, delAddress: UInt16 = 21, newRoute: UInt16 = 24, delRoute: UInt16 = 25
    static let newNeighbour: UInt16 = 28, newRule: UInt16 = 32
    static let create: UInt16 = 0x400, exclusive: UInt16 = 0x200

    func socket(_ transport: RecordingNetlinkTransport) -> NetlinkSocket { NetlinkSocket(namespace: "test", transport: transport) }

    @Test func anAddressIsAddedWithoutKernelDAD() throws {
        let transport = RecordingNetlinkTransport()
        let address = IPv6Address("2001:db8:1::5")!
        try socket(transport).addAddress(KernelAddress(interfaceIndex: 7, address: address, prefixLength: 128), on: "pvd0")
        let message = try Message(try #require(transport.requests.first), familyHeader: 8)
        #expect(message.type == Self.newAddress)
        #expect(message.flags & (Self.create | Self.exclusive) == Self.create | Self.exclusive, "never replaces an address")
        #expect(message.family[0] == 10 && message.family[1] == 128, "AF_INET6, /128")
        #expect(message.family[2] & 0x02 != 0, "IFA_F_NODAD: pvd probes the uplink itself")
        #expect(message.family[4..<8] == [7, 0, 0, 0], "on interface 7")
        #expect(message.attribute(2) == address.octets, "IFA_LOCAL")
    }

    @Test func aPerSourceMultipathDefaultRoute() throws {
        let transport = RecordingNetlinkTransport()
        let route = KernelRoute(
            destination: IPv6Prefix("::/0")!, table: 1005, interfaceIndex: 3, gateways: [IPv6Address("fe80::11")!, IPv6Address("fe80::12")!],
            source: IPv6Prefix("2001:db8:1::5/128")!)
        try socket(transport).addRoute(route, linkName: "up0")
        let message = try Message(try #require(transport.requests.first), familyHeader: 12)
        #expect(message.type == Self.newRoute && message.flags & Self.exclusive != 0)
        #expect(message.family[0] == 10 && message.family[1] == 0 && message.family[2] == 128, "AF_INET6, dst /0, src /128")
        #expect(message.family[5] == 4, "proto static")
        #expect(message.attribute(15) == [0xED, 0x03, 0, 0], "RTA_TABLE 1005")
        #expect(message.attribute(2) == IPv6Address("2001:db8:1::5")!.octets, "RTA_SRC")
        let multipath = try #require(message.attribute(9), "RTA_MULTIPATH")
        #expect(multipath.count == 2 * (8 + 20), "two next hops, each with its gateway")
        #expect(multipath[4] == 3 && multipath[8 + 20 + 4] == 3, "both out of interface 3")
    }

    @Test func aDeletedRouteNamesNoProtocol() throws {
        let transport = RecordingNetlinkTransport()
        try socket(transport).deleteRoute(
            KernelRoute(destination: IPv6Prefix("2001:db8:1::5/128")!, table: 254, interfaceIndex: 9, gateways: []), linkName: "pvh0005")
        let message = try Message(try #require(transport.requests.first), familyHeader: 12)
        #expect(message.type == Self.delRoute)
        #expect(message.family[5] == 0, "RTPROT_UNSPEC: the kernel deletes a route only of the protocol named, and leftovers may be of any")
    }

    @Test func aProxyEntryIsPermanentAndMarkedProxy() throws {
        let transport = RecordingNetlinkTransport()
        let address = IPv6Address("2001:db8:1::5")!
        try socket(transport).addProxy(address, interfaceIndex: 2, linkName: "up0")
        let message = try Message(try #require(transport.requests.first), familyHeader: 12)
        #expect(message.type == Self.newNeighbour)
        #expect(message.family[0] == 10 && message.family[4] == 2, "AF_INET6 on interface 2")
        #expect(message.family[8] == 0x80 && message.family[10] == 0x08, "NUD_PERMANENT, NTF_PROXY")
        #expect(message.attribute(1) == address.octets, "NDA_DST")
    }

    @Test func aBlackholeRuleForTheVeth() throws {
        let transport = RecordingNetlinkTransport()
        try socket(transport).addRule(KernelRule(priority: 10_011, source: nil, inputInterface: "pvh0005", action: .blackhole))
        let message = try Message(try #require(transport.requests.first), familyHeader: 12)
        #expect(message.type == Self.newRule)
        #expect(message.family[0] == 10 && message.family[7] == 6, "AF_INET6, FR_ACT_BLACKHOLE")
        #expect(message.attribute(6) == [0x1B, 0x27, 0, 0], "FRA_PRIORITY 10011")
        #expect(message.attribute(3) == Array("pvh0005".utf8) + [0], "FRA_IFNAME")
    }

    @Test func theKernelsRefusalBecomesASystemErrorNamingTheStep() throws {
        let transport = RecordingNetlinkTransport(replies: [-6])  // NLE_EXIST
        let entry = KernelAddress(interfaceIndex: 7, address: IPv6Address("2001:db8:1::5")!, prefixLength: 128)
        do {
            try socket(transport).addAddress(entry, on: "pvd0")
            Issue.record("the refusal was not reported")
        } catch {
            #expect(error.step == "add address" && error.object == "2001:db8:1::5/128 on pvd0 in test" && error.code == .netlink(6))
            #expect(error.reason == "Object exists")
        }
        #expect(transport.requests.count == 1)
    }

    /// `ip -6 route add default from 2001:db8:1::5/128 table 1000 proto static
    /// nexthop via fe80::11 dev d0 nexthop via fe80::12 dev d0` and
    /// `ip -6 route add 2001:db8:1::/64 dev d0 table 1000 proto static`, dumped
    /// from kernel 6.18 with a raw RTM_GETROUTE (d0 is interface 3).
    static let recordedDump =
        "a800000018000200010000009a6700000a008000fc0400010000000008000f00e80300001400020020010db800010000000000000000000508000600000400003c0009001c0000000300000014000500fe8000000000000000000000000000111c0000000300000014000500fe80000000000000000000000000001224000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000"
        + "7400000018000200010000009a6700000a400000fc0400010000000008000f00e80300001400010020010db80001000000000000000000000800060000040000080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000"

    @Test func aRecordedDumpReadsBackAsTheRoutesMade() throws {
        let hex = Array(Self.recordedDump.utf8)
        let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        let routes = NetlinkSocket.routes(inMessages: bytes)
        #expect(routes.count == 2, "routes that differ only in their source stay apart (libnl's cache would merge them)")
        #expect(
            routes.first
                == KernelRoute(
                    destination: IPv6Prefix("::/0")!, table: 1000, interfaceIndex: 3, gateways: [IPv6Address("fe80::11")!, IPv6Address("fe80::12")!],
                    source: IPv6Prefix("2001:db8:1::5/128")!, origin: 4))
        #expect(
            routes.last == KernelRoute(destination: IPv6Prefix("2001:db8:1::/64")!, table: 1000, interfaceIndex: 3, gateways: [], origin: 4))
    }
}
