/// PvD Additional Information (RFC 8801 §4.3), the `application/pvd+json`
/// document served at `https://<PvD ID>/.well-known/pvd`. Unknown keys are ignored.
public struct PvDAdditionalInformation: Equatable, Sendable {
    /// `identifier`: the PvD ID; must equal the advertised one.
    public var identifier: DomainName
    /// `expires`: Unix time (seconds) after which the document is stale.
    public var expires: Int64
    /// `prefixes`: every prefix the PvD may advertise.
    public var prefixes: [IPv6Prefix]
    /// `noInternet`: the PvD gives no Internet access (absent means false).
    public var noInternet: Bool
    /// `dnsZones`: zones reachable through the PvD (absent means none).
    public var dnsZones: [DomainName]
    /// `splitDnsClaims` (RFC 9704): zones whose names the PvD's resolvers answer for.
    public var splitDnsClaims: [DomainName]
    /// `proxies` (draft-ietf-intarea-proxy-config): the PvD's proxies.
    public var proxies: [Proxy]
    /// `proxy-match`: which destinations go through which proxies (or none).
    public var proxyMatch: [ProxyMatch]
    /// Every other key, kept as it came and shown, never acted on.
    public var otherKeys: [JSONMember]

    /// One entry of `proxies`: its protocol (`http-connect`, `connect-udp`,
    /// `pac`, …), where it is (an authority or a URI template) and the
    /// identifier `proxy-match` refers to it by.
    public struct Proxy: Equatable, Sendable {
        public var protocolName: String
        public var location: String
        public var identifier: String?

        public init(protocolName: String, location: String, identifier: String? = nil) {
            self.protocolName = protocolName
            self.location = location
            self.identifier = identifier
        }
    }

    /// One entry of `proxy-match`: destinations (domain names, `*.` for a
    /// whole zone) and the proxies they use by identifier; none: direct.
    public struct ProxyMatch: Equatable, Sendable {
        public var domains: [String]
        public var proxies: [String]

        public init(domains: [String], proxies: [String]) {
            self.domains = domains
            self.proxies = proxies
        }
    }

    public init(
        identifier: DomainName, expires: Int64, prefixes: [IPv6Prefix],
        noInternet: Bool = false, dnsZones: [DomainName] = [], splitDnsClaims: [DomainName] = [],
        proxies: [Proxy] = [], proxyMatch: [ProxyMatch] = [], otherKeys: [JSONMember] = []
    ) {
        self.identifier = identifier
        self.expires = expires
        self.prefixes = prefixes
        self.noInternet = noInternet
        self.dnsZones = dnsZones
        self.splitDnsClaims = splitDnsClaims
        self.proxies = proxies
        self.proxyMatch = proxyMatch
        self.otherKeys = otherKeys
    }

    /// The keys this type reads; any other is kept in ``otherKeys``.
    static let knownKeys: Set<String> = [
        "identifier", "expires", "prefixes", "noInternet", "dnsZones", "splitDnsClaims", "proxies", "proxy-match",
    ]
    /// Entries read at most from each list (a document is at most 64 KiB).
    public static let maximumEntries = 64

    /// Reads the JSON document; mandatory keys must be present with the right types.
    public static func parse(_ bytes: [UInt8]) throws(AdditionalInformationError) -> PvDAdditionalInformation {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch { throw .json(error) }
        guard case .object = document else { throw .notAnObject }

        func string(_ key: String) throws(AdditionalInformationError) -> String {
            guard let value = document[key] else { throw .missingKey(key) }
            guard case .string(let text) = value else { throw .wrongType(key: key, expected: "a string") }
            return text
        }
        func strings(_ key: String, required: Bool) throws(AdditionalInformationError) -> [String] {
            guard let value = document[key] else {
                if required { throw .missingKey(key) }
                return []
            }
            guard case .array(let items) = value else { throw .wrongType(key: key, expected: "an array of strings") }
            var texts: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw .wrongType(key: key, expected: "an array of strings") }
                texts.append(text)
            }
            return texts
        }

        let identifierText = try string("identifier")
        let identifier: DomainName
        do { identifier = try DomainName(identifierText) } catch {
            throw .invalidValue(key: "identifier", "\(identifierText): \(error)")
        }
        let expiresText = try string("expires")
        guard let expires = RFC3339.parse(expiresText) else {
            throw .invalidValue(key: "expires", "\(expiresText) is not an RFC 3339 date-time")
        }
        var prefixes: [IPv6Prefix] = []
        for text in try strings("prefixes", required: true) {
            guard let prefix = IPv6Prefix(text) else { throw .invalidValue(key: "prefixes", "\(text) is not an IPv6 prefix") }
            prefixes.append(prefix)
        }
        var noInternet = false
        if let value = document["noInternet"] {
            guard case .bool(let flag) = value else { throw .wrongType(key: "noInternet", expected: "a boolean") }
            noInternet = flag
        }
        func names(_ key: String) throws(AdditionalInformationError) -> [DomainName] {
            var names: [DomainName] = []
            for text in try strings(key, required: false).prefix(maximumEntries) {
                do { names.append(try DomainName(text)) } catch { throw .invalidValue(key: key, "\(text): \(error)") }
                guard !names[names.count - 1].isRoot else { throw .invalidValue(key: key, "the root zone") }
            }
            return names
        }
        func objects(_ key: String) throws(AdditionalInformationError) -> [JSONValue] {
            guard let value = document[key] else { return [] }
            guard case .array(let items) = value, items.allSatisfy({ if case .object = $0 { true } else { false } }) else {
                throw .wrongType(key: key, expected: "an array of objects")
            }
            return Array(items.prefix(maximumEntries))
        }
        func member(_ object: JSONValue, _ name: String, of key: String) throws(AdditionalInformationError) -> String? {
            guard let value = object[name] else { return nil }
            guard case .string(let text) = value, !text.isEmpty, text.utf8.count <= 2048 else {
                throw .invalidValue(key: key, "\"\(name)\" must be a string of 1 to 2048 characters")
            }
            return text
        }
        func texts(_ object: JSONValue, _ name: String, of key: String) throws(AdditionalInformationError) -> [String] {
            guard let value = object[name] else { return [] }
            guard case .array(let items) = value else { throw .invalidValue(key: key, "\"\(name)\" must be an array of strings") }
            var texts: [String] = []
            for item in items.prefix(maximumEntries) {
                guard case .string(let text) = item, !text.isEmpty, text.utf8.count <= 255 else {
                    throw .invalidValue(key: key, "\"\(name)\" must be an array of strings of 1 to 255 characters")
                }
                texts.append(text)
            }
            return texts
        }
        var proxies: [Proxy] = []
        for object in try objects("proxies") {
            guard let protocolName = try member(object, "protocol", of: "proxies"), let location = try member(object, "proxy", of: "proxies") else {
                throw .invalidValue(key: "proxies", "each proxy needs \"protocol\" and \"proxy\"")
            }
            proxies.append(Proxy(protocolName: protocolName, location: location, identifier: try member(object, "identifier", of: "proxies")))
        }
        var matches: [ProxyMatch] = []
        for object in try objects("proxy-match") {
            matches.append(ProxyMatch(domains: try texts(object, "domains", of: "proxy-match"), proxies: try texts(object, "proxies", of: "proxy-match")))
        }
        guard case .object(let members) = document else { throw .notAnObject }
        return PvDAdditionalInformation(
            identifier: identifier, expires: expires, prefixes: prefixes,
            noInternet: noInternet, dnsZones: try names("dnsZones"), splitDnsClaims: try names("splitDnsClaims"),
            proxies: proxies, proxyMatch: matches,
            otherKeys: Array(members.filter { !knownKeys.contains($0.key) }.prefix(maximumEntries)))
    }

    /// RFC 8801 §4.1–4.3 checks before use: the identifier is the advertised PvD ID,
    /// the document has not expired at `now` (Unix seconds), and every prefix the
    /// PvD advertises in a PIO lies inside one of `prefixes`.
    public func validate(
        pvdID: DomainName, advertisedPrefixes: [IPv6Prefix],
        now: Int64
    ) throws(AdditionalInformationError) {
        guard identifier == pvdID else { throw .identifierMismatch(advertised: pvdID, document: identifier) }
        guard expires > now else { throw .expired(expires) }
        for advertised in advertisedPrefixes where !prefixes.contains(where: { $0.contains(advertised) }) {
            throw .prefixNotCovered(advertised)
        }
    }

    /// The document in its own JSON schema; the optional lists only when not empty.
    public var json: JSONValue {
        var members = [
            JSONMember("identifier", .string(identifier.description)),
            JSONMember("expires", .string(RFC3339.format(expires))),
            JSONMember("prefixes", .array(prefixes.map { .string($0.description) })),
            JSONMember("noInternet", .bool(noInternet)),
            JSONMember("dnsZones", .array(dnsZones.map { .string($0.description) })),
        ]
        if !splitDnsClaims.isEmpty { members.append(JSONMember("splitDnsClaims", .array(splitDnsClaims.map { .string($0.description) }))) }
        if !proxies.isEmpty {
            members.append(
                JSONMember(
                    "proxies",
                    .array(
                        proxies.map { proxy in
                            .object(
                                [JSONMember("protocol", .string(proxy.protocolName)), JSONMember("proxy", .string(proxy.location))]
                                    + (proxy.identifier.map { [JSONMember("identifier", .string($0))] } ?? []))
                        })))
        }
        if !proxyMatch.isEmpty {
            members.append(
                JSONMember(
                    "proxy-match",
                    .array(
                        proxyMatch.map {
                            .object([
                                JSONMember("domains", .array($0.domains.map(JSONValue.string))),
                                JSONMember("proxies", .array($0.proxies.map(JSONValue.string))),
                            ])
                        })))
        }
        return .object(members + otherKeys)
    }
}

/// Why a PvD Additional Information document is rejected.
public enum AdditionalInformationError: Error, Equatable, Sendable, CustomStringConvertible {
    case json(JSONError)
    case notAnObject
    case missingKey(String)
    case wrongType(key: String, expected: String)
    case invalidValue(key: String, String)
    case identifierMismatch(advertised: DomainName, document: DomainName)
    case expired(Int64)
    case prefixNotCovered(IPv6Prefix)

    public var description: String {
        switch self {
        case .json(let error): "\(error)"
        case .notAnObject: "the document is not a JSON object"
        case .missingKey(let key): "mandatory key \"\(key)\" is missing"
        case .wrongType(let key, let expected): "\"\(key)\" must be \(expected)"
        case .invalidValue(let key, let problem): "\"\(key)\": \(problem)"
        case .identifierMismatch(let advertised, let document):
            "identifier \(document) does not match the advertised PvD ID \(advertised)"
        case .expired(let expires): "expired at \(RFC3339.format(expires))"
        case .prefixNotCovered(let prefix): "advertised prefix \(prefix) is not covered by \"prefixes\""
        }
    }
}

/// RFC 3339 date-times as Unix seconds, in pure Swift.
public enum RFC3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; fractions are dropped.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + width] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func literal(_ accepted: String) -> Bool {
            guard index < bytes.count, accepted.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), literal("-"), let month = number(2), literal("-"), let day = number(2),
            literal("Tt "), let hour = number(2), literal(":"), let minute = number(2), literal(":"),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysInMonth(year, month)).contains(day),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        if literal(".") {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > start else { return nil }
        }
        var offset: Int64 = 0
        if !literal("Zz") {
            guard index < bytes.count else { return nil }
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard literal("+-"), let hours = number(2), literal(":"), let minutes = number(2),
                hours < 24, minutes < 60
            else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard index == bytes.count else { return nil }
        return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
    public static func format(_ time: Int64) -> String {
        let days = time >= 0 ? time / 86400 : (time - 86399) / 86400
        let seconds = time - days * 86400
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):"
            + "\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))Z"
    }

    private static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    private static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
