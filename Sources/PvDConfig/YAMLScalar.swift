import PvDWire

/// YAML 1.1's typing of a plain scalar (the rules of the YAML 1.1 type
/// repository that PyYAML and libyaml's users apply): `~`, `null` and nothing
/// are null; `yes`/`no`/`on`/`off`/`true`/`false` in three cases are booleans;
/// integers in decimal, `0x`, `0b`, `0o`/`0` octal and base 60 (`1:30`);
/// floats, `.inf` and `.nan`. `_` may separate digits. Anything else, and a
/// number too large for 64 bits, is a string.
enum YAMLScalar {
    /// The standard tags a document may put on a scalar (`!!int 5`).
    enum Tag: String {
        case string = "tag:yaml.org,2002:str"
        case integer = "tag:yaml.org,2002:int"
        case float = "tag:yaml.org,2002:float"
        case boolean = "tag:yaml.org,2002:bool"
        case null = "tag:yaml.org,2002:null"
    }

    /// The value of a plain (unquoted, untagged) scalar.
    static func resolve(_ text: String) -> JSONValue {
        if let number = plainDecimal(text) { return .integer(number) }
        if let null = null(text) { return null }
        if let flag = boolean(text) { return .bool(flag) }
        if let number = integer(text) { return .integer(number) }
        if let number = float(text) { return .number(number) }
        return .string(text)
    }

    /// The value of a scalar with an explicit standard tag; one that does not
    /// read as its tag says, or an unknown tag, is a string.
    static func resolve(_ text: String, tag: Tag) -> JSONValue {
        let value: JSONValue? =
            switch tag {
            case .string: .string(text)
            case .integer: integer(text).map(JSONValue.integer)
            case .float: float(text).map(JSONValue.number)
            case .boolean: boolean(text).map(JSONValue.bool)
            case .null: null(text)
            }
        return value ?? .string(text)
    }

    private static func null(_ text: String) -> JSONValue? {
        switch text {
        case "", "~", "null", "Null", "NULL": .null
        default: nil
        }
    }

    /// The common case first, read from the bytes: 1 to 18 decimal digits,
    /// no sign, no `_`, no leading 0 (octal) — a document's numbers, and most
    /// of a hostile one's 100,000 values, cost no more than this.
    private static func plainDecimal(_ text: String) -> Int64? {
        let bytes = text.utf8
        guard (1...18).contains(bytes.count), bytes.first != UInt8(ascii: "0") || bytes.count == 1 else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func boolean(_ text: String) -> Bool? {
        switch text {
        case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": true
        case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": false
        default: nil
        }
    }

    private static func integer(_ text: String) -> Int64? {
        let (negative, body) = signed(text)
        let value: Int64?
        if body.hasPrefix("0x") {
            value = digits(body.dropFirst(2), radix: 16)
        } else if body.hasPrefix("0b") {
            value = digits(body.dropFirst(2), radix: 2)
        } else if body.hasPrefix("0o") {
            value = digits(body.dropFirst(2), radix: 8)
        } else if body == "0" {
            value = 0
        } else if body.hasPrefix("0") {
            value = digits(body.dropFirst(), radix: 8)
        } else if body.contains(":") {
            guard let first = body.first, first != "0", let parts = sexagesimal(body), !parts.fraction else { return nil }
            value = parts.whole
        } else {
            guard let first = body.first, first != "_" else { return nil }
            value = digits(body, radix: 10)
        }
        guard let value else { return nil }
        return negative ? 0 - value : value
    }

    private static func float(_ text: String) -> Double? {
        let (negative, body) = signed(text)
        switch body {
        case ".inf", ".Inf", ".INF": return negative ? -.infinity : .infinity
        case ".nan", ".NaN", ".NAN": return text == body ? .nan : nil
        default: break
        }
        let value: Double?
        if body.contains(":") {
            guard let first = body.first, first.isASCIIDigit, let parts = sexagesimal(body) else { return nil }
            value = parts.value
        } else {
            guard decimalFloat(body) else { return nil }
            value = Double(String(body.filter { $0 != "_" }))
        }
        return negative ? value.map { -$0 } : value
    }

    /// `[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?` or `\.[0-9_]+([eE][-+][0-9]+)?`.
    private static func decimalFloat(_ body: Substring) -> Bool {
        var rest = body[...]
        let whole = rest.prefix { $0.isASCIIDigit || $0 == "_" }
        rest = rest.dropFirst(whole.count)
        if let first = whole.first {
            guard first.isASCIIDigit else { return false }
        }
        var fraction: Substring = ""
        if rest.first == "." {
            fraction = rest.dropFirst().prefix { $0.isASCIIDigit || $0 == "_" }
            rest = rest.dropFirst(1 + fraction.count)
        } else if whole.isEmpty {
            return false
        }
        if whole.isEmpty, fraction.isEmpty { return false }
        guard let e = rest.first else { return true }
        guard e == "e" || e == "E" else { return false }
        rest = rest.dropFirst()
        if let sign = rest.first, sign == "+" || sign == "-" {
            rest = rest.dropFirst()
        } else if whole.isEmpty {
            return false  // `.5e3` needs its exponent's sign in YAML 1.1
        }
        return !rest.isEmpty && rest.allSatisfy(\.isASCIIDigit)
    }

    /// Base 60: `[0-9][0-9_]*(:[0-5]?[0-9])+`, the last part with an optional `.fraction`.
    private static func sexagesimal(_ body: Substring) -> (value: Double, whole: Int64?, fraction: Bool)? {
        var parts = body.split(separator: ":", omittingEmptySubsequences: false)
        var fractionText: Substring?
        if let last = parts.last, let dot = last.firstIndex(of: ".") {
            let fraction = last[last.index(after: dot)...]
            guard fraction.allSatisfy({ $0.isASCIIDigit || $0 == "_" }) else { return nil }
            (fractionText, parts[parts.count - 1]) = (fraction, last[..<dot])
        }
        guard let head = digits(parts[0], radix: 10) else { return nil }
        var whole: Int64? = head
        var value = Double(head)
        for part in parts.dropFirst() {
            guard (1...2).contains(part.count), part.allSatisfy(\.isASCIIDigit), let digit = Int64(part), digit < 60 else { return nil }
            whole = whole.flatMap { total in
                let (product, overflow) = total.multipliedReportingOverflow(by: 60)
                return overflow ? nil : product.addingReportingOverflow(digit).overflow ? nil : product + digit
            }
            value = value * 60 + Double(digit)
        }
        if let fractionText, let fraction = Double("0." + fractionText.filter { $0 != "_" }) { value += fraction }
        return (value, whole, fractionText != nil)
    }

    /// Digits of `radix` with `_` between them, as a non-negative number.
    private static func digits(_ text: Substring, radix: Int) -> Int64? {
        let plain = text.filter { $0 != "_" }
        guard !plain.isEmpty, plain.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        return Int64(plain, radix: radix)
    }

    private static func signed(_ text: String) -> (negative: Bool, body: Substring) {
        switch text.first {
        case "-": (true, text.dropFirst())
        case "+": (false, text.dropFirst())
        default: (false, text[...])
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
