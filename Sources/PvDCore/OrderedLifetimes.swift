/// Entries that each run out at their own time, kept in the order a router
/// gave them: RFC 8106 makes the order of RDNSS and DNSSL entries the
/// router's preference, so resolv.conf lists them as they came.
struct OrderedLifetimes<Key: Hashable & Sendable>: Sendable {
    private(set) var entries: [(key: Key, until: Seconds)] = []

    var count: Int { entries.count }
    var keys: [Key] { entries.map(\.key) }

    /// The keys still valid at `now`, in order.
    func live(at now: Seconds) -> [Key] { entries.filter { $0.until > now }.map(\.key) }

    mutating func removeExpired(at now: Seconds) { entries.removeAll { $0.until <= now } }

    /// Puts one entry at the end (for a state being read back).
    mutating func append(_ key: Key, until: Seconds) {
        guard !entries.contains(where: { $0.key == key }) else { return }
        entries.append((key, until))
    }

    /// Takes in what one RA says, in its order: a lifetime of 0 removes an
    /// entry, `UInt32.max` keeps it forever. The RA's entries come first, in
    /// the RA's order, then the older ones it did not mention. A key not held
    /// yet is refused once `limit` entries are held; returns how many were.
    mutating func refresh(_ updates: [(key: Key, lifetime: UInt32)], limit: Int, at now: Seconds) -> Int {
        var mentioned: Set<Key> = []
        var held = Set(keys)
        var fresh: [(key: Key, until: Seconds)] = []
        var refused = 0
        for update in updates where mentioned.insert(update.key).inserted {
            guard update.lifetime > 0 else {
                held.remove(update.key)
                continue
            }
            guard held.contains(update.key) || held.count < limit else {
                refused += 1
                continue
            }
            held.insert(update.key)
            fresh.append((update.key, update.lifetime == .max ? .infinity : now + Seconds(update.lifetime)))
        }
        entries = fresh + entries.filter { !mentioned.contains($0.key) }
        return refused
    }
}
