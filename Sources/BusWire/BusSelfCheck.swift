/// The properties the `bus` fuzz target checks and `swift test` replays its corpus through.
enum BusSelfCheck {
    /// A decoded D-Bus message re-encodes, and its encoding decodes to a
    /// message that encodes to the same bytes; the length read from its
    /// first bytes is its length.
    static func busMessage(_ bytes: [UInt8]) -> String? {
        guard let message = try? BusWireMessage(decoding: bytes) else { return nil }
        guard (try? BusWireMessage.length(ofMessageStartingWith: bytes[...])) == bytes.count else {
            return "the fixed header's length differs from the message's"
        }
        let encoded: [UInt8]
        do { encoded = try message.encoded() } catch { return "decoded message does not encode: \(error)" }
        guard let again = try? BusWireMessage(decoding: encoded) else { return "re-encoded message does not decode" }
        guard (try? again.encoded()) == encoded else { return "encoding is not stable" }
        return nil
    }
}
