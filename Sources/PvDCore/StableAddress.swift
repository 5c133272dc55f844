import PvDWire

/// Stable, opaque interface identifiers in the spirit of RFC 7217: the same
/// prefix, domain and secret give the same address across restarts; another
/// domain, prefix or host gives an unrelated one.
public enum StableAddress {
    /// The address for `domain` in the /64 `prefix`; `attempt` moves on after a
    /// DAD conflict (RFC 7217's DAD_Counter). Reserved identifiers (RFC 5453)
    /// are skipped.
    public static func address(in prefix: IPv6Prefix, domain: String, secret: [UInt8], attempt: Int = 0) -> IPv6Address {
        var counter = attempt
        while true {
            var hasher = SHA256()
            hasher.update(prefix.address.octets.prefix(8))
            hasher.update(Array(domain.utf8))
            hasher.update([0])
            hasher.update((0..<4).map { UInt8(truncatingIfNeeded: counter >> (24 - 8 * $0)) })
            hasher.update(secret)
            let digest = hasher.finalize()
            let identifier = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if !isReserved(identifier) {
                return IPv6Address(high: prefix.address.high, low: identifier)
            }
            counter += 1
        }
    }

    /// The subnet-router anycast identifier (0) and the reserved anycast range
    /// fdff:ffff:ffff:ff80 to fdff:ffff:ffff:ffff (RFC 5453).
    static func isReserved(_ identifier: UInt64) -> Bool {
        identifier == 0 || identifier >= 0xFDFF_FFFF_FFFF_FF80 && identifier <= 0xFDFF_FFFF_FFFF_FFFF
    }
}
