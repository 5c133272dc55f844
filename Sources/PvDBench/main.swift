// pvd-bench: measures how fast PvDWire decodes and encodes a realistic PvD RA
// (PvD option with an RA header, two PIOs, RDNSS, DNSSL and RIO nested), on one
// core, and writes the numbers to the file given as the first argument.
import PvDWire

#if canImport(Glibc)
    import Glibc
#endif

func realisticRA() throws -> RouterAdvertisement {
    let pvd = PvDOption(
        id: try DomainName("corp.example.com"), http: true, delay: 2, sequence: 7,
        routerAdvertisementHeader: RouterAdvertisementHeader(curHopLimit: 64, flags: 0x40, routerLifetime: 1800),
        options: [
            .prefixInformation(PrefixInformation(prefix: IPv6Prefix("2001:db8:a::/64")!)),
            .prefixInformation(PrefixInformation(prefix: IPv6Prefix("2001:db8:b::/64")!, flags: 0x80)),
            .recursiveDNSServers(RecursiveDNSServers(lifetime: 600, servers: [IPv6Address("2001:db8:a::53")!])),
            .dnsSearchList(DNSSearchList(lifetime: 600, domains: [try DomainName("corp.example.com")])),
            .routeInformation(RouteInformation(prefix: IPv6Prefix("2001:db8:100::/48")!, preference: .high)),
        ])
    return RouterAdvertisement(
        header: RouterAdvertisementHeader(curHopLimit: 64, routerLifetime: 0),
        options: [.sourceLinkLayerAddress([2, 0, 0, 0, 0, 1]), .mtu(1500), .provisioningDomain(pvd)])
}

/// Runs `body` in batches for about `seconds`, five rounds; returns operations
/// per second of each round.
func measure(seconds: Double, _ body: () -> Int) -> [Double] {
    let clock = ContinuousClock()
    var rates: [Double] = []
    var sink = 0
    for _ in 0..<5 {
        var count = 0
        let start = clock.now
        var elapsed = Duration.zero
        while elapsed < .seconds(seconds) {
            for _ in 0..<1000 { sink &+= body() }
            count += 1000
            elapsed = clock.now - start
        }
        let (secondsPart, attoseconds) = elapsed.components
        rates.append(Double(count) / (Double(secondsPart) + Double(attoseconds) / 1e18))
    }
    if sink == 42 { print("") }  // keeps the work observable to the optimizer
    return rates.sorted()
}

let output = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : nil
let ra = try realisticRA()
let bytes = try ra.encoded()
let decoded = try RouterAdvertisement.parse(bytes)
precondition(decoded == ra, "the benchmark RA does not round-trip")

let decodeRates = measure(seconds: 1) { (try? RouterAdvertisement.parse(bytes))?.options.count ?? 0 }
let encodeRates = measure(seconds: 1) { (try? ra.encoded())?.count ?? 0 }

func line(_ name: String, _ rates: [Double]) -> String {
    let median = rates[rates.count / 2]
    return "\(name): median \(Int(median)) per second per core (\(Int(1e9 / median)) ns each); "
        + "rounds min \(Int(rates.first!)) max \(Int(rates.last!))"
}

let report = """
    # pvd-bench: PvDWire on one core, release build
    message: \(bytes.count) octets (PvD option with RA header, 2 PIO, RDNSS, DNSSL, RIO; SLLA and MTU outside)
    \(line("decode", decodeRates))
    \(line("encode", encodeRates))
    goal: decode at least 2000000 per second per core: \(decodeRates[2] >= 2_000_000 ? "met" : "NOT met")

    """
print(report, terminator: "")
if let output {
    guard let file = fopen(output, "w") else { fatalError("cannot write \(output)") }
    fputs(report, file)
    fclose(file)
}
