import PvDConfig
import PvDCore
import PvDWire
import Testing

/// How YAML text becomes values: YAML 1.1's typing of plain scalars, quoted
/// and tagged scalars, keys, and where an error is.
struct YAMLDocumentTests {
    func value(_ scalar: String) throws -> JSONValue? {
        try YAMLDocument.parse("k: \(scalar)\n")["k"]
    }

    @Test(
        arguments: [
            ("~", .null), ("null", .null), ("NULL", .null), ("", .null),
            ("yes", .bool(true)), ("On", .bool(true)), ("TRUE", .bool(true)), ("no", .bool(false)), ("off", .bool(false)),
            ("False", .bool(false)), ("y", .string("y")), ("n", .string("n")), ("tRUE", .string("tRUE")),
            ("0", .integer(0)), ("60", .integer(60)), ("-7", .integer(-7)), ("+7", .integer(7)), ("1_000", .integer(1000)),
            ("0x1F", .integer(31)), ("0b101", .integer(5)), ("017", .integer(15)), ("0o17", .integer(15)), ("1:30", .integer(90)),
            ("-1:00:00", .integer(-3600)), ("9223372036854775807", .integer(Int64.max)),
            ("9223372036854775808", .number(9_223_372_036_854_775_808)), ("1.5", .number(1.5)), ("-.5", .number(-0.5)),
            ("1e3", .number(1000)), ("6.02E+23", .number(6.02e23)), ("08", .number(8)), ("1:30.5", .number(90.5)),
            ("+-5", .string("+-5")), ("0x", .string("0x")), ("1:60", .string("1:60")), ("1.2.3", .string("1.2.3")),
            ("2001:db8::1", .string("2001:db8::1")), ("eth0", .string("eth0")), ("2026-12-07", .string("2026-12-07")),
            ("\"60\"", .string("60")), ("'yes'", .string("yes")), ("!!str 60", .string("60")), ("!!int \"60\"", .integer(60)),
            ("!!float 1", .number(1)), ("!!bool word", .string("word")), ("!custom 5", .string("5")),
        ] as [(String, JSONValue)])
    func plainScalarsAreTypedAsYAML11Says(scalar: String, expected: JSONValue) throws {
        #expect(try value(scalar) == expected)
    }

    @Test func infinityAndNotANumber() throws {
        #expect(try value(".inf") == .number(.infinity))
        #expect(try value("-.Inf") == .number(-.infinity))
        guard case .number(let number) = try value(".NaN") else {
            Issue.record("not a number")
            return
        }
        #expect(number.isNaN)
    }

    @Test func blocksAndFlowsKeepTheirShape() throws {
        let document = try YAMLDocument.parse(
            """
            list: [a, 1, {b: c}]
            text: |
              two
              lines
            1: numbered
            """)
        #expect(
            document
                == .object([
                    JSONMember("list", .array([.string("a"), .integer(1), .object([JSONMember("b", .string("c"))])])),
                    JSONMember("text", .string("two\nlines\n")), JSONMember("1", .string("numbered")),
                ]))
    }

    @Test(
        arguments: [
            ("a: 1\nb: 2\na: 3\n", "not valid YAML: line 3, column 1: the key a is given twice"),
            ("top:\n  x: 1\n  x: 1\n", "top: not valid YAML: line 3, column 3: the key x is given twice"),
            ("true: 1\n", "line 1: keys must be plain words"),
            ("? [a]\n: 1\n", "line 1: keys must be plain words"),
            ("a: 1\n---\nb: 2\n", "line 2: a second YAML document; pvd reads one per file"),
            ("a: [1\n", "not valid YAML: line 2, column 1: did not find expected ',' or ']'"),
        ])
    func errorsSayWhere(text: String, message: String) {
        #expect(throws: ConfigurationError.self) { try YAMLDocument.parse(text) }
        do { _ = try YAMLDocument.parse(text) } catch { #expect(error.description == message) }
    }

    @Test func anEmptyDocumentIsEveryDefault() throws {
        #expect(try YAMLDocument.parse("") == .object([]))
        #expect(try YAMLDocument.parse("# only a comment\n") == .object([]))
    }
}
