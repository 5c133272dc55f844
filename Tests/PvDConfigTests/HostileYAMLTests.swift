import Glibc
import PvDConfig
import PvDCore
import Testing

/// Documents a local user or a careless file could hand pvd: each is refused
/// quickly, before anything is built from it.
struct HostileYAMLTests {
    /// The "billion laughs": nine levels of nine aliases, 470 bytes.
    static let aliasBomb = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        """

    static func millisecondsToRefuse(_ text: String) -> (Double, String?) {
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var message: String?
        do { _ = try YAMLDocument.parse(text) } catch { message = error.description }
        clock_gettime(CLOCK_MONOTONIC, &end)
        return (Double(end.tv_sec - start.tv_sec) * 1000 + Double(end.tv_nsec - start.tv_nsec) / 1e6, message)
    }

    @Test(
        arguments: [
            (aliasBomb, "line 1: YAML anchors (&name) are not supported"),
            ("domains: *x\n", "line 1: YAML aliases (*name) are not supported"),
            ("a: &x 1\nb: *x\n", "line 1: YAML anchors (&name) are not supported"),
            ("domains:\n  - !!binary aGk=\n", nil),
            (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "line 1: nested deeper than 32 levels"),
            (String(repeating: "- ", count: 33) + "x\n", "line 1: nested deeper than 32 levels"),
            ("k: [" + String(repeating: "1,", count: 100_001) + "1]\n", "line 1: more than 100000 values"),
            (String(repeating: "#", count: (1 << 20) + 1), "the document has 1048577 bytes; at most 1048576 are read"),
        ] as [(String, String?)])
    func refusedQuicklyWithAReason(text: String, reason: String?) {
        let (milliseconds, message) = Self.millisecondsToRefuse(text)
        if let reason {
            #expect(message?.hasPrefix(reason) == true, "\(message ?? "accepted")")
        }
        #expect(milliseconds < 500, "took \(milliseconds) ms")
    }

    @Test func theAliasBombIsRefusedBeforeAnyExpansion() {
        let (milliseconds, message) = Self.millisecondsToRefuse(Self.aliasBomb)
        #expect(message != nil)
        #expect(milliseconds < 10, "refused after \(milliseconds) ms")
        #expect(Self.aliasBomb.utf8.count < 500)
    }

    @Test func everyReaderRefusesAliases() {
        #expect(throws: ConfigurationError.self) { try DaemonConfiguration(yaml: "uplinks: &u [eth0]\npersist: false\n") }
        #expect(throws: ConfigurationError.self) { try DeclarativeState(try YAMLDocument.parse("namespaces: &n [a]\n")) }
    }

    @Test func ordinaryDocumentsStillRead() throws {
        let state = try DeclarativeState(
            try YAMLDocument.parse(
                """
                domains:
                  - {name: lab, uplink: eth0, addresses: ["2001:db8::5"]}
                namespaces: [scratch]
                """))
        #expect(state.domains.map(\.name) == ["lab"])
        #expect(state.namespaces == ["scratch"])
    }
}
