import PvDWire

/// When to fetch each PvD's additional information (RFC 8801 §4.1) and what
/// came of it. Pure: the daemon runs the fetches and reports their outcome.
///
/// - A PvD with the H flag and at least one address of its own is fetched
///   after a random delay of 0 to 2^(2·Delay) ms.
/// - At most one fetch per PvD per ``minimumInterval``.
/// - A new sequence number drops the document and fetches again.
/// - A valid document is refreshed before it expires (at 90 % of its remaining
///   life) and dropped when it expires.
/// - HTTP errors (status ≥ 400) and invalid documents end the attempts until
///   the sequence number changes; network and TLS failures are retried after
///   10, 20, 40 s, then given up (``maximumFailures``).
public struct AdditionalInformationTable: Sendable {
    public static let minimumInterval: Seconds = 10
    public static let maximumFailures = 3

    /// One PvD's fetches, keyed by domain name in ``entries``.
    public struct Entry: Equatable, Sendable {
        public let id: PvDWire.DomainName
        public let sequence: UInt16
        public let delay: UInt8
        /// The valid document, and when (in the daemon's clock) it expires.
        public internal(set) var document: PvDAdditionalInformation?
        public internal(set) var documentExpiresAt: Seconds?
        /// A person-readable line about the last outcome (`valid`, `HTTP 404`, …).
        public internal(set) var status = "waiting"
        /// When the next fetch may start; nil: none planned.
        public internal(set) var nextFetch: Seconds?
        public internal(set) var fetching = false
        var lastAttempt: Seconds?
        var failures = 0
    }

    /// A domain that may have additional information: an explicit PvD's data.
    public struct Candidate: Sendable {
        public var name: String
        public var id: PvDWire.DomainName
        public var sequence: UInt16
        public var delay: UInt8
        /// The PIO prefixes the PvD advertises, which the document must cover.
        public var prefixes: [IPv6Prefix]

        public init(name: String, id: PvDWire.DomainName, sequence: UInt16, delay: UInt8, prefixes: [IPv6Prefix]) {
            self.name = name
            self.id = id
            self.sequence = sequence
            self.delay = delay
            self.prefixes = prefixes
        }
    }

    /// What a fetch gave.
    public enum Outcome: Sendable {
        /// An HTTP answer (after redirections) with its body.
        case answer(status: Int, body: [UInt8])
        /// No answer: DNS, connection, TLS (a certificate not valid for the PvD ID) or timeout.
        case failure(String)
    }

    public private(set) var entries: [String: Entry] = [:]
    private var prefixes: [String: [IPv6Prefix]] = [:]

    public init() {}

    /// Follows the table's domains: `candidates` are the PvDs with the H flag
    /// and an address. `random(upper)` gives a number in 0...upper. Returns
    /// the names whose entry changed.
    public mutating func track(
        _ candidates: [Candidate], at now: Seconds,
        random: (Seconds) -> Seconds
    ) -> Set<String> {
        var changed: Set<String> = []
        let names = Set(candidates.map(\.name))
        for name in entries.keys where !names.contains(name) {
            entries[name] = nil
            prefixes[name] = nil
            changed.insert(name)
        }
        for candidate in candidates {
            prefixes[candidate.name] = candidate.prefixes
            if let entry = entries[candidate.name], entry.id == candidate.id, entry.sequence == candidate.sequence { continue }
            var entry = Entry(id: candidate.id, sequence: candidate.sequence, delay: candidate.delay)
            entry.lastAttempt = entries[candidate.name]?.lastAttempt
            if AdditionalInformationTable.isHostName(candidate.id) {
                entry.nextFetch = plan(now + random(AdditionalInformationTable.backoff(delay: candidate.delay)), after: entry.lastAttempt)
            } else {
                entry.status = "the PvD ID is not a host name; not fetched"
            }
            entries[candidate.name] = entry
            changed.insert(candidate.name)
        }
        return changed
    }

    /// The names whose fetch should start at `now`.
    public func due(at now: Seconds) -> [String] {
        entries.filter { !$0.value.fetching && ($0.value.nextFetch ?? .infinity) <= now }.keys.sorted()
    }

    /// Notes that the fetch for `name` started.
    public mutating func started(_ name: String, at now: Seconds) {
        entries[name]?.fetching = true
        entries[name]?.lastAttempt = now
        entries[name]?.nextFetch = nil
        entries[name]?.status = "fetching"
    }

    /// Takes in a fetch's outcome; `unixTime` is the wall clock (the document's
    /// `expires` is a date). Returns false when `name` is no longer tracked
    /// (its sequence changed while fetching) and the outcome was ignored.
    @discardableResult
    public mutating func finished(
        _ name: String, _ outcome: Outcome, at now: Seconds, unixTime: Int64,
        random: (Seconds) -> Seconds
    ) -> Bool {
        guard var entry = entries[name], entry.fetching else { return false }
        entry.fetching = false
        switch outcome {
        case .answer(let status, let body) where (200...299).contains(status):
            do {
                let document = try PvDAdditionalInformation.parse(body)
                try document.validate(pvdID: entry.id, advertisedPrefixes: prefixes[name] ?? [], now: unixTime)
                let life = Seconds(document.expires - unixTime)
                entry.document = document
                entry.documentExpiresAt = now + life
                entry.status = "valid"
                entry.failures = 0
                let refresh = now + life * 0.9 - random(AdditionalInformationTable.backoff(delay: entry.delay))
                entry.nextFetch = plan(refresh, after: entry.lastAttempt)
            } catch {
                entry.giveUp("invalid document: \(error)")
            }
        case .answer(let status, _) where status >= 400:
            entry.giveUp("HTTP \(status)")
        case .answer(let status, _):
            entry.giveUp("unexpected HTTP \(status)")
        case .failure(let reason):
            entry.failures += 1
            if entry.failures >= AdditionalInformationTable.maximumFailures {
                entry.status = "\(reason); gave up after \(entry.failures) attempts"
                entry.nextFetch = nil
            } else {
                entry.status = reason
                let wait = AdditionalInformationTable.minimumInterval * Seconds(1 << (entry.failures - 1))
                entry.nextFetch = now + wait
            }
        }
        entries[name] = entry
        return true
    }

    /// Drops documents that expired by `now`; returns the names concerned.
    public mutating func expire(at now: Seconds) -> Set<String> {
        var changed: Set<String> = []
        for (name, entry) in entries where (entry.documentExpiresAt ?? .infinity) <= now {
            entries[name]?.document = nil
            entries[name]?.documentExpiresAt = nil
            entries[name]?.status = "expired"
            changed.insert(name)
        }
        return changed
    }

    /// The next time something is due: a fetch or an expiry.
    public func nextEvent() -> Seconds? {
        entries.values.flatMap { entry in [entry.fetching ? nil : entry.nextFetch, entry.documentExpiresAt].compactMap { $0 } }.min()
    }

    /// Up to 2^(2·Delay) milliseconds, in seconds (RFC 8801 §4.1).
    public static func backoff(delay: UInt8) -> Seconds {
        Seconds(1 << (2 * Int(delay & 0x0F))) / 1000
    }

    /// Letters, digits and inner hyphens only (RFC 1123): a PvD ID that can go into a URL as it is.
    static func isHostName(_ id: PvDWire.DomainName) -> Bool {
        !id.isRoot
            && id.labels.allSatisfy { label in
                label.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || byte == UInt8(ascii: "-")
                } && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
            }
    }

    /// `time`, but not sooner than ``minimumInterval`` after the last attempt.
    private func plan(_ time: Seconds, after lastAttempt: Seconds?) -> Seconds {
        max(time, (lastAttempt ?? -.infinity) + AdditionalInformationTable.minimumInterval)
    }
}

extension AdditionalInformationTable.Entry {
    mutating func giveUp(_ reason: String) {
        document = nil
        documentExpiresAt = nil
        status = reason
        nextFetch = nil
    }

    /// The entry for the state file and `pvd show`.
    public var json: JSONValue {
        var members = [JSONMember("status", .string(status)), JSONMember("sequence", .integer(Int64(sequence)))]
        if let document { members.append(JSONMember("document", document.json)) }
        return .object(members)
    }
}
