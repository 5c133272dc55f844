import Testing

@testable import BusWire

/// The D-Bus wire codec against messages dbus-daemon and sd-bus really sent
/// (captured with strace from `pvd exec` in a lab), hand-made big-endian and
/// malformed messages.
struct BusWireMessageTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    /// pvdd's reply to OpenDomain("pvdx-exec"), relayed by dbus-daemon: (h, s, s) with one descriptor.
    static let openDomainReply = bytes(
        "6c020101260000004d0600003d000000050175000200000006017300060000003a312e383035000008016700036873730000000000000000"
            + "090175000100000007017300040000003a312e30000000000000000009000000707664782d657865630000000d0000007076642d70"
            + "7664782d6578656300")
    /// pvdd's error for an unknown domain.
    static let unknownDomainError = bytes(
        "6c030101330000004f06000055000000050175000200000006017300060000003a312e3830360000040173001c0000006f72672e707664"
            + "312e4572726f722e556e6b6e6f776e446f6d61696e00000000080167000173000007017300040000003a312e30000000002e000000"
            + "6e6f20646f6d61696e2069732063616c6c656420226e6f7375636822206f7220737461727473207769746820697400")
    /// sd-bus's OpenDomain call (its header fields in another order than ours).
    static let sdBusOpenDomainCall = bytes(
        "6c0100010e000000020000006f00000001016f00090000002f6f72672f7076643100000000000000030173000a0000004f70656e446f6d"
            + "61696e00000000000002017300100000006f72672e707664312e4d616e61676572000000000000000006017300080000006f72672e"
            + "707664310000000000000000080167000173000009000000707664782d6578656300")

    @Test func decodesAReplyWithADescriptor() throws {
        let reply = try BusWireMessage(decoding: Self.openDomainReply)
        #expect(reply.kind == .methodReturn)
        #expect(reply.serial == 1613)
        #expect(reply.replySerial == 2)
        #expect(reply.sender == ":1.0")
        #expect(reply.destination == ":1.805")
        #expect(reply.unixFDs == 1)
        #expect(reply.body == [.unixFD(0), .string("pvdx-exec"), .string("pvd-pvdx-exec")])
        #expect(try BusWireMessage.length(ofMessageStartingWith: Self.openDomainReply.prefix(16)) == Self.openDomainReply.count)
    }

    @Test func decodesAnError() throws {
        let error = try BusWireMessage(decoding: Self.unknownDomainError)
        #expect(error.kind == .error)
        #expect(error.errorName == "org.pvd1.Error.UnknownDomain")
        #expect(error.replySerial == 2)
        #expect(error.body == [.string("no domain is called \"nosuch\" or starts with it")])
    }

    @Test func encodesWhatSdBusDecodesTheSame() throws {
        let call = BusWireMessage.methodCall(
            serial: 2, destination: "org.pvd1", path: "/org/pvd1", interface: "org.pvd1.Manager",
            member: "OpenDomain", arguments: [.string("pvdx-exec")])
        let encoded = try call.encoded()
        #expect(encoded.count == Self.sdBusOpenDomainCall.count)
        #expect(try BusWireMessage(decoding: encoded) == (try BusWireMessage(decoding: Self.sdBusOpenDomainCall)))
    }

    @Test func everyTypeRoundTrips() throws {
        var message = BusWireMessage(kind: .signal, serial: 7)
        message.path = "/org/pvd1/domain/corp"
        message.interface = "org.pvd1.Domain"
        message.member = "Changed"
        message.unixFDs = 2
        message.body = [
            .byte(0xFF), .boolean(true), .int16(-2), .uint16(65535), .int32(-3), .uint32(4), .int64(-5), .uint64(6),
            .double(2.5), .string("naïve"), .objectPath("/"), .typeSignature("a{sv}"), .unixFD(1),
            .array(elementSignature: "t", []),
            .array(elementSignature: "(yv)", [.structure([.byte(1), .variant(.array(elementSignature: "s", [.string("x")]))])]),
            .dictionary([("Flags", .dictionary([("H", .boolean(false))])), ("Lifetime", .uint64(1800))]),
        ]
        let encoded = try message.encoded()
        #expect(try BusWireMessage(decoding: encoded) == message)
    }

    @Test func decodesBigEndian() throws {
        // An error reply, serial 5, to serial 1: ERROR_NAME "a.b", REPLY_SERIAL 1; no body.
        let message: [UInt8] = [
            UInt8(ascii: "B"), 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0x18,
            4, 1, UInt8(ascii: "s"), 0, 0, 0, 0, 3, UInt8(ascii: "a"), UInt8(ascii: "."), UInt8(ascii: "b"), 0, 0, 0, 0, 0,
            5, 1, UInt8(ascii: "u"), 0, 0, 0, 0, 1,
        ]
        let decoded = try BusWireMessage(decoding: message)
        #expect(decoded.kind == .error)
        #expect(decoded.serial == 5)
        #expect(decoded.errorName == "a.b")
        #expect(decoded.replySerial == 1)
    }

    /// Each malformed message is refused with the offset of what is wrong:
    /// (what, bytes changed as (offset, new value), bytes added (+1) or removed (-1) at the end, offset named).
    @Test(
        arguments: [
            ("truncated", [], -1, 117),
            ("byte order", [(0, 0x78)], 0, 0),
            ("version", [(3, 2)], 0, 3),
            ("padding", [(39, 1)], 0, 39),
            ("descriptor index", [(80, 1)], 0, 80),
            ("string terminator", [(97, 0x41)], 0, 97),
            ("non-UTF-8", [(88, 0xFF)], 0, 88),
            ("trailing bytes", [(4, 0x27)], 1, 118),
        ] as [(String, [(Int, UInt8)], Int, Int)])
    func refusesMalformedMessages(name: String, changes: [(Int, UInt8)], resize: Int, offset: Int) {
        var bytes = Self.openDomainReply
        for (index, value) in changes { bytes[index] = value }
        if resize < 0 { bytes.removeLast() } else if resize > 0 { bytes.append(0) }
        do {
            _ = try BusWireMessage(decoding: bytes)
            Issue.record("\(name): decoded")
        } catch {
            #expect(error.offset == offset, "\(name): \(error)")
        }
    }

    @Test func refusesDeepNestingAndBadSignatures() {
        #expect(throws: BusWireError.self) { try BusWireType.parse(Array(String(repeating: "a", count: 33).utf8) + [UInt8(ascii: "y")], at: 0) }
        #expect(throws: BusWireError.self) { try BusWireType.parse(Array("a{vs}".utf8), at: 0) }
        #expect(throws: BusWireError.self) { try BusWireType.parse(Array("()".utf8), at: 0) }
        #expect(throws: BusWireError.self) { try BusWireType.parse(Array("(ss".utf8), at: 0) }
        #expect(throws: BusWireError.self) { try BusWireType.parse(Array("a{sss}".utf8), at: 0) }
        #expect(throws: BusWireError.self) {
            try BusWireMessage.methodCall(serial: 1, destination: "d", path: "no/slash", interface: "i", member: "m").encoded()
        }
    }

    @Test func refusesAMessageWithoutItsRequiredFields() throws {
        var reply = BusWireMessage(kind: .methodReturn, serial: 3)
        reply.replySerial = 1
        var bytes = try reply.encoded()
        // Turn the REPLY_SERIAL field (code 5) into an unknown one (code 99): still well formed, now incomplete.
        bytes[16] = 99
        #expect(throws: BusWireError("methodReturn without its reply serial header field", at: 12)) {
            try BusWireMessage(decoding: bytes)
        }
    }

    @Test(arguments: [
        ("unix:path=/run/dbus/system_bus_socket", Array("/run/dbus/system_bus_socket".utf8)),
        ("unix:abstract=/tmp/dbus-x,guid=0123", [0] + Array("/tmp/dbus-x".utf8)),
        ("unix:guid=0123,path=/tmp/bus", Array("/tmp/bus".utf8)),
        ("tcp:host=localhost,port=1;unix:path=/a%20b", Array("/a b".utf8)),
    ])
    func readsUnixAddresses(address: String, socketPath: [UInt8]) {
        #expect(BusAddress(address)?.socketPath == socketPath)
    }

    @Test(arguments: ["tcp:host=localhost,port=1", "unix:path=%zz", "unix:path=", "unix:tmpdir=/tmp", ""])
    func refusesOtherAddresses(address: String) {
        #expect(BusAddress(address) == nil)
    }
}
