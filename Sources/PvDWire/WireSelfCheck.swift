/// The properties every decoder here must keep on any input, checked by the
/// fuzz targets in `Fuzz/` and by the tests that replay their corpus.
/// Each returns nil when the input is handled correctly (decoded or rejected
/// with a typed error), or a description of the violation.
enum WireSelfCheck {
    /// A decoded RA renders, re-encodes, decodes to the same value, and encodes stably.
    static func routerAdvertisement(_ bytes: [UInt8]) -> String? {
        var notes: [ParseNote] = []
        guard let ra = try? RouterAdvertisement.parse(bytes, notes: &notes) else { return nil }
        _ = ra.json.serialized
        let encoded: [UInt8]
        do { encoded = try ra.encoded() } catch { return "decoded RA does not encode: \(error)" }
        guard let again = try? RouterAdvertisement.parse(encoded) else { return "re-encoded RA does not decode" }
        guard again == ra else { return "decode(encode(ra)) differs from ra" }
        guard (try? again.encoded()) == encoded else { return "encoding is not stable" }
        if notes.isEmpty, encoded.count > bytes.count { return "re-encoding grew the message" }
        return nil
    }

    /// Parsed JSON serializes to text that parses to the same value; the
    /// additional-information reader accepts or rejects it without trapping.
    static func json(_ bytes: [UInt8]) -> String? {
        _ = try? PvDAdditionalInformation.parse(bytes)
        guard let value = try? JSONValue.parse(bytes) else { return nil }
        guard let again = try? JSONValue.parse(Array(value.serialized.utf8)) else { return "serialized JSON does not parse" }
        return again == value ? nil : "JSON changed through serialize and parse"
    }

    /// A DNS answer to a query for www.corp.test (the id taken from the
    /// input) is read or rejected without trapping, and what is read holds
    /// only addresses of the asked type's length, no more than the bound.
    static func dnsAnswer(_ bytes: [UInt8]) -> String? {
        let name = try! DomainName("www.corp.test")
        let id = bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : 0
        for type in [DNSMessage.RecordType.a, .aaaa] {
            guard let answer = try? DNSMessage.answer(bytes, id: id, name: name, type: type) else { continue }
            if answer.addresses.contains(where: { $0.count != type.addressLength }) { return "an address of the wrong length" }
            if answer.addresses.count > Int(DNSMessage.maximumRecords) { return "more addresses than the bound" }
        }
        return nil
    }

    /// Every RA found in a capture decodes or is rejected without trapping.
    static func capture(_ bytes: [UInt8]) -> String? {
        guard let found = try? PacketCapture.routerAdvertisements(in: bytes) else { return nil }
        for ra in found {
            if let violation = routerAdvertisement(ra.message) { return "packet \(ra.packet): \(violation)" }
        }
        return nil
    }
}
